//! Time series out: [`influx`] (through the spool) or, without a database, [`files`].

pub mod files;
pub mod influx;

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

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
