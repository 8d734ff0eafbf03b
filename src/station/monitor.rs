//! The integrity monitor: a check receiver at a known point, solved in RTK against exactly what
//! one caster mount serves, as a rover in the field would be.
//!
//! The mount's bytes (after its message set and any MSM7→MSM4 conversion) are framed and decoded
//! here as a rover decodes them: base epochs, the station's ARP from 1005/1006 and its antenna
//! from 1008/1033. The check receiver's frames go through the same [`StationState`]. The
//! ephemerides of both streams fill one store as they arrive. Each check epoch waits up to
//! `max_wait_s` of data time for the base epoch of the same instant (the mount may run behind
//! the check receiver), then is solved with the latest base epoch before it.
//!
//! Every solution becomes an `rtk` point (DESIGN §4) with its error against the check
//! receiver's known coordinates; a reset on a schedule restarts the filter so that the time to
//! fix is measured the way a rover that just connected experiences it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nalgebra::Vector3;

use super::state::StationState;
use crate::framing::{FrameKind, Framer};
use crate::gnss::antex::{Antenna, Antex};
use crate::gnss::geodesy::enu;
use crate::gnss::obs::Epoch;
use crate::gnss::rtk::{Antennas, Quality, Rtk, RtkOptions, RtkSkip, RtkSolution};
use crate::gnss::time::Gpst;
use crate::messages::rtcm3::{self, Message};
use crate::sources::SourceSettings;
use crate::telemetry::{Point, gpst_to_unix_ns};

/// Base epochs are kept for matching this long (s of data time) beyond `max_wait_s`: as long as
/// the check receiver may run behind the mount (an epoch of a 1 Hz station is about 10 kB).
const BASE_KEEP_S: f64 = 10.0;
/// Events of one kind are raised at most this often (s).
const EVENT_EVERY_S: f64 = 60.0;
/// The mount silent this long (wall clock) while the check receiver streams: no corrections.
const NO_CORRECTIONS: Duration = Duration::from_secs(30);
/// Check epochs that may wait for their base epoch at most (a bound on memory when the mount
/// stops).
const PENDING_MAX: usize = 600;

/// One `[[monitor]]` as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorSettings {
    pub name: String,
    /// The caster mountpoint whose output is the base.
    pub mount: String,
    /// The check receiver.
    pub source: SourceSettings,
    /// The check receiver's known antenna reference point (ECEF, m), in `frame`.
    pub position: Vector3<f64>,
    pub frame: String,
    /// The check receiver's antenna (ANTEX name); empty: as its stream says (1008/1033).
    pub antenna: String,
    /// How long (s of data time) a check epoch waits for the base epoch of the same time.
    pub max_wait_s: f64,
    /// The filter restarts this often (data time), to measure the time to fix.
    pub reset_every: Option<Duration>,
    /// A fixed solution farther than this (3D, m) from the known point is a wrong fix.
    pub max_error_m: f64,
    /// The fix rate is judged over this much data time ...
    pub fix_window: Duration,
    /// ... and is low under this share of the check epochs (%).
    pub min_fix_percent: f64,
}

/// What `/healthz` and `/metrics` read.
#[derive(Debug, Default)]
pub struct MonitorStatus {
    pub inner: Mutex<MonitorState>,
}

/// The monitor's latest facts.
#[derive(Clone, Debug, Default)]
pub struct MonitorState {
    /// Solutions since start, and how many of them were fixed.
    pub solutions: u64,
    pub fixed: u64,
    /// Fixed solutions farther than the threshold from the known point.
    pub wrong_fixes: u64,
    /// Check epochs without a solution, and why the last one had none.
    pub skipped: u64,
    pub last_skip: Option<String>,
    /// Frames received from the mount and from the check receiver.
    pub mount_frames: u64,
    pub check_frames: u64,
    /// The latest solution: quality (1 fixed, 2 float), ratio, E/N/U error (m), age (s),
    /// satellites, and when it came (wall clock).
    pub last: Option<LastSolution>,
    /// Time to the first fix after the latest (re)start of the filter (s of data time).
    pub ttff_s: Option<f64>,
    /// The latest event's message, and whether its condition still holds.
    pub event: Option<String>,
    pub alarm: bool,
    /// The fix rate over the window (%, once a whole window of data has been seen), and
    /// whether it is under the threshold.
    pub window_fix_percent: Option<f64>,
    pub low_fix_rate: bool,
}

#[derive(Clone, Debug)]
pub struct LastSolution {
    pub fix: u8,
    pub ratio: f64,
    pub enu: [f64; 3],
    pub age_s: f64,
    pub nsat: usize,
    pub baseline_m: f64,
    pub at: Instant,
}

impl MonitorStatus {
    pub fn get(&self) -> MonitorState {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn with(&self, f: impl FnOnce(&mut MonitorState)) {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// The antenna calibrations of the monitors: every satellite's, shared, and a receiver
/// antenna's by its descriptor, looked up when a stream or the configuration first names it
/// (so that the daemon holds the few receiver antennas in use, not an ANTEX file's hundreds).
#[derive(Clone)]
pub struct AntennaModels {
    pub satellites: Arc<Antex>,
    pub receiver: Arc<dyn Fn(&str) -> Option<Antenna> + Send + Sync>,
}

/// The monitor's state machine (no IO but the antenna look-up): bytes and frames in, `rtk`
/// points out.
pub struct Monitor {
    settings: MonitorSettings,
    station: String,
    /// The station's antenna as configured, when the mount does not say it.
    station_antenna: String,
    atx: Option<AntennaModels>,
    /// Receiver antennas looked up, by descriptor.
    receivers: HashMap<String, Option<Antenna>>,
    opts: RtkOptions,
    framer: Framer,
    /// The mount's stream as a rover decodes it; its store holds both streams' ephemerides.
    base: StationState,
    check: StationState,
    base_epochs: VecDeque<Epoch>,
    pending: VecDeque<(Epoch, Instant)>,
    engine: Option<Rtk>,
    /// The base ARP the engine was made for.
    engine_base: Option<[f64; 3]>,
    /// Data time of the latest (re)start of the filter.
    started: Option<Gpst>,
    ttff_s: Option<f64>,
    /// Data time of the latest wrong-fix event.
    wrong_event: Option<Gpst>,
    /// When the mount last gave a base epoch, and whether its silence was told.
    last_base: Instant,
    silence_told: bool,
    window: FixWindow,
    pub status: Arc<MonitorStatus>,
}

/// The share of check epochs solved fixed over a sliding window of data time, kept as one
/// count per second (a bound of one entry per second of the window, whatever the rate).
#[derive(Debug)]
pub struct FixWindow {
    span_s: i64,
    /// (GPS second, check epochs, of them fixed)
    seconds: VecDeque<(i64, u32, u32)>,
    /// The first second seen since the start or since time went back.
    first: Option<i64>,
}

impl FixWindow {
    pub fn new(span: Duration) -> Self {
        FixWindow {
            span_s: span.as_secs().max(1) as i64,
            seconds: VecDeque::new(),
            first: None,
        }
    }

    /// One check epoch; the fix rate (%) over the window once a whole window has been seen,
    /// with the epochs and fixed epochs it counts.
    pub fn add(&mut self, t: Gpst, fixed: bool) -> Option<(f64, u32, u32)> {
        let sec = t.secs();
        if self.seconds.back().is_some_and(|b| b.0 > sec) {
            // Time went back (a looped recording, a new stream): a new window.
            self.seconds.clear();
            self.first = None;
        }
        let first = *self.first.get_or_insert(sec);
        match self.seconds.back_mut() {
            Some(b) if b.0 == sec => {
                b.1 += 1;
                b.2 += u32::from(fixed);
            }
            _ => self.seconds.push_back((sec, 1, u32::from(fixed))),
        }
        while self
            .seconds
            .front()
            .is_some_and(|b| b.0 <= sec - self.span_s)
        {
            self.seconds.pop_front();
        }
        if sec - first + 1 < self.span_s {
            return None;
        }
        let (n, f) = self
            .seconds
            .iter()
            .fold((0, 0), |(n, f), b| (n + b.1, f + b.2));
        Some((100.0 * f64::from(f) / f64::from(n.max(1)), n, f))
    }
}

impl Monitor {
    /// `reference` dates streams without a 1013 message (a live receiver: now); `atx` models
    /// both antennas and the satellites'.
    pub fn new(
        settings: MonitorSettings,
        station: &str,
        station_antenna: &str,
        atx: Option<AntennaModels>,
        reference: Option<Gpst>,
    ) -> Monitor {
        Monitor {
            window: FixWindow::new(settings.fix_window),
            settings,
            station: station.to_string(),
            station_antenna: station_antenna.to_string(),
            atx,
            receivers: HashMap::new(),
            opts: RtkOptions::default(),
            framer: Framer::new(),
            base: StationState::new(reference),
            check: StationState::new(reference),
            base_epochs: VecDeque::new(),
            pending: VecDeque::new(),
            engine: None,
            engine_base: None,
            started: None,
            ttff_s: None,
            wrong_event: None,
            last_base: Instant::now(),
            silence_told: false,
            status: Arc::default(),
        }
    }

    pub fn settings(&self) -> &MonitorSettings {
        &self.settings
    }

    /// Bytes as the mount serves them.
    pub fn mount_bytes(&mut self, bytes: &[u8], now: Instant) -> Vec<Point> {
        self.framer.push(bytes);
        let mut frames = 0u64;
        while let Some(f) = self.framer.next_frame() {
            if f.kind != FrameKind::Rtcm3 {
                continue;
            }
            frames += 1;
            let Ok(m) = rtcm3::decode(f.payload()) else {
                continue;
            };
            if let Some(e) = self.base.push(&m) {
                self.last_base = now;
                self.base_epochs.push_back(e);
                while let Some(e) = self.base.take_ready() {
                    self.base_epochs.push_back(e);
                }
            }
        }
        if self.check.reference.is_none() {
            self.check.reference = self.base.reference;
        }
        self.status.with(|s| s.mount_frames += frames);
        if let Some(last) = self.base_epochs.back().map(|e| e.time) {
            let keep_s = self.settings.max_wait_s + BASE_KEEP_S;
            while self
                .base_epochs
                .front()
                .is_some_and(|e| last.diff(e.time) > keep_s)
            {
                self.base_epochs.pop_front();
            }
        }
        self.solve(false, now)
    }

    /// One RTCM3 frame (whole, with header and CRC) of the check receiver.
    pub fn check_frame(&mut self, frame: &[u8], now: Instant) -> Vec<Point> {
        if frame.len() < 6 {
            return Vec::new();
        }
        self.status.with(|s| s.check_frames += 1);
        let Ok(m) = rtcm3::decode(&frame[3..frame.len() - 3]) else {
            return Vec::new();
        };
        if is_ephemeris(&m) {
            // The store of the base side serves both receivers.
            if self.base.reference.is_none() {
                self.base.reference = self.check.reference;
            }
            self.base.push(&m);
        }
        if let Some(e) = self.check.push(&m) {
            self.queue(e, now);
            while let Some(e) = self.check.take_ready() {
                self.queue(e, now);
            }
        }
        self.solve(false, now)
    }

    fn queue(&mut self, e: Epoch, now: Instant) {
        if self.base.reference.is_none() {
            self.base.reference = Some(e.time);
        }
        if self.pending.len() >= PENDING_MAX {
            self.pending.pop_front();
            self.skip(&RtkSkip::NoBase {
                max_age_s: self.opts.max_age_s,
            });
        }
        self.pending.push_back((e, now));
    }

    /// Solve the check epochs that waited long enough in wall time, when the mount is silent.
    pub fn tick(&mut self, now: Instant) -> Vec<Point> {
        let mut out = self.solve(true, now);
        let silent = now.duration_since(self.last_base) > NO_CORRECTIONS;
        let checking = self.check.reference.is_some() && !self.pending.is_empty();
        if silent && checking && !self.silence_told {
            self.silence_told = true;
            let at = self.pending.back().map(|(e, _)| e.time);
            let msg = format!(
                "monitor {}: no corrections from mount {} for {} s while the check receiver streams: check the station's source and the mount's message set",
                self.settings.name,
                self.settings.mount,
                NO_CORRECTIONS.as_secs()
            );
            out.extend(at.map(|t| self.event(t, "no_corrections", msg)));
        } else if !silent && self.silence_told {
            self.silence_told = false;
            self.status.with(|s| s.alarm = false);
        }
        out
    }

    fn event(&self, t: Gpst, kind: &'static str, message: String) -> Point {
        tracing::warn!(monitor = %self.settings.name, kind, "{message}");
        self.status.with(|s| {
            s.event = Some(message.clone());
            s.alarm |= kind != "fix_rate";
        });
        self.event_point(t, kind, message)
    }

    fn event_point(&self, t: Gpst, kind: &'static str, message: String) -> Point {
        Point::new("event", gpst_to_unix_ns(t))
            .tag("station", self.station.clone())
            .tag("monitor", self.settings.name.clone())
            .tag("kind", kind)
            .field("message", message)
    }

    /// Solve every check epoch whose base epoch is there or no longer expected.
    fn solve(&mut self, timer: bool, now: Instant) -> Vec<Point> {
        let mut out = Vec::new();
        let wait = self.settings.max_wait_s;
        while let Some((front, arrived)) = self.pending.front() {
            let t = front.time;
            let newest_base = self.base_epochs.back().map(|e| e.time);
            let newest_check = self.pending.back().map(|(e, _)| e.time).unwrap_or(t);
            let ready = newest_base.is_some_and(|b| b.diff(t) >= 0.0)
                || newest_check.diff(t) > wait
                || (timer && now.duration_since(*arrived).as_secs_f64() > wait);
            if !ready {
                break;
            }
            let Some((rover, _)) = self.pending.pop_front() else {
                break;
            };
            let base = self
                .base_epochs
                .iter()
                .rev()
                .find(|b| b.time.diff(t) <= 1e-6)
                .cloned();
            let fixed = match base {
                Some(b) => match self.process(&rover, &b) {
                    Ok(s) => {
                        let (p, wrong) = self.point(&s, now);
                        out.push(p);
                        out.extend(wrong);
                        matches!(s.quality, Quality::Fixed)
                    }
                    Err(e) => {
                        self.skip(&e);
                        false
                    }
                },
                None => {
                    self.skip(&RtkSkip::NoBase {
                        max_age_s: self.opts.max_age_s,
                    });
                    false
                }
            };
            out.extend(self.fix_rate(t, fixed));
        }
        out
    }

    /// The fix rate over the window after one more check epoch (a rover's experience: epochs
    /// without a solution count as not fixed); an event when it falls under the threshold and
    /// when it is back.
    fn fix_rate(&mut self, t: Gpst, fixed: bool) -> Option<Point> {
        let (pct, n, f) = self.window.add(t, fixed)?;
        let min = self.settings.min_fix_percent;
        let was_low = self.status.get().low_fix_rate;
        self.status.with(|s| s.window_fix_percent = Some(pct));
        let secs = self.settings.fix_window.as_secs();
        let window = if secs % 60 == 0 {
            format!("{} min", secs / 60)
        } else {
            format!("{secs} s")
        };
        let (name, mount) = (&self.settings.name, &self.settings.mount);
        if pct < min && !was_low {
            let st = self.status.get();
            let last = match &st.last {
                Some(l) if l.fix != 1 => format!(
                    "latest solution float, ratio {:.1}, {} satellites, age {:.1} s",
                    l.ratio, l.nsat, l.age_s
                ),
                Some(_) => "latest solution fixed".to_string(),
                None => "no solution yet".to_string(),
            };
            let why = st
                .last_skip
                .map(|w| format!("; latest epoch without a solution: {w}"))
                .unwrap_or_default();
            let msg = format!(
                "monitor {name}: fixed {pct:.1} % of the check epochs over the last {window} ({f} of {n}; threshold {min} %) on mount {mount}, {last}{why}: check the mount's message set (phase observations for two bands per system, the systems a rover fixes), the age of corrections, the station's receiver and its sky"
            );
            self.status.with(|s| s.low_fix_rate = true);
            return Some(self.event(t, "fix_rate", msg));
        }
        if pct >= min && was_low {
            let msg = format!(
                "monitor {name}: the fix rate on mount {mount} is back to {pct:.1} % over the last {window} ({f} of {n}; threshold {min} %)"
            );
            tracing::info!(monitor = %name, kind = "fix_rate_recovered", "{msg}");
            self.status.with(|s| {
                s.low_fix_rate = false;
                s.event = Some(msg.clone());
            });
            return Some(self.event_point(t, "fix_rate_recovered", msg));
        }
        None
    }

    fn skip(&mut self, why: &RtkSkip) {
        self.status.with(|s| {
            s.skipped += 1;
            s.last_skip = Some(why.to_string());
        });
    }

    fn process(&mut self, rover: &Epoch, base: &Epoch) -> Result<RtkSolution, RtkSkip> {
        let Some(arp) = self.base.arp else {
            // No 1005/1006 on the mount yet: a rover could not solve either.
            return Err(RtkSkip::NoStart);
        };
        let t = rover.time;
        let due = match (self.settings.reset_every, self.started) {
            (Some(every), Some(s)) => t.diff(s) >= every.as_secs_f64(),
            _ => false,
        };
        if self.engine.is_none() || self.engine_base != Some(arp) || due {
            self.engine = Some(Rtk::new(
                self.opts.clone(),
                Vector3::from(arp),
                self.antennas(),
            ));
            self.engine_base = Some(arp);
            self.started = Some(t);
            self.ttff_s = None;
        }
        let Some(engine) = self.engine.as_mut() else {
            return Err(RtkSkip::NoStart);
        };
        let r = engine.process(rover, base, &self.base.store);
        if let Err(RtkSkip::Singular) = r {
            self.engine = None;
        }
        r
    }

    fn antennas(&mut self) -> Antennas {
        let Some(atx) = self.atx.clone() else {
            return Antennas::default();
        };
        let rover_name = if self.settings.antenna.is_empty() {
            self.check.antenna.clone()
        } else {
            Some(self.settings.antenna.clone())
        };
        let base_name = self
            .base
            .antenna
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or(Some(self.station_antenna.clone()));
        let mut pick = |name: Option<String>| {
            let name = name.filter(|n| !n.trim().is_empty())?;
            self.receivers
                .entry(name)
                .or_insert_with_key(|n| (atx.receiver)(n))
                .clone()
        };
        Antennas {
            rover: pick(rover_name),
            base: pick(base_name),
            satellites: Some(atx.satellites),
        }
    }

    /// The `rtk` point, and a wrong-fix event when the fix is far from the known point.
    fn point(&mut self, s: &RtkSolution, now: Instant) -> (Point, Option<Point>) {
        let known = self.settings.position;
        let d = enu(&known, &s.position_vector());
        let fix: u8 = match s.quality {
            Quality::Fixed => 1,
            Quality::Float => 2,
        };
        if fix == 1
            && self.ttff_s.is_none()
            && let Some(st) = self.started
        {
            self.ttff_s = Some(s.time.diff(st));
        }
        let baseline = self
            .engine_base
            .map(|b| (s.position_vector() - Vector3::from(b)).norm())
            .unwrap_or(0.0);
        let wrong = fix == 1 && d.norm() > self.settings.max_error_m;
        let ttff = self.ttff_s;
        self.status.with(|st| {
            st.solutions += 1;
            st.fixed += u64::from(fix == 1);
            st.wrong_fixes += u64::from(wrong);
            st.ttff_s = ttff;
            st.last = Some(LastSolution {
                fix,
                ratio: s.ratio,
                enu: [d.x, d.y, d.z],
                age_s: s.age_s,
                nsat: s.satellites,
                baseline_m: baseline,
                at: now,
            });
        });
        let due = self
            .wrong_event
            .is_none_or(|w| s.time.diff(w) >= EVENT_EVERY_S);
        let event = (wrong && due).then(|| {
            self.wrong_event = Some(s.time);
            let msg = format!(
                "monitor {}: a fixed solution {:.3} m from the check receiver's known coordinates (E {:+.3} N {:+.3} U {:+.3} m) on mount {}: check the coordinates the station broadcasts (1005/1006, their datum), the check receiver's known coordinates, and the feed",
                self.settings.name,
                d.norm(),
                d.x,
                d.y,
                d.z,
                self.settings.mount
            );
            self.event(s.time, "wrong_fix", msg)
        });
        if !wrong && fix == 1 && !self.silence_told {
            self.status.with(|st| st.alarm = false);
        }
        let p = Point::new("rtk", gpst_to_unix_ns(s.time))
            .tag("station", self.station.clone())
            .tag("monitor", self.settings.name.clone())
            .tag("mountpoint", self.settings.mount.clone())
            .field("fix", i64::from(fix))
            .field("ratio", s.ratio)
            .field("nsat", s.satellites)
            .field("age_s", s.age_s)
            .field("de", d.x)
            .field("dn", d.y)
            .field("du", d.z)
            .field("baseline_m", baseline)
            .field_opt("ttff_s", ttff);
        (p, event)
    }
}

fn is_ephemeris(m: &Message) -> bool {
    matches!(
        m,
        Message::GpsEph(_)
            | Message::GloEph(_)
            | Message::BdsEph(_)
            | Message::GalEph(_)
            | Message::QzsEph(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fix_rate_is_judged_over_a_whole_window_of_data_time() {
        let mut w = FixWindow::new(Duration::from_secs(60));
        let t0 = Gpst::from_week_tow(2048, 0.0);
        let at = |s: i64| Gpst::new(t0.secs() + s, 0.0);
        // Not judged before a whole window of data.
        for s in 0..59 {
            assert_eq!(w.add(at(s), true), None, "{s}");
        }
        assert_eq!(w.add(at(59), true), Some((100.0, 60, 60)));
        // 10 s without a fix: 50 of the last 60.
        let mut last = None;
        for s in 60..70 {
            last = w.add(at(s), false);
        }
        let (pct, n, f) = last.unwrap();
        assert_eq!((n, f), (60, 50));
        assert!((pct - 83.33).abs() < 0.01, "{pct}");
        // A minute of fixes later, the window holds only those.
        for s in 70..130 {
            last = w.add(at(s), true);
        }
        assert_eq!(last, Some((100.0, 60, 60)));
        // Two epochs in one second count as two (a 2 Hz receiver).
        assert_eq!(w.add(at(130), false).map(|x| (x.1, x.2)), Some((60, 59)));
        assert_eq!(
            w.add(Gpst::new(at(130).secs(), 0.5), false)
                .map(|x| (x.1, x.2)),
            Some((61, 59))
        );
        // Time going back (a looped recording): a new window.
        assert_eq!(w.add(at(0), true), None);
    }
}
