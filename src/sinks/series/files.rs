//! Time series without a database: line protocol in hourly files `series-YYYYMMDD-HH.lp`
//! (UTC hour of the points' own timestamps), ready for `influx write` or
//! `curl --data-binary @file …/write` once a database exists.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::DateTime;
use tokio::sync::mpsc;

use super::{SeriesError, SinkStatus};
use crate::telemetry::Point;

/// The file a point belongs to.
pub fn file_for(dir: &Path, time_ns: i64) -> PathBuf {
    let t = DateTime::from_timestamp(time_ns.div_euclid(1_000_000_000), 0).unwrap_or_default();
    dir.join(format!("series-{}.lp", t.format("%Y%m%d-%H")))
}

/// Write every batch that arrives until the channel closes.
pub async fn run(
    dir: PathBuf,
    mut points: mpsc::Receiver<Vec<Point>>,
    status: Arc<SinkStatus>,
) -> Result<(), SeriesError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SeriesError::File { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(at(&dir))?;
    let mut current: Option<(PathBuf, BufWriter<File>)> = None;
    let mut line = String::new();
    while let Some(batch) = points.recv().await {
        for p in &batch {
            line.clear();
            p.write_line(&mut line);
            if line.is_empty() {
                continue;
            }
            let path = file_for(&dir, p.time_ns);
            if current.as_ref().is_none_or(|(c, _)| *c != path) {
                if let Some((old, mut w)) = current.take() {
                    w.flush().map_err(at(&old))?;
                }
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(at(&path))?;
                current = Some((path, BufWriter::new(f)));
            }
            if let Some((path, w)) = current.as_mut() {
                w.write_all(line.as_bytes()).map_err(at(path))?;
            }
            status.points_written.fetch_add(1, Ordering::Relaxed);
        }
        if let Some((path, w)) = current.as_mut() {
            w.flush().map_err(at(path))?;
        }
    }
    if let Some((path, mut w)) = current.take() {
        w.flush().map_err(at(&path))?;
        w.get_ref().sync_data().map_err(at(&path))?;
    }
    Ok(())
}
