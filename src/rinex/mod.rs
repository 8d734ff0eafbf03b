//! RINEX 3: reading observation and navigation files whatever their packing ([`read`], with
//! Hatanaka CRINEX expanded by [`crinex`]), and writing RINEX 3.04 observation and navigation
//! files ([`write`]).

pub mod crinex;
pub mod read;
pub mod write;

pub use read::{decode_bytes, read_nav, read_nav_klobuchar, read_obs, read_text};

/// Why a RINEX file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RinexError {
    #[error("line {line}: {what}")]
    Line { line: usize, what: String },
    #[error("not a RINEX 3 {0} file")]
    NotRinex3(&'static str),
    #[error("{path}: {what}")]
    Io { path: String, what: String },
}
