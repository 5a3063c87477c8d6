//! The one list of columns that hold values sealed with the data key, and the [`SealedStore`]
//! queries over them on both backends, which a data-key rotation uses to seal every value again.
//! A new sealed column is one line in [`SEALED_COLUMNS`].
//!
//! [`SealedStore`]: edgeward_core::store::SealedStore

/// What a sealed value is bound to (its associated data), from its row key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The row key is a uuid; the context is its 16 bytes.
    Uuid,
    /// The row key's text itself.
    Key,
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

    /// The associated data a value of row `key` is sealed with; `None` when the key does not
    /// have the expected form.
    pub fn context_of(&self, key: &str) -> Option<Vec<u8>> {
        match self.context {
            Context::Uuid => uuid::Uuid::parse_str(key).ok().map(|u| u.as_bytes().to_vec()),
            Context::Key => Some(key.as_bytes().to_vec()),
        }
    }
}

/// Every column that holds values sealed with the data key.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn { table: "tokens", key: "uuid", column: "sealed_value", context: Context::Uuid },
    SealedColumn { table: "api_clients", key: "client_token", column: "sealed_secret", context: Context::Key },
    SealedColumn { table: "signing_keys", key: "kid", column: "sealed_pkcs8", context: Context::Key },
];

/// The column named `table.column`.
pub(crate) fn column(name: &str) -> Result<&'static SealedColumn, edgeward_core::Error> {
    SEALED_COLUMNS
        .iter()
        .find(|c| c.name() == name)
        .ok_or_else(|| edgeward_core::Error::Internal(format!("{name} is not a sealed column")))
}

/// The batch query; `?`/`$` placeholders are the backend's (after, prefix, prefix length, limit).
pub(crate) fn batch_sql(c: &SealedColumn, p: [&str; 4], substr: &str) -> String {
    let (table, key, col) = (c.table, c.key, c.column);
    format!(
        "SELECT {key}, {col} FROM {table} WHERE {col} IS NOT NULL AND {key} > {} AND {substr}({col}, 1, {}) <> {} \
         ORDER BY {key} LIMIT {}",
        p[0], p[2], p[1], p[3]
    )
}

/// The compare-and-swap update; placeholders: (new, key, old).
pub(crate) fn reseal_sql(c: &SealedColumn, p: [&str; 3]) -> String {
    let (table, key, col) = (c.table, c.key, c.column);
    format!("UPDATE {table} SET {col} = {} WHERE {key} = {} AND {col} = {}", p[0], p[1], p[2])
}
