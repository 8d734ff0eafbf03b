//! The station pipeline (DESIGN §1, steps 2 and 4–6) as one synchronous value: bytes in; raw
//! frames, epochs, solutions and time-series points out. The daemon runs one per source inside
//! its task; `corsd replay` drives the very same code from files, so a replay is a faithful
//! rehearsal of what the daemon would have written.
//!
//! Rates (DESIGN §4) are kept by *data* time: `station_position` every epoch, `satellite` at
//! the first epoch of each 30 s slot, `stream` every 10 s and `message` every 60 s, stamped with
//! the slot's start. Live, the `stream` and `message` points are driven by the wall clock instead
//! (through [`Pipeline::tick`]), because a silent receiver has no data time and that is exactly
//! when the operator needs them.

use std::collections::BTreeMap;
use std::sync::Arc;

use nalgebra::Vector3;

use super::state::StationState;
use crate::framing::{FrameKind, Framer, FramerStats, RawFrame};
use crate::gnss::corrections::pseudorange_corrections;
use crate::gnss::geodesy::{ecef_to_geodetic, elevation_azimuth, enu};
use crate::gnss::obs::Epoch;
use crate::gnss::obs::SignalCode;
use crate::gnss::spp::{CarrierSmoother, Solution, SppOptions, solve, velocity};
use crate::gnss::time::Gpst;
use crate::gnss::{Gnss, sat_name};
use crate::messages::rtcm3;
use crate::telemetry::{Point, gpst_to_unix_ns};

/// What a pipeline is for.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Station tag (4-character site id).
    pub station: String,
    /// Source tag.
    pub source: String,
    /// Surveyed antenna position (ECEF, m): offsets are reported from it.
    pub truth: Option<Vector3<f64>>,
    pub spp: SppOptions,
    /// Carrier-smoothing window in epochs (1 = raw code).
    pub smoothing: u32,
    /// Time reference for a stream without 1013 (replay's `--week`/`--date`, or the live clock).
    pub reference: Option<Gpst>,
    /// Keep raw frames for the fan-out.
    pub keep_frames: bool,
    /// `stream` and `message` points follow data time (replay) rather than [`Pipeline::tick`].
    pub data_clock: bool,
    /// Time-series points at all (replay without a sink skips building them).
    pub points: bool,
    /// RTCM 2.3 DGNSS corrections (types 1, 3, 31) per epoch against `truth`, with this
    /// reference station ID, into [`Output::rtcm2`].
    pub rtcm2_station: Option<u16>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            station: "CORS".into(),
            source: "main".into(),
            truth: None,
            spp: SppOptions::default(),
            smoothing: 100,
            reference: None,
            keep_frames: false,
            data_clock: true,
            points: true,
            rtcm2_station: None,
        }
    }
}

/// What one call produced.
#[derive(Debug, Default)]
pub struct Output {
    pub frames: Vec<RawFrame>,
    pub epochs: Vec<Epoch>,
    pub solutions: Vec<Solution>,
    pub points: Vec<Point>,
    /// RTCM 2.3 bytes ("6 of 8"), when [`PipelineConfig::rtcm2_station`] is set.
    pub rtcm2: Vec<u8>,
}

impl Output {
    pub fn clear(&mut self) {
        self.frames.clear();
        self.epochs.clear();
        self.solutions.clear();
        self.points.clear();
        self.rtcm2.clear();
    }
}

/// Connection facts the source owns and the `stream` point reports.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LinkState {
    pub connected: bool,
    pub reconnects: u64,
    /// Last observed delay between an epoch's GNSS time and its arrival (ms), live only.
    pub latency_ms: Option<f64>,
}

/// Per-slot counters for `satellite` (slips and lock between two points).
#[derive(Clone, Copy, Debug, Default)]
struct SignalSlot {
    slips: u32,
}

#[derive(Debug)]
pub struct Pipeline {
    cfg: PipelineConfig,
    framer: Framer,
    pub state: StationState,
    smoother: CarrierSmoother,
    approx: Option<Vector3<f64>>,
    /// Epochs assembled and solutions found.
    pub epochs: u64,
    pub solutions: u64,
    /// Decode failures per RTCM message number (counted, the stream goes on).
    pub decode_errors: BTreeMap<u16, u64>,
    /// Frames per message (`1074`, `GGA`, `UBX`) since the start, for `/metrics`.
    pub message_totals: BTreeMap<String, u64>,
    message_slot: BTreeMap<String, u64>,
    slips: BTreeMap<(char, u8, [u8; 2]), SignalSlot>,
    multipath: crate::gnss::corrections::Multipath,
    /// The latest multipath value of each signal.
    mp_latest: crate::gnss::SatMap<(Gnss, u8, SignalCode), f64>,
    /// PRC of each signal at the previous satellite slot, for the range-rate correction.
    prc_prev: crate::gnss::SatMap<(Gnss, u8, SignalCode), (Gpst, f64)>,
    pub link: LinkState,
    /// The RTCM 2.3 output, when asked for.
    pub rtcm2: Option<crate::feeds::rtcm2::Rtcm2Encoder>,
    /// Bytes of frames taken out of the framer (with the discarded ones: everything consumed).
    frame_bytes: u64,
    first_epoch: Option<Gpst>,
    last_epoch: Option<Gpst>,
    /// Smallest spacing between epochs seen (s): the stream's interval.
    interval_s: Option<f64>,
    sat_slot: Option<i64>,
    stream_slot: Option<i64>,
    message_slot_start: Option<i64>,
}

/// `satellite` every 30 s, `stream` every 10 s, `message` every 60 s (DESIGN §4).
pub const SATELLITE_EVERY_S: i64 = 30;
pub const STREAM_EVERY_S: i64 = 10;
pub const MESSAGE_EVERY_S: i64 = 60;

fn message_name(kind: FrameKind, payload: &[u8], number: Option<u16>) -> String {
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

impl Pipeline {
    pub fn new(cfg: PipelineConfig) -> Self {
        // Corrections need the surveyed position to be computed against.
        let rtcm2 = cfg
            .rtcm2_station
            .filter(|_| cfg.truth.is_some())
            .map(crate::feeds::rtcm2::Rtcm2Encoder::new);
        Pipeline {
            framer: Framer::new(),
            state: StationState::new(cfg.reference),
            smoother: CarrierSmoother::new(cfg.smoothing),
            approx: cfg.truth,
            cfg,
            epochs: 0,
            solutions: 0,
            decode_errors: BTreeMap::new(),
            message_totals: BTreeMap::new(),
            message_slot: BTreeMap::new(),
            slips: BTreeMap::new(),
            multipath: Default::default(),
            mp_latest: Default::default(),
            prc_prev: Default::default(),
            link: LinkState {
                connected: true,
                ..Default::default()
            },
            rtcm2,
            frame_bytes: 0,
            first_epoch: None,
            last_epoch: None,
            interval_s: None,
            sat_slot: None,
            stream_slot: None,
            message_slot_start: None,
        }
    }

    pub fn config(&self) -> &PipelineConfig {
        &self.cfg
    }

    pub fn framer_stats(&self) -> &FramerStats {
        self.framer.stats()
    }

    /// GNSS time of the latest epoch.
    pub fn data_time(&self) -> Option<Gpst> {
        self.last_epoch
    }

    /// Epochs expected since the first one, from the observed interval.
    pub fn epochs_expected(&self) -> u64 {
        match (self.first_epoch, self.last_epoch, self.interval_s) {
            (Some(a), Some(b), Some(dt)) if dt > 0.0 => (b.diff(a) / dt).round() as u64 + 1,
            (Some(_), _, _) => self.epochs,
            _ => 0,
        }
    }

    /// Take in received bytes.
    pub fn push(&mut self, bytes: &[u8], out: &mut Output) {
        self.framer.push(bytes);
        self.drain(out);
    }

    /// End of input: drain what is left and complete the last epoch.
    pub fn finish(&mut self, out: &mut Output) {
        self.framer.finish();
        self.drain(out);
        while let Some(e) = self.state.finish() {
            self.epoch(e, out);
        }
    }

    /// A new connection: partial frames of the old one must not join the new bytes.
    pub fn reset_link(&mut self) {
        let stats = self.framer.stats().clone();
        self.framer = Framer::with_stats(stats);
    }

    fn drain(&mut self, out: &mut Output) {
        // Take what is needed out of each frame first: it borrows the framer's buffer.
        while let Some(f) = self.framer.next_frame() {
            let number = f.rtcm_number();
            self.frame_bytes += f.bytes.len() as u64;
            let name = message_name(f.kind, f.payload(), number);
            let bytes: Option<Arc<[u8]>> = self.cfg.keep_frames.then(|| Arc::from(f.bytes));
            let kind = f.kind;
            let decoded = (f.kind == FrameKind::Rtcm3).then(|| rtcm3::decode(f.payload()));
            *self.message_slot.entry(name.clone()).or_default() += 1;
            *self.message_totals.entry(name).or_default() += 1;
            let mut completed = Vec::new();
            match decoded {
                None => {}
                Some(Ok(m)) => {
                    // Epochs are completed in stream order, so that what is known when an epoch
                    // is solved does not depend on how the input was chunked.
                    if let Some(e) = self.state.push(&m) {
                        completed.push(e);
                        while let Some(e) = self.state.take_ready() {
                            completed.push(e);
                        }
                    }
                }
                Some(Err(e)) => {
                    let n = number.unwrap_or(0);
                    let count = self.decode_errors.entry(n).or_default();
                    if *count == 0 {
                        tracing::warn!(
                            source = %self.cfg.source,
                            message = n,
                            error = %e,
                            "undecodable RTCM3 message (counted; further ones of this type are logged at debug)"
                        );
                    } else {
                        tracing::debug!(message = n, error = %e, "undecodable RTCM3 message");
                    }
                    *count += 1;
                }
            }
            if let Some(bytes) = bytes {
                // Dated after decoding: an MSM carries the time of its own epoch, so that the
                // archive puts every frame of an epoch in that epoch's hour.
                out.frames.push(RawFrame {
                    kind,
                    number,
                    bytes,
                    data_time_ns: self.state.reference.map(Gpst::gps_ns),
                });
            }
            for e in completed {
                self.epoch(e, out);
            }
        }
    }

    fn epoch(&mut self, e: Epoch, out: &mut Output) {
        self.epochs += 1;
        if let Some(prev) = self.last_epoch {
            let dt = e.time.diff(prev);
            if dt > 0.0 && self.interval_s.is_none_or(|i| dt < i - 1e-6) {
                self.interval_s = Some(dt);
            }
        }
        self.first_epoch.get_or_insert(e.time);
        self.last_epoch = Some(e.time);
        if self.cfg.points {
            self.count_slips(&e);
            // Only the signals of this epoch: a value from an arc that ended is not current.
            self.mp_latest = self
                .multipath
                .update(&e)
                .into_iter()
                .map(|(sys, prn, code, mp)| ((sys, prn, code), mp))
                .collect();
        }
        if self.cfg.data_clock && self.cfg.points {
            self.data_ticks(e.time, out);
        }
        // The solution uses carrier-smoothed code; the epoch handed on (RINEX, QC) keeps the
        // observations as received.
        let mut smoothed = e.clone();
        self.smoother.apply(&mut smoothed);
        let sol = solve(&smoothed, &self.state.store, &self.cfg.spp, self.approx);
        if let (Some(enc), Some(truth)) = (self.rtcm2.as_mut(), self.cfg.truth) {
            out.rtcm2.extend(enc.epoch(
                e.time,
                &dgnss_corrections(&smoothed, &self.state.store, &truth),
                Some(&truth),
            ));
        }
        if let Some(s) = &sol {
            self.solutions += 1;
            self.approx = Some(Vector3::from(s.position));
            if self.cfg.points {
                let v = velocity(&e, &self.state.store, s);
                out.points.push(self.position_point(s, e.sats.len(), v));
            }
        }
        if self.cfg.points {
            let t = e.time.secs().div_euclid(SATELLITE_EVERY_S);
            if self.sat_slot != Some(t) {
                self.sat_slot = Some(t);
                self.satellite_points(&e, sol.as_ref(), out);
            }
        }
        if let Some(s) = sol {
            out.solutions.push(s);
        }
        out.epochs.push(e);
    }

    fn count_slips(&mut self, e: &Epoch) {
        for sat in &e.sats {
            for s in &sat.signals {
                if s.slip {
                    self.slips
                        .entry((sat.sys.letter(), sat.prn, s.code.0))
                        .or_default()
                        .slips += 1;
                }
            }
        }
    }

    fn data_ticks(&mut self, t: Gpst, out: &mut Output) {
        let secs = t.secs();
        let slot = secs.div_euclid(STREAM_EVERY_S);
        if self.stream_slot != Some(slot) {
            self.stream_slot = Some(slot);
            out.points
                .push(self.stream_point(gpst_to_unix_ns(Gpst::new(slot * STREAM_EVERY_S, 0.0))));
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
    pub fn tick(&mut self, at_ns: i64, message_window_s: Option<f64>, out: &mut Output) {
        out.points.push(self.stream_point(at_ns));
        if let Some(w) = message_window_s {
            self.message_points(at_ns, w, out);
        }
    }

    fn stream_point(&self, at_ns: i64) -> Point {
        let st = self.framer.stats();
        Point::new("stream", at_ns)
            .tag("station", &self.cfg.station)
            .tag("source", &self.cfg.source)
            .field("connected", self.link.connected)
            // Consumed rather than received bytes: the same however the input was chunked.
            .field("bytes", self.frame_bytes + st.discarded_bytes)
            .field("frames", st.frames())
            .field("crc_errors", st.bad_frames())
            .field("discarded_bytes", st.discarded_bytes)
            .field_opt("latency_ms", self.link.latency_ms)
            .field("epochs_expected", self.epochs_expected())
            .field("epochs_received", self.epochs)
            .field("reconnects", self.link.reconnects)
    }

    fn message_points(&mut self, at_ns: i64, window_s: f64, out: &mut Output) {
        for (name, count) in std::mem::take(&mut self.message_slot) {
            out.points.push(
                Point::new("message", at_ns)
                    .tag("station", &self.cfg.station)
                    .tag("source", &self.cfg.source)
                    .tag("type", name)
                    .field("count", count)
                    .field("rate_hz", count as f64 / window_s),
            );
        }
    }

    fn position_point(&self, s: &Solution, tracked: usize, v: Option<Vector3<f64>>) -> Point {
        let p = Vector3::from(s.position);
        let g = ecef_to_geodetic(&p);
        let mut systems: Vec<char> = s.used.iter().map(|u| u.sys.letter()).collect();
        systems.sort_by_key(|c| "GRECJIS".find(*c).unwrap_or(9));
        systems.dedup();
        let solution = if s.used.iter().any(|u| u.iono_free) {
            "spp_if"
        } else {
            "spp"
        };
        let mut pt = Point::new("station_position", gpst_to_unix_ns(s.time))
            .tag("station", &self.cfg.station)
            .tag("solution", solution)
            .tag("systems", systems.into_iter().collect::<String>())
            .field("x", p.x)
            .field("y", p.y)
            .field("z", p.z)
            .field("lat", g.lat.to_degrees())
            .field("lon", g.lon.to_degrees())
            .field("h", g.h);
        if let Some(t) = self.cfg.truth {
            let d = enu(&t, &p);
            let r = crate::gnss::geodesy::enu_rotation(&ecef_to_geodetic(&t));
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
            let r = crate::gnss::geodesy::enu_rotation(&g);
            let venu = r * v;
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

    fn satellite_points(&mut self, e: &Epoch, sol: Option<&Solution>, out: &mut Output) {
        let at = gpst_to_unix_ns(e.time);
        // Corrections against the surveyed position (or the solution's, without one).
        let station = self
            .cfg
            .truth
            .or_else(|| sol.map(|s| Vector3::from(s.position)));
        let prcs: crate::gnss::SatMap<(Gnss, u8, SignalCode), f64> = station
            .map(|st| {
                pseudorange_corrections(e, &self.state.store, &st)
                    .into_iter()
                    .map(|p| ((p.sys, p.prn, p.code), p.prc_m))
                    .collect()
            })
            .unwrap_or_default();
        let mut rrcs = crate::gnss::SatMap::default();
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
                let here = self.approx?;
                let eph = self.state.store.select(sat.sys, sat.prn, e.time)?;
                let (pos, _) = eph.position_clock(e.time);
                let (el, az) = elevation_azimuth(&here, &pos);
                Some((el.to_degrees(), az.to_degrees()))
            });
            for sig in &sat.signals {
                let key = (sat.sys.letter(), sat.prn, sig.code.0);
                let slips = self.slips.remove(&key).map(|s| s.slips).unwrap_or(0);
                let p = Point::new("satellite", at)
                    .tag("station", &self.cfg.station)
                    .tag("sys", sat.sys.letter().to_string())
                    .tag("sat", name.clone())
                    .tag("signal", sig.code.as_str())
                    .field_opt("cn0", sig.cn0_dbhz)
                    .field_opt("lock_s", sig.lock_s)
                    .field("slip", slips as i64)
                    .field_opt("el", geometry.map(|g| g.0))
                    .field_opt("az", geometry.map(|g| g.1))
                    .field_opt("res_m", used.map(|u| u.residual_m))
                    .field_opt("prc_m", prcs.get(&(sat.sys, sat.prn, sig.code)).copied())
                    .field_opt("rrc_mps", rrcs.get(&(sat.sys, sat.prn, sig.code)).copied())
                    .field_opt(
                        "mp_m",
                        self.mp_latest.get(&(sat.sys, sat.prn, sig.code)).copied(),
                    );
                out.points.push(p);
            }
        }
    }
}

/// The L1 C/A code corrections of GPS and GLONASS satellites (what RTCM 2.3 types 1 and 31
/// carry), each with the issue of data of the ephemeris it was computed with.
pub fn dgnss_corrections(
    e: &Epoch,
    store: &crate::gnss::nav::EphemerisStore,
    station: &Vector3<f64>,
) -> Vec<crate::feeds::rtcm2::EpochCorrection> {
    let l1ca = SignalCode(*b"1C");
    pseudorange_corrections(e, store, station)
        .into_iter()
        .filter(|p| matches!(p.sys, Gnss::Gps | Gnss::Glonass) && p.code == l1ca)
        .filter_map(|p| {
            let eph = store.select(p.sys, p.prn, e.time)?;
            Some(crate::feeds::rtcm2::EpochCorrection {
                sys: p.sys,
                prn: p.prn,
                prc_m: p.prc_m,
                iod: (eph.iode & 0xFF) as u8,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{SimConfig, Simulator};

    fn simulated(epochs: u32) -> Vec<u8> {
        let mut sim = Simulator::new(SimConfig {
            epochs,
            ..Default::default()
        });
        let mut bytes = Vec::new();
        while let Some(frames) = sim.next_epoch() {
            for f in frames {
                bytes.extend_from_slice(&f);
            }
        }
        bytes
    }

    #[test]
    fn rates_follow_data_time() {
        let cfg = SimConfig::default();
        let bytes = simulated(121);
        let mut p = Pipeline::new(PipelineConfig {
            truth: Some(cfg.position),
            reference: Some(cfg.start),
            ..Default::default()
        });
        let mut out = Output::default();
        p.push(&bytes, &mut out);
        p.finish(&mut out);
        let count = |m: &str| out.points.iter().filter(|p| p.measurement == m).count();
        assert_eq!(p.epochs, 121);
        // The simulator sends each system's ephemeris after its first observations: the first
        // epochs have no orbits yet.
        assert_eq!(count("station_position") as u64, p.solutions);
        assert!(p.solutions >= 118, "{} solutions", p.solutions);
        // 121 epochs at 1 s from a whole minute: slots 0..=12 of 10 s.
        assert_eq!(count("stream"), 13);
        let sat_times: std::collections::BTreeSet<i64> = out
            .points
            .iter()
            .filter(|p| p.measurement == "satellite")
            .map(|p| p.time_ns)
            .collect();
        assert_eq!(sat_times.len(), 5);
        // Two full minutes of message counts.
        assert!(count("message") >= 2);
        let pos = out
            .points
            .iter()
            .find(|p| p.measurement == "station_position")
            .unwrap();
        assert!(pos.fields.iter().any(|(k, _)| *k == "nsat_tracked"));
    }

    #[test]
    fn same_bytes_same_points() {
        let bytes = simulated(40);
        let run = |chunk: usize| {
            let mut p = Pipeline::new(PipelineConfig {
                reference: Some(SimConfig::default().start),
                ..Default::default()
            });
            let mut out = Output::default();
            for c in bytes.chunks(chunk) {
                p.push(c, &mut out);
            }
            p.finish(&mut out);
            out.points.iter().map(Point::to_line).collect::<String>()
        };
        assert_eq!(run(7), run(4096));
    }
}
