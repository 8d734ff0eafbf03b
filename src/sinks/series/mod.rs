//! Time series out: [`influx`] (through the spool) or, without a database, [`files`].

pub mod files;
pub mod influx;
mod resend;

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

/// Whether the sink delivers, for `/healthz`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Delivery {
    /// Every write so far succeeded (or none was needed yet).
    #[default]
    Ok,
    /// The last write failed (database down, 5xx, timeout): retried with backoff.
    Retrying,
    /// The database refused the credentials, database or URL: kept until the setting is fixed.
    Held,
    /// The sink stopped on an error (`last_error`): no more time series this run.
    Stopped,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Ok => "delivering",
            Delivery::Retrying => "retrying",
            Delivery::Held => "refused",
            Delivery::Stopped => "stopped",
        }
    }
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
    /// The spool's byte cap (0 without a spool).
    pub spool_max_bytes: AtomicU64,
    /// The last error of a write, kept after the writes succeed again.
    pub last_error: Mutex<Option<String>>,
    pub delivery: Mutex<Delivery>,
    /// Why the spool cannot take points now (`None` while it can).
    pub spool_error: Mutex<Option<String>>,
    /// The last error of the spool, kept after it recovered.
    pub spool_last_error: Mutex<Option<String>>,
}

fn set<T>(m: &Mutex<T>, v: T) {
    *m.lock().unwrap_or_else(|p| p.into_inner()) = v;
}

fn get<T: Clone>(m: &Mutex<T>) -> T {
    m.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

impl SinkStatus {
    /// A write failed: `delivery` tells whether it is retried or held.
    pub fn failed(&self, delivery: Delivery, error: String) {
        set(&self.delivery, delivery);
        set(&self.last_error, Some(error));
    }

    pub fn delivered(&self) {
        set(&self.delivery, Delivery::Ok);
    }

    pub fn delivery(&self) -> Delivery {
        get(&self.delivery)
    }

    pub fn last_error(&self) -> Option<String> {
        get(&self.last_error)
    }

    /// The spool could not take a batch (`Some`), or took one again (`None`).
    pub fn spool_failing(&self, error: Option<String>) {
        if let Some(e) = &error {
            set(&self.spool_last_error, Some(e.clone()));
        }
        set(&self.spool_error, error);
    }

    pub fn spool_error(&self) -> Option<String> {
        get(&self.spool_error)
    }

    pub fn spool_last_error(&self) -> Option<String> {
        get(&self.spool_last_error)
    }
}
