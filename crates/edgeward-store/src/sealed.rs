//! The one list of columns that hold values sealed with the data key, and the [`SealedStore`]
//! queries over them on both backends, which a data-key rotation uses to seal every value again.
//! A new sealed column is one line in [`SEALED_COLUMNS`].
//!
//! [`SealedStore`]: edgeward_core::store::SealedStore

/// What a sealed value is bound to (its associated data), from its row key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The row key's text itself.
    Key,
    /// The token's uuid (16 raw bytes), which the row holds sealed in the named column (itself
    /// sealed with the row key as context): open that first ([`SealedRow::via`]).
    ///
    /// [`SealedRow::via`]: edgeward_core::store::SealedRow::via
    UuidSealedIn(&'static str),
}

/// A column of sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    /// The table.
    pub table: &'static str,
    /// Its primary key (text).
    pub key: &'static str,
    /// The sealed column (bytes, nullable).
    pub column: &'static str,
    /// What each value is bound to.
    pub context: Context,
}

impl SealedColumn {
    /// `table.column`, the name the [`SealedStore`](edgeward_core::store::SealedStore) methods take.
    pub fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }

    /// The associated data a value of row `key` is sealed with. `open` opens a sealed value
    /// with the given context (the data key's); `via` is the row's [`SealedRow::via`]. `None`
    /// when the context cannot be had (`via` absent or not opening to a uuid).
    ///
    /// [`SealedRow::via`]: edgeward_core::store::SealedRow::via
    pub fn context_of(
        &self,
        key: &str,
        via: Option<&[u8]>,
        open: impl Fn(&[u8], &[u8]) -> Option<Vec<u8>>,
    ) -> Option<Vec<u8>> {
        match self.context {
            Context::Key => Some(key.as_bytes().to_vec()),
            Context::UuidSealedIn(_) => {
                let uuid = open(via?, key.as_bytes())?;
                (uuid.len() == 16).then_some(uuid)
            }
        }
    }
}

/// Every column that holds values sealed with the data key, on both backends (what a data-key
/// rotation seals again). Rows of `tokens` are keyed by token ref (see [`crate::refs`]);
/// `tokens.sealed_value` is bound to the uuid that `tokens.sealed_uuid` holds.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    // the token's uuid (context: the row's token_ref, 64 lowercase hex characters, as ASCII)
    SealedColumn { table: "tokens", key: "token_ref", column: "sealed_uuid", context: Context::Key },
    // the token's value (context: its uuid, 16 raw bytes)
    SealedColumn {
        table: "tokens",
        key: "token_ref",
        column: "sealed_value",
        context: Context::UuidSealedIn("sealed_uuid"),
    },
    SealedColumn { table: "api_clients", key: "client_token", column: "sealed_secret", context: Context::Key },
    SealedColumn { table: "signing_keys", key: "kid", column: "sealed_pkcs8", context: Context::Key },
    // the token-ref index key (context: the row's name, 'token-ref-index')
    SealedColumn { table: "sealed_keys", key: "name", column: "sealed", context: Context::Key },
];

/// The column named `table.column`.
pub(crate) fn column(name: &str) -> Result<&'static SealedColumn, edgeward_core::Error> {
    SEALED_COLUMNS
        .iter()
        .find(|c| c.name() == name)
        .ok_or_else(|| edgeward_core::Error::Internal(format!("{name} is not a sealed column")))
}

/// The batch query; `?`/`$` placeholders are the backend's (after, prefix, prefix length, limit);
/// `null_bytes` is the backend's typed null of bytes (the third column when there is no `via`).
pub(crate) fn batch_sql(c: &SealedColumn, p: [&str; 4], substr: &str, null_bytes: &str) -> String {
    let (table, key, col) = (c.table, c.key, c.column);
    let via = match c.context {
        Context::Key => null_bytes,
        Context::UuidSealedIn(via) => via,
    };
    format!(
        "SELECT {key}, {col}, {via} FROM {table} WHERE {col} IS NOT NULL AND {key} > {} AND {substr}({col}, 1, {}) <> {} \
         ORDER BY {key} LIMIT {}",
        p[0], p[2], p[1], p[3]
    )
}

/// The compare-and-swap update; placeholders: (new, key, old).
pub(crate) fn reseal_sql(c: &SealedColumn, p: [&str; 3]) -> String {
    let (table, key, col) = (c.table, c.key, c.column);
    format!("UPDATE {table} SET {col} = {} WHERE {key} = {} AND {col} = {}", p[0], p[1], p[2])
}
