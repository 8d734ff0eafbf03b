//! The daily coordinate survey in the daemon: one thread at the lowest CPU priority, so that the
//! station's own work never waits for it. At start-up, at each GNSS day's end plus the margin
//! and every `recheck` (new products, days put in the archive) it surveys the archived days
//! that are complete and not on record, or on record without the precise products that have
//! arrived since ([`crate::station::survey::daily`]), sends their points to the series sink and records
//! each day in `DATA_DIR/coordinates-SSSS.jsonl` after its points went out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::coordinates::Coordinates;
use crate::config::Settings;
use crate::gnss::time::Gpst;
use crate::station::survey::daily::{self, DailySettings, StationFacts};
use crate::station::survey::state::State;
use crate::telemetry::Point;

/// Everything the thread needs, owned.
struct Job {
    settings: DailySettings,
    station: StationFacts,
    station_dir: PathBuf,
    state_path: PathBuf,
    points: mpsc::Sender<Vec<Point>>,
    stop: watch::Receiver<bool>,
    page: Arc<Coordinates>,
}

/// Starts the survey thread when `[coordinates]` is configured.
pub(super) fn spawn(
    settings: &Settings,
    points: &mpsc::Sender<Vec<Point>>,
    stop: &watch::Receiver<bool>,
    page: Arc<Coordinates>,
) -> Option<std::thread::JoinHandle<()>> {
    let s = settings.coordinates.clone()?;
    let archive = settings.archive.as_ref()?;
    let name = settings.station.name.clone();
    let job = Job {
        station_dir: archive.dir.join(&name),
        state_path: settings.data_dir.join(format!("coordinates-{name}.jsonl")),
        station: StationFacts {
            name,
            position: settings.station.position,
            antenna: settings.station.antenna.clone(),
        },
        settings: s,
        points: points.clone(),
        stop: stop.clone(),
        page,
    };
    tracing::info!(products = %job.settings.products.display(), state = %job.state_path.display(), recheck_s = job.settings.recheck_s, margin_s = job.settings.margin_s, "daily coordinates: the archived days surveyed by PPP at start-up, at each day's end plus the margin, and again every recheck for new days and products");
    std::thread::Builder::new()
        .name("daily-coordinates".into())
        .spawn(move || run(job))
        .ok()
}

fn lowest_priority() {
    // Linux keeps a nice value per thread: this one only, not the daemon.
    // SAFETY: plain system calls on the calling thread, no memory handed over.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

fn run(job: Job) {
    lowest_priority();
    let mut state = State::load(&job.state_path);
    job.page.load(&state);
    let mut first = true;
    loop {
        scan(&job, &mut state, first);
        first = false;
        let wait = daily::next_look(Gpst::from_utc(chrono::Utc::now()), &job.settings);
        tracing::debug!(
            seconds = format!("{wait:.0}"),
            "daily coordinates: next look"
        );
        if !sleep(&job, Duration::from_secs_f64(wait)) {
            return;
        }
    }
}

fn stopped(job: &Job) -> bool {
    *job.stop.borrow()
}

/// Sleeps `wait`; false when the daemon stops first.
fn sleep(job: &Job, wait: Duration) -> bool {
    let until = std::time::Instant::now() + wait;
    loop {
        if stopped(job) {
            return false;
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(500)));
    }
}

/// Surveys the pending days; `first` (start-up) says so in the log even when there is none.
fn scan(job: &Job, state: &mut State, first: bool) {
    let now = Gpst::from_utc(chrono::Utc::now());
    let days = daily::pending(&job.station_dir, now, &job.settings, state);
    if days.is_empty() {
        if first {
            tracing::info!(
                on_record = state.days.len(),
                state = %job.state_path.display(),
                "daily coordinates: nothing to survey"
            );
        }
        return;
    }
    tracing::info!(days = days.len(), first = %days[0].label(), "daily coordinates: surveying archived days");
    let antex = match crate::station::survey::read_antex(&job.settings.atx, "atx", None) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("daily coordinates: the ANTEX files cannot be read: {e}");
            return;
        }
    };
    for day in days {
        let dir = job
            .station_dir
            .join(format!("{:04}", day.year))
            .join(format!("{:03}", day.doy));
        let trend = state.previous(day, job.settings.trend_days);
        let started = std::time::Instant::now();
        let go_on = || !stopped(job);
        let Some(out) = daily::survey_day(
            &dir,
            day,
            &job.station,
            &job.settings,
            &antex,
            &trend,
            &go_on,
        ) else {
            return;
        };
        for (warn, line) in &out.log {
            if *warn {
                tracing::warn!("daily coordinates: {line}");
            } else {
                tracing::info!("daily coordinates: {line}");
            }
        }
        job.page.observe(&out.record, &out.points);
        if !out.points.is_empty() && job.points.blocking_send(out.points).is_err() {
            return;
        }
        if let Err(e) = state.record(day, out.record) {
            tracing::error!(state = %job.state_path.display(), "daily coordinates: cannot record the day ({e}): it is surveyed again after a restart");
        }
        tracing::info!(day = %day.label(), seconds = format!("{:.2}", started.elapsed().as_secs_f64()), "daily coordinates: day done");
    }
}
