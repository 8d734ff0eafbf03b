//! The daemon's short memory for the status page: the last hour and the last day of what it
//! writes as time series, kept in bounded rings in RAM so an operator sees trends without a
//! database.
//!
//! It is fed the same [`Point`]s the series sink receives (a tee in front of the sink, see
//! [`tee`]), so it shows exactly what goes to InfluxDB, in the points' own time (GNSS time of
//! the data, UTC): position offsets, satellites used and C/N0 per GNSS (from the 30 s `satellite`
//! points), latency and completeness per source (`stream`), caster clients (`caster`), rovers
//! (`rover`), the integrity monitors' error of their fixed solutions (`rtk`) and events (`event`). Message rates are measured here on the daemon's clock, from
//! the sources' message counts sampled every second over a sliding minute: a rate is what
//! arrived per second, whatever the pace of the page that polls it.
//!
//! Bounds, whatever the input: each plotted series holds at most [`HOUR_LEN`] 5 s buckets and
//! [`DAY_LEN`] 2 min buckets (a running mean, one `f64` sum and a count each); at most
//! [`MAX_SERIES`] series, [`MAX_SATS`] satellites with [`TRACK_LEN`] sky positions each,
//! [`MAX_ROVERS`] rovers with [`ROVER_TRACK`] positions each, [`EVENTS`] events and
//! [`RATE_SAMPLES`] count samples per source. A bucket is 24 bytes, so a series is 35 KB: one
//! source with five GNSS plots 20 series and keeps about 1 MiB in all; the caps hold it under
//! 2.5 MiB plus 0.1 MiB per source whatever the input. The work per point is a look-up and an
//! add; `/history.json` (about 150 KB for a full day of one source) is built when asked.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nalgebra::Vector3;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::gnss::geodesy::{Geodetic, ecef_to_geodetic, enu};
use crate::gnss::{BeidouOrbit, beidou_orbit};
use crate::sources::State;
use crate::station::snapshot::{SkySat, Snapshot};
use crate::telemetry::{Field, Point};

/// The hour view's bucket (s) and length.
pub const HOUR_STEP_S: i64 = 5;
pub const HOUR_LEN: usize = 720;
/// The day view's bucket (s) and length.
pub const DAY_STEP_S: i64 = 120;
pub const DAY_LEN: usize = 720;
pub const MAX_SERIES: usize = 48;
pub const MAX_SATS: usize = 160;
/// Sky positions per satellite: an hour of 30 s `satellite` points.
pub const TRACK_LEN: usize = 120;
pub const MAX_ROVERS: usize = 64;
pub const ROVER_TRACK: usize = 240;
pub const EVENTS: usize = 100;
/// Message rates are counted over this window of the daemon's clock.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Count samples kept per source: one a second over the window, and one more.
pub const RATE_SAMPLES: usize = 62;

/// The plots, in the page's order: id, title, unit.
pub const GROUPS: [(&str, &str, &str); 7] = [
    (
        "offset",
        "Position offset E/N/U from the surveyed antenna",
        "m",
    ),
    ("used", "Satellites used per GNSS", "satellites"),
    ("cn0", "Mean C/N0 per GNSS", "dB-Hz"),
    ("latency", "Latency per source", "ms"),
    (
        "completeness",
        "Completeness per source (epochs received/expected)",
        "%",
    ),
    ("clients", "NTRIP caster clients", "clients"),
    (
        "monitor",
        "Integrity monitor: error E/N/U of the check receiver's fixes",
        "m",
    ),
];

/// Buckets of running means in time order, bounded in count and in time span.
#[derive(Debug)]
struct Ring {
    step_s: i64,
    cap: usize,
    /// (bucket start (unix s), sum, count)
    buckets: VecDeque<(i64, f64, u32)>,
}

impl Ring {
    fn new(step_s: i64, cap: usize) -> Self {
        Ring {
            step_s,
            cap,
            buckets: VecDeque::new(),
        }
    }

    fn span_s(&self) -> i64 {
        self.step_s * self.cap as i64
    }

    fn add(&mut self, t_s: i64, v: f64) {
        if !v.is_finite() {
            return;
        }
        let start = t_s.div_euclid(self.step_s) * self.step_s;
        let newest = self.buckets.back().map(|b| b.0);
        match newest {
            Some(n) if n == start => {
                if let Some(b) = self.buckets.back_mut() {
                    b.1 += v;
                    b.2 += 1;
                }
                return;
            }
            // A recording that loops, or a clock set back: the old trend is not this one's.
            Some(n) if n - start >= self.span_s() => self.buckets.clear(),
            Some(n) if start < n => {
                // Late by less than the span (another source's point): into its own bucket.
                match self.buckets.binary_search_by_key(&start, |b| b.0) {
                    Ok(i) => {
                        self.buckets[i].1 += v;
                        self.buckets[i].2 += 1;
                    }
                    Err(i) => self.buckets.insert(i, (start, v, 1)),
                }
                self.trim();
                return;
            }
            _ => {}
        }
        self.buckets.push_back((start, v, 1));
        self.trim();
    }

    fn trim(&mut self) {
        let Some(newest) = self.buckets.back().map(|b| b.0) else {
            return;
        };
        while self.buckets.len() > self.cap
            || self
                .buckets
                .front()
                .is_some_and(|b| b.0 <= newest - self.span_s())
        {
            self.buckets.pop_front();
        }
    }

    /// The first bucket's middle (unix s) and every bucket's mean from there on, `None` where
    /// no point fell: regular times need not be sent.
    fn points(&self) -> (Option<i64>, Vec<Option<f64>>) {
        let Some(first) = self.buckets.front().map(|b| b.0) else {
            return (None, Vec::new());
        };
        let mut v = Vec::with_capacity(self.buckets.len());
        for (t, sum, n) in &self.buckets {
            let k = ((t - first) / self.step_s) as usize;
            v.resize(k, None);
            v.push(Some(round3(sum / f64::from(*n))));
        }
        (Some(first + self.step_s / 2), v)
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// One plotted quantity in both views.
#[derive(Debug)]
struct Trace {
    hour: Ring,
    day: Ring,
}

impl Trace {
    fn new() -> Self {
        Trace {
            hour: Ring::new(HOUR_STEP_S, HOUR_LEN),
            day: Ring::new(DAY_STEP_S, DAY_LEN),
        }
    }

    fn add(&mut self, t_s: i64, v: f64) {
        self.hour.add(t_s, v);
        self.day.add(t_s, v);
    }
}

/// A satellite as last seen, and where it went in the sky.
#[derive(Debug, Default)]
struct Sat {
    sys: char,
    el: Option<f64>,
    az: Option<f64>,
    cn0: Option<f64>,
    used: bool,
    time_s: i64,
    /// (unix s, azimuth, elevation), degrees.
    track: VecDeque<(i64, f64, f64)>,
}

#[derive(Debug, Default)]
struct Rover {
    mount: String,
    client: String,
    time_ns: i64,
    lat: f64,
    lon: f64,
    alt: Option<f64>,
    fix: Option<i64>,
    nsat: Option<i64>,
    hdop: Option<f64>,
    age_s: Option<f64>,
    baseline_km: Option<f64>,
    /// East and north of the station (m).
    en: Option<(f64, f64)>,
    track: VecDeque<(f64, f64)>,
}

#[derive(Debug, Serialize)]
struct Event {
    time_ms: i64,
    kind: String,
    source: String,
    message: String,
}

/// One epoch's `satellite` points, gathered before they become per-GNSS numbers.
#[derive(Debug, Default)]
struct SatBatch {
    time_ns: i64,
    sats: BTreeMap<String, Seen>,
}

/// A satellite in one epoch's `satellite` points (one point per signal).
#[derive(Debug)]
struct Seen {
    sys: char,
    el: Option<f64>,
    az: Option<f64>,
    /// The best signal's.
    cn0: Option<f64>,
    used: bool,
    cn0_sum: f64,
    signals: u32,
}

/// A source's message counts, sampled: (when, count per type).
type CountSamples = VecDeque<(Instant, BTreeMap<String, u64>)>;

#[derive(Debug, Default)]
struct Inner {
    /// (group, series name) → trace, in the order first seen.
    series: Vec<((&'static str, String), Trace)>,
    sats: BTreeMap<String, Sat>,
    sky_time_s: Option<i64>,
    rovers: Vec<Rover>,
    events: VecDeque<Event>,
    /// Per source: the last `stream` point's cumulative epochs (received, expected).
    epochs: BTreeMap<String, (u64, u64)>,
    /// Per source: (when, message counts).
    counts: BTreeMap<String, CountSamples>,
    reflection: super::reflection::Reflections,
}

/// What the status page shows of the past; shared by the tee, the sampler and the endpoints.
#[derive(Debug)]
pub struct History {
    station: Option<Vector3<f64>>,
    inner: Mutex<Inner>,
}

fn float(p: &Point, key: &str) -> Option<f64> {
    p.number(key)
}

fn int(p: &Point, key: &str) -> Option<i64> {
    p.fields
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| match v {
            Field::Int(i) => Some(*i),
            Field::Float(f) if f.is_finite() => Some(f.round() as i64),
            _ => None,
        })
}

fn text<'a>(p: &'a Point, key: &str) -> &'a str {
    p.fields
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| match v {
            Field::Str(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("")
}

fn tag<'a>(p: &'a Point, key: &str) -> &'a str {
    p.tags
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The orbit class the sky plot marks: BeiDou GEO, IGSO or MEO; nothing for other systems.
fn orbit_of(sat: &str) -> Option<&'static str> {
    let prn: u8 = sat.strip_prefix('C')?.parse().ok()?;
    Some(match beidou_orbit(prn) {
        BeidouOrbit::Geo => "GEO",
        BeidouOrbit::Igso => "IGSO",
        BeidouOrbit::Meo => "MEO",
    })
}

impl History {
    /// `station`: the surveyed antenna (ECEF), the centre of the rover map.
    pub fn new(station: Option<Vector3<f64>>) -> Self {
        History {
            station,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take in a batch of points on their way to the sink.
    pub fn record(&self, points: &[Point]) {
        let mut g = self.lock();
        let mut batch: Option<SatBatch> = None;
        for p in points {
            let t_s = p.time_ns.div_euclid(1_000_000_000);
            match p.measurement {
                "station_position" => {
                    for (key, name) in [("de", "E"), ("dn", "N"), ("du", "U")] {
                        if let Some(v) = float(p, key) {
                            g.add("offset", name, t_s, v);
                        }
                    }
                }
                "satellite" => {
                    if batch.as_ref().is_some_and(|b| b.time_ns != p.time_ns)
                        && let Some(b) = batch.take()
                    {
                        g.sky(b);
                    }
                    let b = batch.get_or_insert_with(|| SatBatch {
                        time_ns: p.time_ns,
                        ..Default::default()
                    });
                    let sys = tag(p, "sys").chars().next().unwrap_or('?');
                    let e = b.sats.entry(tag(p, "sat").to_string()).or_insert(Seen {
                        sys,
                        el: None,
                        az: None,
                        cn0: None,
                        used: false,
                        cn0_sum: 0.0,
                        signals: 0,
                    });
                    e.el = e.el.or(float(p, "el"));
                    e.az = e.az.or(float(p, "az"));
                    if let Some(c) = float(p, "cn0") {
                        e.cn0 = Some(e.cn0.map_or(c, |m: f64| m.max(c)));
                        e.cn0_sum += c;
                        e.signals += 1;
                    }
                    e.used |= float(p, "res_m").is_some();
                }
                "stream" => {
                    let source = tag(p, "source").to_string();
                    if let Some(l) = float(p, "latency_ms") {
                        g.add("latency", &source, t_s, l);
                    }
                    if let (Some(r), Some(x)) =
                        (int(p, "epochs_received"), int(p, "epochs_expected"))
                    {
                        let now = (r.max(0) as u64, x.max(0) as u64);
                        let before = g.epochs.insert(source.clone(), now);
                        // Per interval, not since start: an hour-old outage must not hide
                        // today's gaps, nor the reverse.
                        if let Some((r0, x0)) = before
                            && now.1 > x0
                            && now.0 >= r0
                        {
                            let pct = 100.0 * (now.0 - r0) as f64 / (now.1 - x0) as f64;
                            g.add("completeness", &source, t_s, pct.min(100.0));
                        }
                    }
                }
                "caster" => {
                    if let Some(c) = float(p, "clients") {
                        g.add("clients", tag(p, "listen"), t_s, c);
                    }
                }
                "rover" => self.rover(&mut g, p),
                "reflection" => g.reflection.record(p),
                // Fixed solutions only: a float one metres off would hide the millimetres.
                "rtk" if int(p, "fix") == Some(1) => {
                    let monitor = tag(p, "monitor");
                    for (key, axis) in [("de", "E"), ("dn", "N"), ("du", "U")] {
                        if let Some(v) = float(p, key) {
                            g.add("monitor", &format!("{monitor} {axis}"), t_s, v);
                        }
                    }
                }
                "event" => {
                    if g.events.len() >= EVENTS {
                        g.events.pop_front();
                    }
                    g.events.push_back(Event {
                        time_ms: p.time_ns.div_euclid(1_000_000),
                        kind: tag(p, "kind").to_string(),
                        source: match tag(p, "source") {
                            "" => tag(p, "monitor").to_string(),
                            s => s.to_string(),
                        },
                        message: text(p, "message").to_string(),
                    });
                }
                _ => {}
            }
        }
        if let Some(b) = batch {
            g.sky(b);
        }
    }

    fn rover(&self, g: &mut Inner, p: &Point) {
        let (Some(lat), Some(lon)) = (float(p, "lat"), float(p, "lon")) else {
            return;
        };
        let (mount, client) = (tag(p, "mountpoint"), tag(p, "client"));
        let i = match g
            .rovers
            .iter()
            .position(|r| r.mount == mount && r.client == client)
        {
            Some(i) => i,
            None => {
                if g.rovers.len() >= MAX_ROVERS {
                    // The one heard from longest ago makes room.
                    if let Some(old) = (0..g.rovers.len()).min_by_key(|&i| g.rovers[i].time_ns) {
                        g.rovers.swap_remove(old);
                    }
                }
                g.rovers.push(Rover {
                    mount: mount.to_string(),
                    client: client.to_string(),
                    ..Default::default()
                });
                g.rovers.len() - 1
            }
        };
        let alt = float(p, "alt");
        let en = self.station.map(|st| {
            let r = Geodetic::from_degrees(lat, lon, alt.unwrap_or(0.0)).to_ecef();
            let d = enu(&st, &r);
            (d.x, d.y)
        });
        let r = &mut g.rovers[i];
        r.time_ns = p.time_ns;
        (r.lat, r.lon, r.alt) = (lat, lon, alt);
        r.fix = int(p, "fix");
        r.nsat = int(p, "nsat");
        r.hdop = float(p, "hdop");
        r.age_s = float(p, "age_s");
        r.baseline_km = float(p, "baseline_km");
        r.en = en;
        // A rover standing still is one point, so the track holds where it went.
        let moved = |a: &(f64, f64), b: &(f64, f64)| (a.0 - b.0).hypot(a.1 - b.1) > 0.5;
        if let Some(en) = en
            && r.track.back().is_none_or(|last| moved(last, &en))
        {
            if r.track.len() >= ROVER_TRACK {
                r.track.pop_front();
            }
            r.track.push_back(en);
        }
    }

    /// Sample a source's message counts (once a second) for the rates.
    pub fn sample(&self, now: Instant, source: &str, messages: BTreeMap<String, u64>) {
        let mut g = self.lock();
        if !g.counts.contains_key(source) && g.counts.len() >= MAX_SERIES {
            return;
        }
        let ring = g.counts.entry(source.to_string()).or_default();
        if ring.len() >= RATE_SAMPLES {
            ring.pop_front();
        }
        ring.push_back((now, messages));
        // Keep the newest sample that is at least the window old, as the rate's start.
        while ring.len() > 2
            && ring
                .get(1)
                .is_some_and(|(t, _)| now.duration_since(*t) >= RATE_WINDOW)
        {
            ring.pop_front();
        }
    }

    /// Messages per second of each type over the last minute (or since the first sample);
    /// `None` before two samples, and for a source that ended (a recording read to its end has
    /// no rate, and a frozen one keeps the page equal to what the daemon says).
    pub fn rates(&self, s: &Snapshot) -> Option<BTreeMap<String, f64>> {
        if matches!(s.state, State::Finished | State::Stopped) {
            return None;
        }
        let g = self.lock();
        let ring = g.counts.get(&s.name)?;
        let ((t0, c0), (t1, c1)) = (ring.front()?, ring.back()?);
        let dt = t1.duration_since(*t0).as_secs_f64();
        if dt < 0.5 {
            return None;
        }
        Some(
            c1.iter()
                .map(|(k, n)| {
                    let before = c0.get(k).copied().unwrap_or(0);
                    (k.clone(), round3(n.saturating_sub(before) as f64 / dt))
                })
                .collect(),
        )
    }

    /// The present for `/status.json`: the sky of the latest `satellite` epoch brought up to
    /// date by the latest solution's satellites (`solution`: every second, where the epoch's
    /// points come every 30 s), the rovers, the recent events, the station for the map.
    pub fn present(&self, solution: &[SkySat]) -> Value {
        let g = self.lock();
        let mut sky: BTreeMap<&str, Value> = g
            .sats
            .iter()
            .filter(|(_, s)| Some(s.time_s) == g.sky_time_s)
            .map(|(name, s)| {
                let used = s.used && solution.is_empty();
                let v = json!({
                    "sat": name, "sys": s.sys.to_string(), "el": s.el, "az": s.az,
                    "cn0": s.cn0, "used": used, "orbit": orbit_of(name),
                });
                (name.as_str(), v)
            })
            .collect();
        for u in solution {
            let v = sky.entry(u.sat.as_str()).or_insert_with(|| {
                json!({
                    "sat": u.sat, "sys": u.sat.get(..1).unwrap_or(""), "cn0": null,
                    "orbit": orbit_of(&u.sat),
                })
            });
            v["el"] = json!(u.el_deg);
            v["az"] = json!(u.az_deg);
            v["used"] = json!(true);
        }
        let sky: Vec<Value> = sky.into_values().collect();
        let rovers: Vec<Value> = g
            .rovers
            .iter()
            .map(|r| {
                json!({
                    "mount": r.mount, "client": r.client, "time_ms": r.time_ns.div_euclid(1_000_000),
                    "lat": r.lat, "lon": r.lon, "alt": r.alt, "fix": r.fix, "nsat": r.nsat,
                    "hdop": r.hdop, "age_s": r.age_s, "baseline_km": r.baseline_km,
                    "east_m": r.en.map(|e| round3(e.0)), "north_m": r.en.map(|e| round3(e.1)),
                    "track": r.track.iter().map(|(e, n)| [round3(*e), round3(*n)]).collect::<Vec<_>>(),
                })
            })
            .collect();
        let station = self.station.map(|p| {
            let g = ecef_to_geodetic(&p);
            json!({ "lat": g.lat.to_degrees(), "lon": g.lon.to_degrees(), "h": g.h })
        });
        json!({
            "sky": { "time_ms": g.sky_time_s.map(|t| t * 1000), "sats": sky },
            "rovers": rovers,
            "events": g.events.iter().rev().collect::<Vec<_>>(),
            "station_position": station,
        })
    }

    /// The past for `/history.json`: every series in the hour and the day view (or only the
    /// one asked for), and each satellite's path across the sky in the last hour. A series is
    /// its first bucket's time `t0` and its means `v`, one per `step_s`, `null` in gaps.
    pub fn past(&self, only: Option<&str>) -> Value {
        let g = self.lock();
        let view = |day: bool| {
            let groups: Vec<Value> = GROUPS
                .iter()
                .map(|(id, title, unit)| {
                    let series: Vec<Value> = g
                        .series
                        .iter()
                        .filter(|((gid, _), _)| gid == id)
                        .map(|((_, name), tr)| {
                            let (t0, v) = if day {
                                tr.day.points()
                            } else {
                                tr.hour.points()
                            };
                            json!({ "name": name, "t0": t0, "v": v })
                        })
                        .collect();
                    json!({ "id": id, "title": title, "unit": unit, "series": series })
                })
                .collect();
            let (step, len) = if day {
                (DAY_STEP_S, DAY_LEN)
            } else {
                (HOUR_STEP_S, HOUR_LEN)
            };
            json!({ "step_s": step, "span_s": step * len as i64, "groups": groups })
        };
        let tracks: Vec<Value> = g
            .sats
            .iter()
            .filter(|(_, s)| s.track.len() > 1)
            .map(|(name, s)| {
                json!({
                    "sat": name, "orbit": orbit_of(name),
                    "track": s.track.iter().map(|(_, az, el)| [round3(*az), round3(*el)]).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut out = json!({ "tracks": tracks, "reflection": g.reflection.json() });
        for (name, day) in [("hour", false), ("day", true)] {
            if only.is_none_or(|o| o == name) {
                out[name] = view(day);
            }
        }
        out
    }
}

impl Inner {
    fn add(&mut self, group: &'static str, name: &str, t_s: i64, v: f64) {
        if let Some((_, tr)) = self
            .series
            .iter_mut()
            .find(|((g, n), _)| *g == group && n == name)
        {
            tr.add(t_s, v);
            return;
        }
        if self.series.len() >= MAX_SERIES {
            return;
        }
        let mut tr = Trace::new();
        tr.add(t_s, v);
        self.series.push(((group, name.to_string()), tr));
    }

    /// One epoch's satellites: the sky, and the per-GNSS numbers.
    fn sky(&mut self, b: SatBatch) {
        let t_s = b.time_ns.div_euclid(1_000_000_000);
        let mut per: BTreeMap<char, (u32, f64, u32)> = BTreeMap::new();
        for (name, seen) in b.sats {
            let Seen {
                sys,
                el,
                az,
                cn0,
                used,
                cn0_sum,
                signals,
            } = seen;
            let e = per.entry(sys).or_default();
            e.0 += u32::from(used);
            e.1 += cn0_sum;
            e.2 += signals;
            if !self.sats.contains_key(&name) && self.sats.len() >= MAX_SATS {
                continue;
            }
            let s = self.sats.entry(name).or_default();
            if s.track.back().is_some_and(|p| p.0 > t_s) {
                // Time went back (a looped recording): a new sky.
                s.track.clear();
            }
            (s.sys, s.el, s.az, s.cn0, s.used, s.time_s) = (sys, el, az, cn0, used, t_s);
            if let (Some(el), Some(az)) = (el, az)
                && el >= 0.0
            {
                if s.track.len() >= TRACK_LEN {
                    s.track.pop_front();
                }
                s.track.push_back((t_s, az, el));
            }
        }
        // Satellites not seen for an hour leave the sky plot.
        self.sats
            .retain(|_, s| (t_s - s.time_s).abs() <= HOUR_STEP_S * HOUR_LEN as i64);
        for (sys, (used, sum, n)) in per {
            let name = sys.to_string();
            self.add("used", &name, t_s, f64::from(used));
            if n > 0 {
                self.add("cn0", &name, t_s, sum / f64::from(n));
            }
        }
        // The newest epoch's sky, unless time went back by more than the hour (a looped
        // recording starts a new sky).
        self.sky_time_s = match self.sky_time_s {
            Some(t) if t >= t_s && t - t_s <= HOUR_STEP_S * HOUR_LEN as i64 => Some(t),
            _ => Some(t_s),
        };
    }
}

/// Between the stations and the series sink: every batch of points is recorded, then passed
/// on unchanged. Ends when the last sender is dropped, which closes the sink's channel in turn.
pub async fn tee(
    mut points: mpsc::Receiver<Vec<Point>>,
    sink: mpsc::Sender<Vec<Point>>,
    history: Arc<History>,
) {
    while let Some(batch) = points.recv().await {
        history.record(&batch);
        if sink.send(batch).await.is_err() {
            return;
        }
    }
}

/// Samples the sources' message counts once a second until shutdown.
pub async fn sampler(
    history: Arc<History>,
    sources: Vec<crate::station::snapshot::SharedSnapshot>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = Instant::now();
        for s in &sources {
            let (name, messages) = {
                let s = s.lock().unwrap_or_else(|p| p.into_inner());
                (s.name.clone(), s.messages.clone())
            };
            history.sample(now, &name, messages);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::State;

    fn position(t_s: i64, de: f64) -> Point {
        Point::new("station_position", t_s * 1_000_000_000)
            .tag("station", "VTE1")
            .field("de", de)
            .field("dn", 0.5)
            .field("du", -1.0)
    }

    fn series<'a>(v: &'a Value, view: &str, group: &str, name: &str) -> &'a Value {
        v[view]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["id"] == group)
            .and_then(|g| {
                g["series"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["name"] == name)
            })
            .unwrap_or_else(|| panic!("{group}/{name} in {v}"))
    }

    #[test]
    fn two_days_of_one_hertz_stay_within_the_bounds() {
        let h = History::new(None);
        let t0 = 1_700_000_000;
        for k in 0..2 * 86_400 {
            h.record(&[position(t0 + k, (k % 10) as f64)]);
        }
        let past = h.past(None);
        let e = series(&past, "hour", "offset", "E");
        let v = e["v"].as_array().unwrap();
        assert_eq!(v.len(), HOUR_LEN);
        assert_eq!(e["t0"], t0 + 2 * 86_400 - 3600 + HOUR_STEP_S / 2);
        // 5 s buckets of 0..9 repeating: means of 0..4 and 5..9.
        assert!(v.iter().all(|x| x == 2.0 || x == 7.0), "{v:?}");
        let day = series(&past, "day", "offset", "U");
        assert_eq!(day["v"].as_array().unwrap().len(), DAY_LEN);
        assert!(day["v"].as_array().unwrap().iter().all(|x| x == -1.0));
        let g = h.lock();
        assert!(g.series.iter().all(|(_, tr)| tr.hour.buckets.len() <= HOUR_LEN
            && tr.day.buckets.len() <= DAY_LEN));
    }

    #[test]
    fn a_looped_recording_starts_a_new_trend() {
        let h = History::new(None);
        for k in 0..7200 {
            h.record(&[position(1_700_000_000 + k, 1.0)]);
        }
        h.record(&[position(1_700_000_000, 3.0)]);
        let past = h.past(Some("hour"));
        assert_eq!(series(&past, "hour", "offset", "E")["v"], json!([3.0]));
        assert!(past.get("day").is_none());
    }

    fn snapshot(state: State) -> Snapshot {
        let s = crate::config::demo(std::env::temp_dir());
        let snap = crate::station::snapshot::new_snapshot(&s.sources[0]);
        let mut v = snap.lock().unwrap().clone();
        v.state = state;
        v
    }

    #[test]
    fn rates_are_per_second_over_the_last_minute() {
        let h = History::new(None);
        let t0 = Instant::now();
        let counts =
            |n: u64| BTreeMap::from([("1074".to_string(), n), ("1006".to_string(), n / 10)]);
        // A 1 Hz stream sampled every second for 30 s, then for two minutes.
        for k in 0..=30 {
            h.sample(t0 + Duration::from_secs(k), "demo", counts(100 + k));
        }
        let s = snapshot(State::Streaming);
        let r = h.rates(&s).unwrap();
        assert_eq!(r["1074"], 1.0);
        for k in 31..=150 {
            h.sample(t0 + Duration::from_secs(k), "demo", counts(100 + k));
        }
        let r = h.rates(&s).unwrap();
        assert_eq!(r["1074"], 1.0);
        assert!((r["1006"] - 0.1).abs() < 0.02, "{r:?}");
        assert!(h.lock().counts["demo"].len() <= RATE_SAMPLES);
        // A stream that stopped sending falls to 0 Hz within the minute.
        for k in 151..=215 {
            h.sample(t0 + Duration::from_secs(k), "demo", counts(250));
        }
        assert_eq!(h.rates(&s).unwrap()["1074"], 0.0);
        assert!(h.rates(&snapshot(State::Finished)).is_none());
    }

    fn sat(t_s: i64, sys: &str, sat: &str, cn0: f64, used: bool, el: f64) -> Point {
        Point::new("satellite", t_s * 1_000_000_000)
            .tag("sys", sys)
            .tag("sat", sat)
            .tag("signal", "1C")
            .field("cn0", cn0)
            .field("el", el)
            .field("az", 120.0)
            .field_opt("res_m", used.then_some(0.3))
    }

    #[test]
    fn satellites_become_the_sky_and_per_gnss_series() {
        let h = History::new(None);
        for (k, t) in [1_700_000_000i64, 1_700_000_030].into_iter().enumerate() {
            h.record(&[
                sat(t, "C", "C01", 40.0, true, 50.0 + k as f64),
                sat(t, "C", "C06", 36.0, true, 30.0),
                sat(t, "C", "C20", 44.0, false, 10.0),
                sat(t, "J", "J02", 45.0, true, 70.0),
                sat(t, "G", "G05", 48.0, true, 20.0),
            ]);
        }
        let now = h.present(&[]);
        let sky = now["sky"]["sats"].as_array().unwrap();
        let names: Vec<&str> = sky.iter().map(|s| s["sat"].as_str().unwrap()).collect();
        assert_eq!(names, ["C01", "C06", "C20", "G05", "J02"]);
        let orbit = |n: &str| sky.iter().find(|s| s["sat"] == n).unwrap()["orbit"].clone();
        assert_eq!(orbit("C01"), "GEO");
        assert_eq!(orbit("C06"), "IGSO");
        assert_eq!(orbit("C20"), "MEO");
        assert_eq!(orbit("J02"), Value::Null);
        assert_eq!(now["sky"]["time_ms"], 1_700_000_030_000i64);
        let past = h.past(None);
        // 30 s apart in 5 s buckets.
        assert_eq!(
            series(&past, "hour", "used", "C")["v"],
            json!([2.0, null, null, null, null, null, 2.0])
        );
        assert_eq!(series(&past, "day", "cn0", "C")["v"], json!([40.0]));
        assert_eq!(series(&past, "hour", "used", "J")["t0"], 1_700_000_002);
        let tracks = past["tracks"].as_array().unwrap();
        assert_eq!(tracks.len(), 5);
        assert_eq!(tracks[0]["track"], json!([[120.0, 50.0], [120.0, 51.0]]));
    }

    #[test]
    fn completeness_is_per_interval() {
        let h = History::new(None);
        let stream = |t: i64, r: i64, x: i64| {
            Point::new("stream", t * 1_000_000_000)
                .tag("source", "demo")
                .field("latency_ms", 250.0)
                .field("epochs_received", r)
                .field("epochs_expected", x)
        };
        h.record(&[stream(1_700_000_000, 50, 100)]);
        h.record(&[stream(1_700_000_010, 60, 110)]);
        h.record(&[stream(1_700_000_020, 65, 120)]);
        let past = h.past(None);
        assert_eq!(
            series(&past, "hour", "completeness", "demo")["v"],
            json!([100.0, null, 50.0])
        );
        assert_eq!(
            series(&past, "hour", "latency", "demo")["v"],
            json!([250.0, null, 250.0, null, 250.0])
        );
    }

    #[test]
    fn rovers_events_and_clients() {
        let st = Geodetic::from_degrees(17.9757, 102.6331, 180.0).to_ecef();
        let h = History::new(Some(st));
        let mut batch = Vec::new();
        for k in 0..(MAX_ROVERS as i64 + 10) {
            batch.push(
                Point::new("rover", k * 1_000_000_000)
                    .tag("mountpoint", "VTE1")
                    .tag("client", format!("crew{k}"))
                    .field("lat", 17.9857)
                    .field("lon", 102.6331)
                    .field("alt", 180.0)
                    .field("fix", 4i64),
            );
        }
        for k in 0..(EVENTS + 5) {
            batch.push(
                Point::new("event", k as i64)
                    .tag("source", "demo")
                    .tag("kind", "outage")
                    .field("message", format!("n{k}")),
            );
        }
        batch.push(
            Point::new("caster", 0)
                .tag("listen", "127.0.0.1:2101")
                .field("clients", 3u64),
        );
        h.record(&batch);
        let now = h.present(&[]);
        let rovers = now["rovers"].as_array().unwrap();
        assert_eq!(rovers.len(), MAX_ROVERS);
        assert!(rovers.iter().any(|r| r["client"] == "crew73"));
        let north = rovers[0]["north_m"].as_f64().unwrap();
        assert!((north - 1107.0).abs() < 5.0, "{north}");
        assert_eq!(rovers[0]["fix"], 4);
        let events = now["events"].as_array().unwrap();
        assert_eq!(events.len(), EVENTS);
        assert_eq!(events[0]["message"], format!("n{}", EVENTS + 4));
        assert_eq!(
            series(&h.past(None), "hour", "clients", "127.0.0.1:2101")["v"],
            json!([3.0])
        );
    }
}
