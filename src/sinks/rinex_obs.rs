//! Hourly RINEX 3.04 observation files of one source, written live into the archive's day
//! directories from the epochs the station publishes. A file closes when an epoch starts a new
//! GPS hour, and at the end the hour in progress is written as it stands: a partial hour is
//! better than none. Header facts the configuration left empty (receiver, antenna, ARP) come from
//! what the stream told.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::archive::path_for;
use crate::gnss::obs::Epoch;
use crate::rinex::write::{ObsWriter, StationInfo};

/// Epochs the writer may fall behind before it loses some (an hour of a 1 Hz station).
pub const EPOCH_QUEUE: usize = 4096;

/// The hourly files of one source.
pub struct HourlyRinex {
    root: PathBuf,
    station: StationInfo,
    /// The file being written and its GPS hour.
    current: Option<(i64, ObsWriter)>,
    /// The kind of the last failure logged (log once per kind).
    logged: Option<String>,
}

impl HourlyRinex {
    pub fn new(root: PathBuf, station: StationInfo) -> Self {
        HourlyRinex {
            root,
            station,
            current: None,
            logged: None,
        }
    }

    fn failure(&mut self, what: &str, err: &std::io::Error) {
        let kind = format!("{what}: {:?}", err.kind());
        if self.logged.as_deref() != Some(kind.as_str()) {
            tracing::warn!(station = %self.station.name, error = %err, "{what}");
            self.logged = Some(kind);
        } else {
            tracing::debug!(station = %self.station.name, error = %err, "{what}");
        }
    }

    /// Write an epoch, first closing the file of the previous hour.
    pub fn epoch(&mut self, e: &Epoch, told: &StationInfo) {
        let hour = e.time.secs().div_euclid(3600);
        if self.current.as_ref().is_some_and(|(h, _)| *h != hour) {
            self.close(told);
        }
        if self.current.is_none() {
            let dir = path_for(&self.root, &self.station.name, e.time);
            let dir = dir
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| self.root.clone());
            match ObsWriter::create(&dir, self.station.clone(), "01H") {
                Ok(w) => self.current = Some((hour, w)),
                Err(err) => self.failure("cannot start the hourly RINEX file", &err),
            }
        }
        if let Some((_, w)) = self.current.as_mut()
            && let Err(err) = w.write(e)
        {
            self.failure("hourly RINEX write failed", &err);
        }
    }

    /// Close the file in progress.
    pub fn close(&mut self, told: &StationInfo) {
        if let Some((_, mut w)) = self.current.take() {
            w.learn(told);
            match w.close() {
                Ok(Some(p)) => tracing::info!(file = %p.display(), "hourly RINEX file written"),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "closing the hourly RINEX file failed"),
            }
        }
    }
}

/// Write the epochs of one source until its runner stops publishing them.
pub async fn run(
    mut files: HourlyRinex,
    mut epochs: broadcast::Receiver<Arc<Epoch>>,
    told: watch::Receiver<StationInfo>,
) {
    loop {
        match epochs.recv().await {
            Ok(e) => files.epoch(&e, &told.borrow()),
            Err(broadcast::error::RecvError::Lagged(n)) => tracing::error!(
                station = %files.station.name,
                epochs = n,
                "the hourly RINEX writer fell behind: epochs lost from the file (is the disk stuck?)"
            ),
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
    files.close(&told.borrow());
}
