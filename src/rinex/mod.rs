//! RINEX 3: reading observation and navigation files whatever their packing ([`read`], with
//! Hatanaka CRINEX expanded or decoded straight into epochs by [`crinex`], both through `obs`),
//! and writing RINEX 3.04 observation and navigation files ([`write`]).

pub mod crinex;
pub mod lzw;
mod obs;
pub mod read;
pub mod write;

pub use obs::ObsFile;
pub use read::{
    decode_bytes, read_head, read_header, read_nav, read_nav_glonass_channels, read_nav_klobuchar,
    read_obs, read_obs_file, read_obs_of, read_text,
};

/// Why a RINEX file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RinexError {
    /// A line that does not hold what the format puts there.
    #[error("line {line}: {what}")]
    Line { line: usize, what: String },
    /// A compressed (CRINEX) field that cannot be expanded.
    #[error("line {line}: {field}: {error}")]
    Field {
        line: usize,
        /// What the field is (`clock offset`, or the satellite it belongs to).
        field: String,
        #[source]
        error: crinex::FieldError,
    },
    #[error("not a RINEX 3 {0} file")]
    NotRinex3(&'static str),
    /// The file cannot be read or unpacked (`path` is empty for bytes without a file).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
