//! Namespace rights: read `r`, write `w`, delete `d`.

use std::fmt;

use crate::error::Error;

/// A non-empty set of rights on one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permissions(u8);

/// One right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    /// `r`: GET items.
    Read = 1,
    /// `w`: PUT items.
    Write = 2,
    /// `d`: DELETE items.
    Delete = 4,
}

impl Right {
    fn letter(self) -> &'static str {
        match self {
            Self::Read => "r",
            Self::Write => "w",
            Self::Delete => "d",
        }
    }
    const ALL: [Right; 3] = [Right::Read, Right::Write, Right::Delete];
}

impl Permissions {
    /// Parse a list of letters: a non-empty subset of `r`, `w`, `d`, no repeats.
    pub fn parse<S: AsRef<str>>(letters: &[S]) -> Result<Self, Error> {
        if letters.is_empty() {
            return Err(Error::invalid(
                "namespacePermissions",
                "Invalid permission: at least one of r, w, d is required.",
            ));
        }
        let mut bits = 0u8;
        for l in letters {
            let right = Right::ALL.into_iter().find(|r| r.letter() == l.as_ref()).ok_or_else(|| {
                Error::invalid(
                    "namespacePermissions",
                    format!("Invalid permission '{}': use r, w or d.", l.as_ref().escape_debug()),
                )
            })?;
            if bits & right as u8 != 0 {
                return Err(Error::invalid(
                    "namespacePermissions",
                    format!("Invalid permission: '{}' is repeated.", right.letter()),
                ));
            }
            bits |= right as u8;
        }
        Ok(Self(bits))
    }

    /// Whether `right` is included.
    pub fn allows(self, right: Right) -> bool {
        self.0 & right as u8 != 0
    }

    /// Letters in canonical order `r`, `w`, `d`.
    pub fn letters(self) -> Vec<&'static str> {
        Right::ALL.into_iter().filter(|r| self.allows(*r)).map(Right::letter).collect()
    }

    /// Compact form, e.g. `rw`.
    pub fn compact(self) -> String {
        self.letters().concat()
    }

    /// Parse the compact form (`rwd`).
    pub fn parse_compact(s: &str) -> Result<Self, Error> {
        let letters: Vec<String> = s.chars().map(String::from).collect();
        Self::parse(&letters)
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.compact())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(Permissions::parse(&["d", "r"]).unwrap().letters(), vec!["r", "d"]);
        assert!(Permissions::parse::<&str>(&[]).is_err());
        assert!(Permissions::parse(&["r", "r"]).is_err());
        assert!(Permissions::parse(&["x"]).is_err());
        assert!(Permissions::parse(&["R"]).is_err());
    }

    proptest! {
        #[test]
        fn accepted_iff_nonempty_unique_subset(letters in proptest::collection::vec("[rwdx]", 0..5)) {
            let ok = !letters.is_empty()
                && letters.iter().all(|l| l != "x")
                && { let mut s = letters.clone(); s.sort(); s.dedup(); s.len() == letters.len() };
            let parsed = Permissions::parse(&letters);
            prop_assert_eq!(parsed.is_ok(), ok);
            if let Ok(p) = parsed {
                prop_assert_eq!(p.letters().len(), letters.len());
                prop_assert_eq!(Permissions::parse_compact(&p.compact()).unwrap(), p);
            }
        }
    }
}
