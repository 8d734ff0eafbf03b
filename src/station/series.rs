//! The station's time series (DESIGN §4) from what the pipeline saw: `station_position` every
//! epoch, `satellite` at the first epoch of each 30 s slot, `stream` (and, from a u-blox
//! receiver, [`receiver`](super::receiver)) every 10 s and `message` every 60 s, stamped with
//! the slot's start. Rates are kept by *data* time; live, the `stream`
//! and `message` points follow the wall clock instead ([`Series::tick`]), because a silent
//! receiver has no data time and that is exactly when the operator needs them.

use std::collections::BTreeMap;

use nalgebra::Vector3;

use crate::framing::FrameKind;
use crate::gnss::corrections::{Multipath, pseudorange_corrections};
use crate::gnss::geodesy::{ecef_to_geodetic, elevation_azimuth, enu, enu_rotation};
use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::spp::{Solution, SppOptions};
use crate::gnss::time::Gpst;
use crate::gnss::{Gnss, SatMap, sat_name};
use crate::telemetry::{Point, gpst_to_unix_ns};

use super::receiver::ReceiverHealth;

/// `satellite` every 30 s, `stream` every 10 s, `message` every 60 s (DESIGN §4).
pub const SATELLITE_EVERY_S: i64 = 30;
pub const STREAM_EVERY_S: i64 = 10;
pub const MESSAGE_EVERY_S: i64 = 60;

/// The name a frame is counted under: `1074`, `GGA` (the talker dropped), `PUBX`, `UBX`.
pub fn message_name(kind: FrameKind, payload: &[u8], number: Option<u16>) -> String {
    match (kind, number) {
        (FrameKind::Rtcm3, Some(n)) => n.to_string(),
        (FrameKind::Rtcm3, None) => "RTCM3".into(),
        (FrameKind::Nmea, _) => {
            // `GPGGA` → `GGA`; proprietary `PUBX` stays whole.
            let addr = payload.split(|&b| b == b',').next().unwrap_or_default();
            let s = String::from_utf8_lossy(addr);
            if s.starts_with('P') || s.len() < 5 {
                s.into_owned()
            } else {
                s[2..].to_string()
            }
        }
        (FrameKind::Ubx, _) => "UBX".into(),
    }
}

/// RINEX letters of systems in the usual order (`GRECJ`), each once.
fn system_letters(systems: impl Iterator<Item = Gnss>) -> String {
    let mut letters: Vec<char> = systems.map(|g| g.letter()).collect();
    letters.sort_by_key(|c| "GRECJIS".find(*c).unwrap_or(9));
    letters.dedup();
    letters.into_iter().collect()
}

/// What the `stream` point reports, as the pipeline counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StreamFacts {
    pub connected: bool,
    /// Consumed rather than received bytes: the same however the input was chunked.
    pub bytes: u64,
    pub frames: u64,
    pub crc_errors: u64,
    pub discarded_bytes: u64,
    pub latency_ms: Option<f64>,
    pub epochs_expected: u64,
    pub epochs_received: u64,
    pub reconnects: u64,
}

/// Per-slot state of the series of one source.
#[derive(Debug)]
pub struct Series {
    station: String,
    source: String,
    /// The `solution` and `systems` tags of `station_position`: what the solution is set to
    /// do, never what one epoch happened to use, so that a station's position stays one series.
    solution: &'static str,
    systems: String,
    truth: Option<Vector3<f64>>,
    message_slot: BTreeMap<String, u64>,
    /// Slips per signal since its last `satellite` point.
    slips: BTreeMap<(char, u8, [u8; 2]), u32>,
    multipath: Multipath,
    /// The latest multipath value of each signal.
    mp_latest: SatMap<(Gnss, u8, SignalCode), f64>,
    /// PRC of each signal at the previous satellite slot, for the range-rate correction.
    prc_prev: SatMap<(Gnss, u8, SignalCode), (Gpst, f64)>,
    sat_slot: Option<i64>,
    stream_slot: Option<i64>,
    message_slot_start: Option<i64>,
    /// The receiver's own health reports, for the `receiver` point of each stream slot.
    receiver: ReceiverHealth,
}

impl Series {
    pub fn new(station: &str, source: &str, truth: Option<Vector3<f64>>, spp: &SppOptions) -> Self {
        Series {
            station: station.into(),
            source: source.into(),
            solution: if spp.iono_free { "spp_if" } else { "spp" },
            systems: system_letters(spp.systems.iter().copied()),
            truth,
            message_slot: BTreeMap::new(),
            slips: BTreeMap::new(),
            multipath: Multipath::default(),
            mp_latest: SatMap::default(),
            prc_prev: SatMap::default(),
            sat_slot: None,
            stream_slot: None,
            message_slot_start: None,
            receiver: ReceiverHealth::default(),
        }
    }

    /// A looped recording starts again at its first epoch: what follows the data in time
    /// starts afresh; the counts of the current `message` slot go on.
    pub fn rewind(&mut self) {
        self.slips.clear();
        self.multipath = Multipath::default();
        self.mp_latest = SatMap::default();
        self.prc_prev = SatMap::default();
        self.sat_slot = None;
        self.stream_slot = None;
    }

    /// Count a frame in the current `message` slot.
    pub fn frame(&mut self, name: &str) {
        *self.message_slot.entry(name.to_string()).or_default() += 1;
    }

    /// Take in a u-blox message for the `receiver` point (health reports; others are ignored).
    pub fn receiver_message(&mut self, m: &crate::messages::ubx::Ubx) {
        self.receiver.take(m);
    }

    fn receiver_point(&mut self, at_ns: i64, out: &mut Vec<Point>) {
        out.extend(
            self.receiver
                .point(&self.station, &self.source, self.truth, at_ns),
        );
    }

    /// Take in an epoch's slips and multipath.
    pub fn observe(&mut self, e: &Epoch) {
        for sat in &e.sats {
            for s in sat.signals.iter().filter(|s| s.slip) {
                *self
                    .slips
                    .entry((sat.sys.letter(), sat.prn, s.code.0))
                    .or_default() += 1;
            }
        }
        // Only the signals of this epoch: a value from an arc that ended is not current.
        self.mp_latest = self
            .multipath
            .update(e)
            .into_iter()
            .map(|(sys, prn, code, mp)| ((sys, prn, code), mp))
            .collect();
    }

    /// `stream` and `message` points by data time, at an epoch of time `t`.
    pub fn data_ticks(&mut self, t: Gpst, facts: &StreamFacts, out: &mut Vec<Point>) {
        let secs = t.secs();
        let slot = secs.div_euclid(STREAM_EVERY_S);
        if self.stream_slot != Some(slot) {
            self.stream_slot = Some(slot);
            let at = gpst_to_unix_ns(Gpst::new(slot * STREAM_EVERY_S, 0.0));
            out.push(self.stream_point(at, facts));
            self.receiver_point(at, out);
        }
        let mslot = secs.div_euclid(MESSAGE_EVERY_S);
        match self.message_slot_start {
            None => self.message_slot_start = Some(mslot),
            Some(m) if m != mslot => {
                let at = gpst_to_unix_ns(Gpst::new(m * MESSAGE_EVERY_S, 0.0));
                self.message_points(at, MESSAGE_EVERY_S as f64, out);
                self.message_slot_start = Some(mslot);
            }
            _ => {}
        }
    }

    /// Live: the `stream` and `message` points at a wall-clock instant (UTC ns).
    pub fn tick(
        &mut self,
        at_ns: i64,
        message_window_s: Option<f64>,
        facts: &StreamFacts,
        out: &mut Vec<Point>,
    ) {
        out.push(self.stream_point(at_ns, facts));
        self.receiver_point(at_ns, out);
        if let Some(w) = message_window_s {
            self.message_points(at_ns, w, out);
        }
    }

    fn stream_point(&self, at_ns: i64, f: &StreamFacts) -> Point {
        Point::new("stream", at_ns)
            .tag("station", &self.station)
            .tag("source", &self.source)
            .field("connected", f.connected)
            .field("bytes", f.bytes)
            .field("frames", f.frames)
            .field("crc_errors", f.crc_errors)
            .field("discarded_bytes", f.discarded_bytes)
            .field_opt("latency_ms", f.latency_ms)
            .field("epochs_expected", f.epochs_expected)
            .field("epochs_received", f.epochs_received)
            .field("reconnects", f.reconnects)
    }

    fn message_points(&mut self, at_ns: i64, window_s: f64, out: &mut Vec<Point>) {
        for (name, count) in std::mem::take(&mut self.message_slot) {
            out.push(
                Point::new("message", at_ns)
                    .tag("station", &self.station)
                    .tag("source", &self.source)
                    .tag("type", name)
                    .field("count", count)
                    .field("rate_hz", count as f64 / window_s),
            );
        }
    }

    /// The `station_position` point of a solution (`tracked` satellites, velocity `v`).
    pub fn position(&self, s: &Solution, tracked: usize, v: Option<Vector3<f64>>) -> Point {
        let p = Vector3::from(s.position);
        let g = ecef_to_geodetic(&p);
        let mut pt = Point::new("station_position", gpst_to_unix_ns(s.time))
            .tag("station", &self.station)
            .tag("solution", self.solution)
            .tag("systems", &self.systems)
            .field("used", system_letters(s.used.iter().map(|u| u.sys)))
            .field("nsat_if", s.used.iter().filter(|u| u.iono_free).count())
            .field("x", p.x)
            .field("y", p.y)
            .field("z", p.z)
            .field("lat", g.lat.to_degrees())
            .field("lon", g.lon.to_degrees())
            .field("h", g.h);
        if let Some(t) = self.truth {
            let d = enu(&t, &p);
            let r = enu_rotation(&ecef_to_geodetic(&t));
            let c = s.cov_xyz;
            let cov = nalgebra::Matrix3::new(c[0], c[3], c[5], c[3], c[1], c[4], c[5], c[4], c[2]);
            let ce = r * cov * r.transpose();
            pt = pt
                .field("de", d.x)
                .field("dn", d.y)
                .field("du", d.z)
                .field("sde", ce[(0, 0)].max(0.0).sqrt())
                .field("sdn", ce[(1, 1)].max(0.0).sqrt())
                .field("sdu", ce[(2, 2)].max(0.0).sqrt());
        }
        if let Some(v) = v {
            let venu = enu_rotation(&g) * v;
            pt = pt
                .field("ve", venu.x)
                .field("vn", venu.y)
                .field("vu", venu.z);
        }
        pt.field("pdop", s.pdop)
            .field("hdop", s.hdop)
            .field("vdop", s.vdop)
            .field("nsat_used", s.used.len())
            .field("nsat_tracked", tracked)
            .field("rms_res_m", s.rms_m)
            .field("excluded", s.excluded.len())
    }

    /// The `satellite` points of an epoch, when it opens a new 30 s slot. `approx` is where the
    /// antenna is thought to be, for the geometry of satellites the solution did not use.
    pub fn satellites(
        &mut self,
        e: &Epoch,
        sol: Option<&Solution>,
        store: &EphemerisStore,
        approx: Option<Vector3<f64>>,
        out: &mut Vec<Point>,
    ) {
        let slot = e.time.secs().div_euclid(SATELLITE_EVERY_S);
        if self.sat_slot == Some(slot) {
            return;
        }
        self.sat_slot = Some(slot);
        let at = gpst_to_unix_ns(e.time);
        // Corrections against the surveyed position (or the solution's, without one).
        let station = self
            .truth
            .or_else(|| sol.map(|s| Vector3::from(s.position)));
        let prcs: SatMap<(Gnss, u8, SignalCode), f64> = station
            .map(|st| {
                pseudorange_corrections(e, store, &st)
                    .into_iter()
                    .map(|p| ((p.sys, p.prn, p.code), p.prc_m))
                    .collect()
            })
            .unwrap_or_default();
        let mut rrcs = SatMap::default();
        for (k, prc) in &prcs {
            if let Some((t0, p0)) = self.prc_prev.get(k) {
                let dt = e.time.diff(*t0);
                if dt > 0.0 && dt <= 2.0 * SATELLITE_EVERY_S as f64 {
                    rrcs.insert(*k, (prc - p0) / dt);
                }
            }
        }
        self.prc_prev = prcs.iter().map(|(k, v)| (*k, (e.time, *v))).collect();
        for sat in &e.sats {
            let used =
                sol.and_then(|s| s.used.iter().find(|u| u.sys == sat.sys && u.prn == sat.prn));
            let name = sat_name(sat.sys, sat.prn);
            // Elevation and azimuth for every tracked satellite with an orbit, used or not: the
            // sky plot should show what the receiver sees, not only what the solution kept.
            let geometry = used.map(|u| (u.elevation_deg, u.azimuth_deg)).or_else(|| {
                let here = approx?;
                let eph = store.select(sat.sys, sat.prn, e.time)?;
                let (pos, _) = eph.position_clock(e.time);
                let (el, az) = elevation_azimuth(&here, &pos);
                Some((el.to_degrees(), az.to_degrees()))
            });
            for sig in &sat.signals {
                let key = (sat.sys.letter(), sat.prn, sig.code.0);
                let slips = self.slips.remove(&key).unwrap_or(0);
                let k = (sat.sys, sat.prn, sig.code);
                let p = Point::new("satellite", at)
                    .tag("station", &self.station)
                    .tag("sys", sat.sys.letter().to_string())
                    .tag("sat", name.clone())
                    .tag("signal", sig.code.as_str())
                    .field_opt("cn0", sig.cn0_dbhz)
                    .field_opt("lock_s", sig.lock_s)
                    .field("slip", slips as i64)
                    .field_opt("el", geometry.map(|g| g.0))
                    .field_opt("az", geometry.map(|g| g.1))
                    .field_opt("res_m", used.map(|u| u.residual_m))
                    .field_opt("prc_m", prcs.get(&k).copied())
                    .field_opt("rrc_mps", rrcs.get(&k).copied())
                    .field_opt("mp_m", self.mp_latest.get(&k).copied());
                out.push(p);
            }
        }
    }
}
