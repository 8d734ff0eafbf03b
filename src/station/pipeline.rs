//! One source's data flow as a synchronous value: bytes → framer (raw frames for the fan-out)
//! → decode → [station state](super::state) (epochs) → engine (solutions, DGNSS corrections)
//! → [time series](super::series). The daemon runs one per source inside its
//! [runner](super::runner); `corsd replay` drives the very same code from files, so a replay
//! is a faithful rehearsal of what the daemon would have written. Every frame is decoded here
//! once: whatever else wants the station's products (caster, outputs, RTCM 2.3) takes them from
//! what this publishes.
//!
//! A source's epochs come from one protocol ([`InputFormat`]): RTCM3 MSM, or a u-blox
//! receiver's RXM-RAWX, for which the station also makes the RTCM3 a base sends
//! ([`super::base`]) and publishes it with the received frames, marked as made.

use std::collections::BTreeMap;
use std::sync::Arc;

use nalgebra::Vector3;

use super::base::{BaseFacts, RtcmBase};
use super::reflection::{Collector, ReflectionSettings, Span};
use super::series::{Series, StreamFacts, message_name};
use super::state::StationState;
use crate::framing::{FrameKind, Framer, FramerStats, RawFrame};
use crate::gnss::corrections::{EpochCorrections, code_corrections};
use crate::gnss::obs::Epoch;
use crate::gnss::spp::{CarrierSmoother, Solution, SppOptions, solve, velocity};
use crate::gnss::time::Gpst;
use crate::messages::rtcm3;
use crate::sources::InputFormat;
use crate::telemetry::Point;

pub use super::series::{MESSAGE_EVERY_S, SATELLITE_EVERY_S, STREAM_EVERY_S};

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
    /// L1 C/A code corrections of each epoch against `truth` (what RTCM 2.3 outputs encode),
    /// into [`Output::corrections`].
    pub dgnss: bool,
    /// Which protocol's epochs are taken.
    pub format: InputFormat,
    /// What the station messages made for a raw receiver say (1006, 1033).
    pub base: BaseFacts,
    /// Keep what GNSS reflectometry needs and hand out each closed span.
    pub reflection: Option<std::sync::Arc<ReflectionSettings>>,
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
            dgnss: false,
            format: InputFormat::Auto,
            base: BaseFacts::default(),
            reflection: None,
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
    /// Code corrections per epoch, when [`PipelineConfig::dgnss`] is set and `truth` known.
    pub corrections: Vec<EpochCorrections>,
    /// Reflectometry spans closed, to be analysed off the data path.
    pub reflection: Vec<Span>,
}

impl Output {
    pub fn clear(&mut self) {
        self.frames.clear();
        self.epochs.clear();
        self.solutions.clear();
        self.points.clear();
        self.corrections.clear();
        self.reflection.clear();
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

#[derive(Debug)]
pub struct Pipeline {
    cfg: PipelineConfig,
    framer: Framer,
    pub state: StationState,
    /// A u-blox receiver's raw output (RXM-RAWX epochs, RXM-SFRBX ephemerides), when the
    /// stream carries it.
    pub ubx: crate::messages::ubx::UbxReceiver,
    smoother: CarrierSmoother,
    approx: Option<Vector3<f64>>,
    series: Series,
    reflection: Option<Collector>,
    /// RTCM3 made from a raw receiver's epochs, once the first came.
    base: Option<RtcmBase>,
    /// In [`InputFormat::Auto`], whether the epochs taken are the UBX ones (set by the first).
    from_ubx: Option<bool>,
    /// Epochs of the protocol not taken (a receiver sending both MSM and RAWX).
    pub other_epochs: u64,
    /// Epochs assembled and solutions found.
    pub epochs: u64,
    pub solutions: u64,
    /// RTCM3 frames decoded (each once).
    pub decoded: u64,
    /// Decode failures per RTCM message number (counted, the stream goes on).
    pub decode_errors: BTreeMap<u16, u64>,
    /// Frames per message (`1074`, `GGA`, `UBX`) since the start, for `/metrics`.
    pub message_totals: BTreeMap<String, u64>,
    pub link: LinkState,
    /// Bytes of frames taken out of the framer (with the discarded ones: everything consumed).
    frame_bytes: u64,
    first_epoch: Option<Gpst>,
    last_epoch: Option<Gpst>,
    /// Smallest spacing between epochs seen (s): the stream's interval.
    interval_s: Option<f64>,
    /// Epochs expected and received in the passes of a looped recording before this one.
    expected_before: u64,
    received_before: u64,
}

impl Pipeline {
    pub fn new(cfg: PipelineConfig) -> Self {
        Pipeline {
            framer: Framer::new(),
            state: StationState::new(cfg.reference),
            ubx: crate::messages::ubx::UbxReceiver::new(cfg.reference),
            smoother: CarrierSmoother::new(cfg.smoothing),
            approx: cfg.truth,
            series: Series::new(&cfg.station, &cfg.source, cfg.truth, &cfg.spp),
            reflection: cfg.reflection.clone().map(Collector::new),
            base: None,
            from_ubx: match cfg.format {
                InputFormat::Auto => None,
                InputFormat::Rtcm3 => Some(false),
                InputFormat::Ubx => Some(true),
            },
            other_epochs: 0,
            cfg,
            epochs: 0,
            solutions: 0,
            decoded: 0,
            decode_errors: BTreeMap::new(),
            message_totals: BTreeMap::new(),
            link: LinkState {
                connected: true,
                ..Default::default()
            },
            frame_bytes: 0,
            first_epoch: None,
            last_epoch: None,
            interval_s: None,
            expected_before: 0,
            received_before: 0,
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
        let this_pass = match (self.first_epoch, self.last_epoch, self.interval_s) {
            (Some(a), Some(b), Some(dt)) if dt > 0.0 => (b.diff(a) / dt).round() as u64 + 1,
            (Some(_), _, _) => self.epochs - self.received_before,
            _ => 0,
        };
        self.expected_before + this_pass
    }

    /// Take in received bytes.
    pub fn push(&mut self, bytes: &[u8], out: &mut Output) {
        self.framer.push(bytes);
        self.drain(out);
    }

    /// Take in received bytes without framing them yet: [`Pipeline::step`] then handles one
    /// frame at a time, so that a paced recording can release each epoch when it is due.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.framer.push(bytes);
    }

    /// Handle the next whole frame fed; `false` when none is left.
    pub fn step(&mut self, out: &mut Output) -> bool {
        // Take what is needed out of the frame first: it borrows the framer's buffer.
        let Some(f) = self.framer.next_frame() else {
            return false;
        };
        let number = f.rtcm_number();
        self.frame_bytes += f.bytes.len() as u64;
        let name = message_name(f.kind, f.payload(), number);
        let bytes: Option<Arc<[u8]>> = self.cfg.keep_frames.then(|| Arc::from(f.bytes));
        let kind = f.kind;
        let decoded = (f.kind == FrameKind::Rtcm3).then(|| rtcm3::decode(f.payload()));
        let ubx = (f.kind == FrameKind::Ubx).then(|| crate::messages::ubx::decode_frame(f.bytes));
        self.series.frame(&name);
        *self.message_totals.entry(name).or_default() += 1;
        let mut completed = Vec::new();
        match decoded {
            None => {}
            Some(Ok(m)) => {
                self.decoded += 1;
                // Epochs are completed in stream order, so that what is known when an epoch
                // is solved does not depend on how the input was chunked.
                if let Some(e) = self.state.push(&m) {
                    completed.push((e, false));
                    while let Some(e) = self.state.take_ready() {
                        completed.push((e, false));
                    }
                }
            }
            Some(Err(e)) => {
                self.decoded += 1;
                self.decode_error(number.unwrap_or(0), &e);
            }
        }
        match ubx {
            Some(Ok(m)) => {
                use crate::messages::ubx::UbxEvent;
                if self.cfg.points {
                    self.series.receiver_message(&m);
                }
                match self.ubx.push(&m) {
                    Some(UbxEvent::Epoch(e)) => completed.push((e, true)),
                    Some(UbxEvent::Ephemeris(n)) => {
                        if let Some(e) = n.ephemeris {
                            self.state.store.insert(e);
                        }
                    }
                    None => {}
                }
                if self.ubx.reference.is_some() {
                    self.state.reference = self.ubx.reference;
                }
            }
            Some(Err(e)) => tracing::debug!(error = %e, "undecodable UBX message"),
            None => {}
        }
        if let Some(bytes) = bytes {
            // Dated after decoding: an MSM carries the time of its own epoch, so that the
            // archive puts every frame of an epoch in that epoch's hour.
            out.frames.push(RawFrame {
                kind,
                number,
                bytes,
                data_time_ns: self.state.reference.map(Gpst::gps_ns),
                made: false,
            });
        }
        for (e, from_ubx) in completed {
            if *self.from_ubx.get_or_insert(from_ubx) != from_ubx {
                self.other_epochs += 1;
                continue;
            }
            if from_ubx && self.cfg.keep_frames {
                self.make_rtcm(&e, out);
            }
            self.epoch(e, out);
        }
        true
    }

    /// The RTCM3 a base would send for a raw receiver's epoch, as frames dated by it.
    fn make_rtcm(&mut self, e: &Epoch, out: &mut Output) {
        let base = self
            .base
            .get_or_insert_with(|| RtcmBase::new(self.cfg.base.clone()));
        for p in base.epoch(e) {
            let number = rtcm3::message_number(&p);
            out.frames.push(RawFrame {
                kind: FrameKind::Rtcm3,
                number,
                bytes: Arc::from(crate::framing::rtcm3_frame(&p)),
                data_time_ns: Some(e.time.gps_ns()),
                made: true,
            });
        }
    }

    /// A looped recording starts again: its time goes back to the first epoch, so everything
    /// that follows the data in time starts afresh (as on the first pass), while the counters
    /// of the link (bytes, frames, epochs received and expected) go on growing.
    pub fn rewind(&mut self) {
        self.reset_link();
        self.state = StationState::new(self.cfg.reference);
        self.ubx = crate::messages::ubx::UbxReceiver::new(self.cfg.reference);
        self.base = None;
        self.smoother = CarrierSmoother::new(self.cfg.smoothing);
        self.approx = self.cfg.truth;
        self.series.rewind();
        self.expected_before = self.epochs_expected();
        self.received_before = self.epochs;
        self.first_epoch = None;
        self.last_epoch = None;
    }

    /// End of input: drain what is left and complete the last epoch.
    pub fn finish(&mut self, out: &mut Output) {
        self.framer.finish();
        self.drain(out);
        while let Some(e) = self.state.finish() {
            if *self.from_ubx.get_or_insert(false) {
                self.other_epochs += 1;
            } else {
                self.epoch(e, out);
            }
        }
        let here = self.cfg.truth.or(self.approx);
        if let Some(span) = self.reflection.as_mut().and_then(|c| c.finish(here)) {
            out.reflection.push(span);
        }
    }

    /// A new connection: partial frames of the old one must not join the new bytes.
    pub fn reset_link(&mut self) {
        let stats = self.framer.stats().clone();
        self.framer = Framer::with_stats(stats);
    }

    /// Live: the `stream` and `message` points at a wall-clock instant (UTC ns).
    pub fn tick(&mut self, at_ns: i64, message_window_s: Option<f64>, out: &mut Output) {
        let facts = self.stream_facts();
        self.series
            .tick(at_ns, message_window_s, &facts, &mut out.points);
    }

    fn stream_facts(&self) -> StreamFacts {
        let st = self.framer.stats();
        StreamFacts {
            connected: self.link.connected,
            bytes: self.frame_bytes + st.discarded_bytes,
            frames: st.frames(),
            crc_errors: st.bad_frames(),
            discarded_bytes: st.discarded_bytes,
            latency_ms: self.link.latency_ms,
            epochs_expected: self.epochs_expected(),
            epochs_received: self.epochs,
            reconnects: self.link.reconnects,
        }
    }

    fn drain(&mut self, out: &mut Output) {
        while self.step(out) {}
    }

    fn decode_error(&mut self, n: u16, e: &rtcm3::DecodeError) {
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
            self.series.observe(&e);
            if self.cfg.data_clock {
                let facts = self.stream_facts();
                self.series.data_ticks(e.time, &facts, &mut out.points);
            }
        }
        // The solution uses carrier-smoothed code; the epoch handed on (RINEX, QC) keeps the
        // observations as received.
        let mut smoothed = e.clone();
        self.smoother.apply(&mut smoothed);
        let sol = solve(&smoothed, &self.state.store, &self.cfg.spp, self.approx);
        if let (true, Some(truth)) = (self.cfg.dgnss, self.cfg.truth) {
            out.corrections.push(EpochCorrections {
                time: e.time,
                station: truth,
                sats: code_corrections(&smoothed, &self.state.store, &truth),
            });
        }
        if let Some(s) = &sol {
            self.solutions += 1;
            self.approx = Some(Vector3::from(s.position));
            if self.cfg.points {
                let v = velocity(&e, &self.state.store, s);
                out.points.push(self.series.position(s, e.sats.len(), v));
            }
        }
        if self.cfg.points {
            self.series.satellites(
                &e,
                sol.as_ref(),
                &self.state.store,
                self.approx,
                &mut out.points,
            );
        }
        if let Some(c) = &mut self.reflection
            && let Some(span) = c.add(&e, &self.state.store, self.cfg.truth.or(self.approx))
        {
            out.reflection.push(span);
        }
        if let Some(s) = sol {
            out.solutions.push(s);
        }
        out.epochs.push(e);
    }
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

    /// A looped recording's second pass gives what its first gave: the time going back to the
    /// first epoch leaves nothing behind (smoothing arcs, slots, orbits of the end of the file),
    /// while the link's counters go on.
    #[test]
    fn a_rewound_recording_gives_the_same_epochs_again() {
        let cfg = SimConfig::default();
        let bytes = simulated(90);
        let mut p = Pipeline::new(PipelineConfig {
            truth: Some(cfg.position),
            reference: Some(cfg.start),
            ..Default::default()
        });
        let pass = |p: &mut Pipeline| {
            let mut out = Output::default();
            p.feed(&bytes);
            while p.step(&mut out) {}
            p.finish(&mut out);
            let lines = |m: &str| {
                out.points
                    .iter()
                    .filter(|x| x.measurement == m)
                    .map(Point::to_line)
                    .collect::<Vec<_>>()
            };
            (lines("station_position"), lines("satellite"))
        };
        let first = pass(&mut p);
        assert_eq!(p.epochs_expected(), 90);
        p.rewind();
        let second = pass(&mut p);
        assert!(first.0.len() >= 85, "{} positions", first.0.len());
        assert_eq!(first, second);
        assert_eq!((p.epochs, p.epochs_expected()), (180, 180));
    }

    /// Every frame is decoded once, here; an RTCM 2.3 output is encoded from the corrections
    /// this publishes, not from frames decoded again (a feed cannot hold a pipeline: the layout
    /// test keeps `feeds` from importing `station`).
    #[test]
    fn frames_are_decoded_once_and_corrections_published() {
        let cfg = SimConfig::default();
        let bytes = simulated(60);
        let mut p = Pipeline::new(PipelineConfig {
            truth: Some(cfg.position),
            reference: Some(cfg.start),
            points: false,
            dgnss: true,
            ..Default::default()
        });
        let mut out = Output::default();
        for c in bytes.chunks(997) {
            p.push(c, &mut out);
        }
        p.finish(&mut out);
        let (frames, _) = crate::framing::frames(&bytes);
        assert_eq!(p.decoded, frames.len() as u64);
        assert_eq!(out.corrections.len() as u64, p.epochs);
        let mut enc = crate::feeds::rtcm2::Rtcm2Encoder::new(1);
        let rtcm2: Vec<u8> = out.corrections.iter().flat_map(|c| enc.encode(c)).collect();
        let msgs = crate::feeds::rtcm2::Decoder::new().push(&rtcm2);
        assert!(msgs.iter().filter(|m| m.header.msg_type == 1).count() >= 50);
        assert!(msgs.iter().any(|m| m.header.msg_type == 31));
    }

    /// The simulated epochs as a u-blox receiver's RXM-RAWX frames, and the RTCM3 stream.
    fn rawx_and_rtcm(epochs: u32) -> (Vec<u8>, Vec<u8>, usize) {
        use crate::messages::ubx::{Ubx, rawx::Rawx};
        let rtcm = simulated(epochs);
        let mut p = Pipeline::new(PipelineConfig {
            reference: Some(SimConfig::default().start),
            points: false,
            ..Default::default()
        });
        let mut out = Output::default();
        p.push(&rtcm, &mut out);
        p.finish(&mut out);
        let ubx: Vec<u8> = out
            .epochs
            .iter()
            .flat_map(|e| Ubx::Rawx(Rawx::from_epoch(e)).to_frame())
            .collect();
        (ubx, rtcm, out.epochs.len())
    }

    /// A receiver sending both RAWX and MSM gives each epoch once: from the protocol set, or
    /// in `auto` from the one that gave the first epoch.
    #[test]
    fn epochs_come_from_one_protocol() {
        let (ubx, rtcm, n) = rawx_and_rtcm(20);
        let both: Vec<u8> = [ubx.as_slice(), rtcm.as_slice()].concat();
        for (format, from_ubx) in [
            (InputFormat::Auto, true),
            (InputFormat::Ubx, true),
            (InputFormat::Rtcm3, false),
        ] {
            let mut p = Pipeline::new(PipelineConfig {
                reference: Some(SimConfig::default().start),
                points: false,
                format,
                ..Default::default()
            });
            let mut out = Output::default();
            p.push(&both, &mut out);
            p.finish(&mut out);
            assert_eq!(
                (p.epochs as usize, p.other_epochs as usize),
                (n, n),
                "{format:?}"
            );
            assert_eq!(p.from_ubx, Some(from_ubx));
        }
    }

    /// From RAWX epochs the station makes RTCM3 frames, marked as made, only where frames are
    /// kept (the daemon; a replay makes none).
    #[test]
    fn raw_epochs_make_marked_rtcm3_frames() {
        let cfg = SimConfig::default();
        let (ubx, _, n) = rawx_and_rtcm(12);
        for keep in [true, false] {
            let mut p = Pipeline::new(PipelineConfig {
                reference: Some(cfg.start),
                truth: Some(cfg.position),
                keep_frames: keep,
                points: false,
                base: BaseFacts {
                    position: Some(cfg.position),
                    ..Default::default()
                },
                ..Default::default()
            });
            let mut out = Output::default();
            p.push(&ubx, &mut out);
            p.finish(&mut out);
            let made: Vec<&RawFrame> = out.frames.iter().filter(|f| f.made).collect();
            if !keep {
                assert!(out.frames.is_empty());
                continue;
            }
            assert_eq!(
                out.frames.len() - made.len(),
                n,
                "the RAWX frames themselves"
            );
            assert!(made.iter().all(|f| f.kind == FrameKind::Rtcm3));
            let msm7 = made.iter().filter(|f| f.number == Some(1077)).count();
            assert_eq!(msm7, n);
            assert_eq!(made.iter().filter(|f| f.number == Some(1006)).count(), 2);
            // Decoded back, the made MSMs give the epochs' satellites.
            let mut state = StationState::new(Some(cfg.start));
            let mut back = 0;
            for f in &made {
                let m = rtcm3::decode(crate::framing::rtcm3::payload(&f.bytes)).unwrap();
                back += usize::from(state.push(&m).is_some());
            }
            back += usize::from(state.finish().is_some());
            assert_eq!(back, n);
        }
    }
}
