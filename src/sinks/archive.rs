//! The raw archive (DESIGN §5): every valid frame, untouched and in order, in hourly files
//! `ARCHIVE/SSSS/YYYY/DDD/SSSS_YYYYDDD_HH.rtcm3`, rotated by the GNSS time of the data — not
//! the wall clock — so a file holds exactly the epochs of its hour, whatever the link delays.
//! Every frame goes to exactly one file: an MSM carries its epoch's time; other frames follow
//! the current data time. Frames that arrive before any time is known go to the first file.
//!
//! Files older than the retention are deleted by day directory. Below the free-space floor the
//! archive stops writing (and says so at ERROR, once) rather than fill the disk the spool and the
//! operating system need; it resumes when space comes back.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Datelike, Timelike};
use tokio::sync::{broadcast, watch};

use crate::framing::RawFrame;
use crate::gnss::time::Gpst;
use crate::telemetry::Problem;

/// `[archive]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchiveSettings {
    pub dir: PathBuf,
    pub retention_days: u32,
    pub min_free_bytes: u64,
    /// Hourly RINEX observation files, written live.
    pub rinex: bool,
}

/// Counters for `/metrics`, state for `/healthz`.
#[derive(Debug, Default)]
pub struct ArchiveStatus {
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    /// Frames not written: disk below the floor, or the writer fell behind the fan-out.
    pub dropped: AtomicU64,
    pub files: AtomicU64,
    /// Why it fails now, and the last problem it had.
    pub health: Problem,
}

impl ArchiveStatus {
    /// `Some` while the archive cannot write; the first call of an episode returns `true`.
    fn set_problem(&self, problem: Option<String>) -> bool {
        self.health.set(problem)
    }

    pub fn problem(&self) -> Option<String> {
        self.health.now()
    }

    pub fn last_error(&self) -> Option<String> {
        self.health.last()
    }
}

/// How often the archive checks its directory, the open file and the free space.
const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The hour file of a GNSS time (named by its GPS-time calendar hour).
pub fn path_for(dir: &Path, station: &str, t: Gpst) -> PathBuf {
    // GPS time as a calendar (no leap seconds), so hours do not shift at a leap.
    let c = t.calendar();
    let (y, doy, h) = (c.year(), c.ordinal(), c.hour());
    dir.join(station)
        .join(format!("{y:04}"))
        .join(format!("{doy:03}"))
        .join(format!("{station}_{y:04}{doy:03}_{h:02}.rtcm3"))
}

/// Free bytes on the file system holding `p`.
pub fn free_bytes(p: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a writable statvfs.
    let r = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (r == 0).then(|| s.f_bavail as u64 * s.f_frsize as u64)
}

/// The archive writer.
pub struct Archive {
    settings: ArchiveSettings,
    station: String,
    current: Option<(PathBuf, BufWriter<File>)>,
    pub status: Arc<ArchiveStatus>,
    below_floor: bool,
    last_space_check: Option<std::time::Instant>,
}

impl Archive {
    pub fn new(settings: ArchiveSettings, station: &str, status: Arc<ArchiveStatus>) -> Self {
        Archive {
            settings,
            station: station.to_string(),
            current: None,
            status,
            below_floor: false,
            last_space_check: None,
        }
    }

    /// Every [`CHECK_EVERY`]: the directory can be made, the open file is still the one at its
    /// path (a directory moved or deleted under a running archive would take every frame into a
    /// file nobody can see), and the disk is above the floor.
    fn space_ok(&mut self) -> bool {
        let due = self
            .last_space_check
            .is_none_or(|t| t.elapsed() >= CHECK_EVERY);
        if due {
            self.last_space_check = Some(std::time::Instant::now());
            if let Err(e) = std::fs::create_dir_all(&self.settings.dir) {
                let problem = format!(
                    "{}: cannot create the directory: {e}",
                    self.settings.dir.display()
                );
                self.fail(problem);
            }
            if let Some((path, w)) = &self.current
                && !same_file(path, w.get_ref())
            {
                tracing::warn!(file = %path.display(), "archive: the open file is no longer at its path; opening it again");
                self.current = None;
            }
            let free = free_bytes(&self.settings.dir).unwrap_or(u64::MAX);
            let below = free < self.settings.min_free_bytes;
            if below && !self.below_floor {
                tracing::error!(
                    dir = %self.settings.dir.display(),
                    free_bytes = free,
                    floor = self.settings.min_free_bytes,
                    "archive stopped: the disk is below its free-space floor; free space or lower [archive] min_free (the correction feed and time series go on)"
                );
                self.status.set_problem(Some(format!(
                    "{}: {free} bytes free, below the floor of {} bytes",
                    self.settings.dir.display(),
                    self.settings.min_free_bytes
                )));
            } else if !below && self.below_floor {
                tracing::info!(dir = %self.settings.dir.display(), "archive resumed: free space is above the floor again");
                self.status.set_problem(None);
            }
            self.below_floor = below;
        }
        !self.below_floor
    }

    /// A write failed: said at ERROR once per episode, counted always.
    fn fail(&mut self, problem: String) {
        if self.status.set_problem(Some(problem.clone())) {
            tracing::error!(error = %problem, "archive write failed: frames are not archived until it can write again");
        }
        // The next frame opens its file again.
        self.current = None;
    }

    /// Write one frame; a failure is counted, logged once and kept in the status.
    pub fn write(&mut self, f: &RawFrame) -> Result<(), String> {
        if f.made {
            // The archive keeps what the receiver sent: a replay makes the rest again.
            return Ok(());
        }
        let r = self.write_frame(f);
        match &r {
            Err(e) => {
                self.status.dropped.fetch_add(1, Ordering::Relaxed);
                self.fail(e.clone());
            }
            Ok(()) if !self.below_floor && self.status.problem().is_some() => {
                if self.current.is_some() && self.status.set_problem(None) {
                    tracing::info!(dir = %self.settings.dir.display(), "archive: writing again");
                }
            }
            Ok(()) => {}
        }
        r
    }

    fn write_frame(&mut self, f: &RawFrame) -> Result<(), String> {
        let at = |p: &Path| {
            let p = p.display().to_string();
            move |e: std::io::Error| format!("{p}: {e}")
        };
        if !self.space_ok() {
            self.status.dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let target = f
            .data_time_ns
            .map(|t| path_for(&self.settings.dir, &self.station, Gpst::from_gps_ns(t)));
        let rotate = match (&self.current, &target) {
            (None, Some(_)) => true,
            (Some((cur, _)), Some(t)) => cur != t,
            (_, None) => false,
        };
        if rotate && let Some(path) = target {
            if let Some((old, _)) = &self.current {
                let old = old.clone();
                self.close().map_err(at(&old))?;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(at(parent))?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(at(&path))?;
            tracing::debug!(file = %path.display(), "archive file");
            self.status.files.fetch_add(1, Ordering::Relaxed);
            self.current = Some((path, BufWriter::with_capacity(64 * 1024, file)));
            self.retention();
        }
        match self.current.as_mut() {
            Some((path, w)) => {
                w.write_all(&f.bytes).map_err(at(path))?;
                self.status.frames.fetch_add(1, Ordering::Relaxed);
                self.status
                    .bytes
                    .fetch_add(f.bytes.len() as u64, Ordering::Relaxed);
            }
            // Nothing dates the stream yet: the frame has no hour to go to.
            None => {
                self.status.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Flush and sync the open file.
    pub fn close(&mut self) -> std::io::Result<()> {
        if let Some((_, mut w)) = self.current.take() {
            w.flush()?;
            w.get_ref().sync_data()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        if let Some((_, w)) = self.current.as_mut() {
            w.flush()?;
        }
        Ok(())
    }

    /// Delete day directories older than the retention.
    fn retention(&self) {
        let days = self.settings.retention_days as i64;
        let today = chrono::Utc::now().date_naive();
        let root = self.settings.dir.join(&self.station);
        let Ok(years) = std::fs::read_dir(&root) else {
            return;
        };
        for y in years.flatten() {
            let Some(year) = y.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(doys) = std::fs::read_dir(y.path()) else {
                continue;
            };
            for d in doys.flatten() {
                let Some(doy) = d.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                let Some(date) = chrono::NaiveDate::from_yo_opt(year, doy) else {
                    continue;
                };
                if (today - date).num_days() > days {
                    match std::fs::remove_dir_all(d.path()) {
                        Ok(()) => {
                            tracing::info!(dir = %d.path().display(), "archive: day removed after the retention period")
                        }
                        Err(e) => {
                            tracing::warn!(dir = %d.path().display(), error = %e, "archive: cannot remove an expired day")
                        }
                    }
                }
            }
        }
    }
}

/// Run the archive on the raw fan-out until shutdown.
pub async fn run(
    mut archive: Archive,
    mut frames: broadcast::Receiver<RawFrame>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut flush = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            f = frames.recv() => match f {
                Ok(f) => {
                    let _ = archive.write(&f);
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    archive.status.dropped.fetch_add(n, Ordering::Relaxed);
                    tracing::error!(frames = n, "archive fell behind the stream: frames not archived");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = flush.tick() => {
                if let Err(e) = archive.flush() {
                    let problem = format!("{}: {e}", archive.settings.dir.display());
                    archive.fail(problem);
                }
            }
            _ = shutdown.changed() => {
                // Take what is already queued, then stop.
                while let Ok(f) = frames.try_recv() {
                    let _ = archive.write(&f);
                }
                break;
            }
        }
    }
    if let Err(e) = archive.close() {
        tracing::error!(error = %e, "archive: closing the last file failed");
    }
}

/// Whether the file at `path` is `file` (same device and inode).
fn same_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
