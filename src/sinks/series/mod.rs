//! Time series out: [`influx`] (through the spool) or, without a database, [`files`].

pub mod files;
pub mod influx;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use crate::spool::SpoolError;

/// Why a time-series sink stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeriesError {
    /// The HTTP client for the database could not be made (TLS set-up, a bad URL).
    #[error("InfluxDB client for {url}: {source}")]
    Client {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The spool cannot take or keep the points.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// A line-protocol file or its directory cannot be written.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Counters for `/metrics` and the status page.
#[derive(Debug, Default)]
pub struct SinkStatus {
    pub points_accepted: AtomicU64,
    pub points_written: AtomicU64,
    pub points_rejected: AtomicU64,
    pub points_evicted: AtomicU64,
    pub batches_written: AtomicU64,
    pub write_errors: AtomicU64,
    pub spool_bytes: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}
