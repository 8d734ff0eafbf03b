//! `corsd simulate`: a realistic RTCM3 station stream from a known position and known orbits.
//!
//! Per epoch the simulator observes every satellite of the built-in sky ([`sky`]) above the mask
//! and emits, in the order a receiver does: the MSM observation messages of each system (split
//! so that no message exceeds 64 cells, all but the last of an epoch flagged "more to come"),
//! then the scheduled station messages (1006, 1008, 1033, 1230 every 10 s) and one broadcast
//! ephemeris per system in rotation (1019, 1020, 1042, 1044, 1046).
//!
//! The ephemerides are encoded, then decoded again, and the *decoded* orbits are what the
//! observables are computed from: an engine that decodes this stream sees exactly the orbits
//! the ranges came from, so with noise and atmosphere off it must find the station to the
//! millimetre. Everything random comes from one seeded generator: the same options give the
//! same bytes.

pub mod compose;
pub mod precise;
pub mod sky;
pub mod walk;

use std::collections::BTreeMap;

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::time::Gpst;

use sky::{Broadcast, ObsModel, Reception, Rng, SatObs, SimSat};
use walk::{Canopy, Walk};

/// Faults to inject.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Faults {
    /// Probability per epoch that the epoch is not sent at all.
    pub gap: f64,
    /// Probability per epoch and satellite of a cycle slip on all its signals.
    pub slip: f64,
    /// Probability per frame that one byte is flipped (so its CRC fails).
    pub corrupt: f64,
}

/// What to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    pub name: String,
    pub station_id: u16,
    /// Antenna reference point, ECEF (m).
    pub position: Vector3<f64>,
    pub start: Gpst,
    pub epochs: u32,
    pub interval_s: u32,
    /// 4 or 7.
    pub msm: u8,
    /// Emit both MSM4 and MSM7 of every epoch (a benchmark mix).
    pub both_msm: bool,
    /// Emit only the observation messages (no station messages, no ephemerides).
    pub obs_only: bool,
    pub systems: Vec<Gnss>,
    pub mask_deg: f64,
    pub seed: u64,
    pub noise: bool,
    pub multipath: bool,
    pub atmosphere: bool,
    pub faults: Faults,
    /// The receiver walks the forest plot near `position` instead of standing on it.
    pub walk: Option<Walk>,
    /// One of two receivers compared by double differences: noise from each signal's C/N0
    /// rather than from elevation (with `noise`), a smooth ionosphere.
    pub pair_model: bool,
    /// Offset of the receiver's steered clock (ns); it wanders 3 ns around it.
    pub clock_ns: f64,
    /// Antenna type and radome (20 characters, as in ANTEX) for 1008/1033.
    pub antenna: String,
    /// Ground reflection: per azimuth sector, its start (degrees) and the reflector height (m);
    /// see [`sky::ObsModel::reflector`].
    pub reflector: Vec<(f64, f64)>,
    /// Observe the satellites on their exact orbits with everything a PPP model removes, so
    /// that the products of [`precise`] describe them (see there).
    pub precise: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            name: "VTE1".into(),
            station_id: 1,
            position: crate::gnss::geodesy::Geodetic::from_degrees(17.9757, 102.6331, 180.0)
                .to_ecef(),
            start: Gpst::from_week_tow(2408, 0.0),
            epochs: 60,
            interval_s: 1,
            msm: 4,
            both_msm: false,
            obs_only: false,
            systems: crate::gnss::spp::SYSTEMS.to_vec(),
            mask_deg: 5.0,
            seed: 1,
            noise: false,
            multipath: false,
            atmosphere: true,
            faults: Faults::default(),
            walk: None,
            pair_model: false,
            clock_ns: 0.0,
            antenna: "TRM59800.00     NONE".into(),
            reflector: Vec::new(),
            precise: false,
        }
    }
}

/// Per satellite and signal: the carrier-phase ambiguity (m) and when lock began.
#[derive(Clone, Debug, Default)]
struct Track {
    ambiguity_m: BTreeMap<u8, f64>,
    lock_since: Option<Gpst>,
    /// C/N0 at the last epoch (dB-Hz), which sets how likely the loop is to slip next.
    last_cn0: f64,
}

/// A broadcast ephemeris in force: its encoded payload and the orbit decoded from it.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub(crate) payload: Vec<u8>,
    pub(crate) orbit: Broadcast,
    /// Start of its validity (s) and when the next one is due.
    pub(crate) next_issue: Gpst,
}

/// The running simulator.
pub struct Simulator {
    cfg: SimConfig,
    sats: Vec<SimSat>,
    rng: Rng,
    epoch: u32,
    tracks: BTreeMap<(Gnss, u8), Track>,
    issued: BTreeMap<(Gnss, u8), Issued>,
    /// Rotating ephemeris index per system.
    eph_cursor: BTreeMap<Gnss, usize>,
    /// The faults made so far, for tests and the closing line.
    pub faults_made: FaultCounts,
    /// Satellites tracked at some epoch so far.
    ever_tracked: std::collections::BTreeSet<(Gnss, u8)>,
    /// What the receiver was and did at the last epoch.
    truth: Option<Truth>,
    precise: Option<precise::Precise>,
}

/// The truth of one epoch: where the antenna was and what it tracked.
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    pub time: Gpst,
    /// Antenna reference point, ECEF (m); outside [`SimConfig::precise`] the simulator models
    /// no phase-centre offset, so it is the phase centre too.
    pub position: Vector3<f64>,
    pub canopy: Canopy,
    /// Satellites observed.
    pub tracked: usize,
    /// Satellites tracked before whose lock began again at this epoch (a slip, or re-acquisition
    /// after a blockage): their lock-time indicators restart, their ambiguities are new.
    pub lock_restarts: Vec<(Gnss, u8)>,
    /// Of those, the slips of a signal that stayed in view.
    pub slips: Vec<(Gnss, u8)>,
}

/// Faults the simulator put in, to check that a receiver of the stream finds each of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Epochs left out.
    pub gap_epochs: u64,
    /// Slips of a satellite that was tracked before and is seen at the slip's epoch.
    pub slips: u64,
    /// Frames with a flipped bit.
    pub corrupted_frames: u64,
}

/// One epoch's observations, grouped by system.
pub(crate) type EpochObs = BTreeMap<Gnss, Vec<(SatObs, f64)>>;

impl Truth {
    /// The column names of a truth file, after its `#` comment lines.
    pub const CSV_HEADER: &'static str =
        "gps_week,tow_s,x_m,y_m,z_m,canopy,tracked,lock_restarts,slips";

    /// This epoch as a line of the truth file (satellites space-separated, e.g. `G05 C12`).
    pub fn csv(&self) -> String {
        let names = |v: &[(Gnss, u8)]| {
            v.iter()
                .map(|(s, p)| crate::gnss::sat_name(*s, *p))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "{},{:.3},{:.4},{:.4},{:.4},{},{},{},{}",
            self.time.week(),
            self.time.tow(),
            self.position.x,
            self.position.y,
            self.position.z,
            self.canopy.name(),
            self.tracked,
            names(&self.lock_restarts),
            names(&self.slips)
        )
    }
}

impl Simulator {
    pub fn new(cfg: SimConfig) -> Simulator {
        let sats = sky::constellation(&cfg.systems);
        let rng = Rng::new(cfg.seed);
        let end = cfg
            .start
            .add(f64::from(cfg.epochs) * f64::from(cfg.interval_s));
        let precise = cfg
            .precise
            .then(|| precise::Precise::new(&sats, cfg.start, end, &cfg.antenna));
        Simulator {
            precise,
            cfg,
            sats,
            rng,
            epoch: 0,
            tracks: BTreeMap::new(),
            issued: BTreeMap::new(),
            eph_cursor: BTreeMap::new(),
            faults_made: FaultCounts::default(),
            ever_tracked: Default::default(),
            truth: None,
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The simulated satellites.
    pub fn satellites(&self) -> &[SimSat] {
        &self.sats
    }

    /// The precise model, when the configuration asks for one.
    pub fn precise(&self) -> Option<&precise::Precise> {
        self.precise.as_ref()
    }

    /// The truth of the last epoch produced.
    pub fn truth(&self) -> Option<&Truth> {
        self.truth.as_ref()
    }

    /// Epochs produced so far.
    pub fn epochs_done(&self) -> u32 {
        self.epoch
    }

    /// The frames of the next epoch (whole RTCM3 frames), or `None` at the end.
    pub fn next_epoch(&mut self) -> Option<Vec<Vec<u8>>> {
        if self.epoch >= self.cfg.epochs {
            return None;
        }
        let t = self
            .cfg
            .start
            .add(self.epoch as f64 * self.cfg.interval_s as f64);
        self.epoch += 1;
        self.refresh_ephemerides(t);
        let obs = self.observe_all(t);
        let gap = self.cfg.faults.gap > 0.0 && self.rng.uniform() < self.cfg.faults.gap;
        let mut frames = Vec::new();
        if gap {
            self.faults_made.gap_epochs += 1;
        } else {
            for payload in compose::epoch_payloads(self, t, &obs) {
                frames.push(crate::framing::rtcm3_frame(&payload));
            }
        }
        if self.cfg.faults.corrupt > 0.0 {
            for f in &mut frames {
                if self.rng.uniform() < self.cfg.faults.corrupt && f.len() > 4 {
                    let at = 3 + (self.rng.next_u64() as usize) % (f.len() - 3);
                    f[at] ^= 1 << (self.rng.next_u64() % 8);
                    self.faults_made.corrupted_frames += 1;
                }
            }
        }
        Some(frames)
    }

    fn refresh_ephemerides(&mut self, t: Gpst) {
        for i in 0..self.sats.len() {
            let key = (self.sats[i].sys, self.sats[i].prn);
            let due = self.issued.get(&key).is_none_or(|iss| t >= iss.next_issue);
            if due {
                let iss = compose::issue_ephemeris(&self.sats[i], t);
                self.issued.insert(key, iss);
            }
        }
    }

    fn observe_all(&mut self, t: Gpst) -> EpochObs {
        let model = ObsModel {
            mask: self.cfg.mask_deg.to_radians(),
            noise: self.cfg.noise,
            multipath: self.cfg.multipath,
            ionosphere: self.cfg.atmosphere,
            // The precise model brings its own troposphere, the one PPP estimates.
            troposphere: self.cfg.atmosphere && self.precise.is_none(),
            pair_model: self.cfg.pair_model,
            reflector: self.cfg.reflector.clone(),
        };
        let elapsed = t.diff(self.cfg.start);
        let place = self.cfg.walk.as_ref().map(|w| w.at(elapsed));
        let position = place.map_or(self.cfg.position, |p| p.position);
        // A steered clock: a fixed offset and a slow wander, the same on code and phase.
        let clock_m = if self.cfg.clock_ns == 0.0 {
            0.0
        } else {
            (self.cfg.clock_ns + 3.0 * (elapsed * std::f64::consts::TAU / 600.0).sin())
                * 1e-9
                * crate::gnss::orbit::C
        };
        let mut truth = Truth {
            time: t,
            position,
            canopy: place.map_or(Canopy::Open, |p| p.canopy),
            tracked: 0,
            lock_restarts: Vec::new(),
            slips: Vec::new(),
        };
        let mut out: EpochObs = BTreeMap::new();
        for sat in &self.sats {
            let key = (sat.sys, sat.prn);
            let Some(iss) = self.issued.get(&key) else {
                continue;
            };
            let track = self.tracks.entry(key).or_default();
            let mut slipped = false;
            if self.cfg.faults.slip > 0.0 && self.rng.uniform() < self.cfg.faults.slip {
                slipped = track.lock_since.is_some();
                track.ambiguity_m.clear();
                track.lock_since = None;
            }
            // A weak signal under the canopy slips now and then: 0.2 % of epochs at good C/N0,
            // rising to 3 % at the tracking threshold.
            if place.is_some_and(|p| p.canopy != Canopy::Open) && track.lock_since.is_some() {
                let weak = ((34.0 - track.last_cn0) / 9.0).clamp(0.0, 1.0);
                if self.rng.uniform() < 0.002 + 0.028 * weak {
                    slipped = true;
                    track.ambiguity_m.clear();
                    track.lock_since = None;
                }
            }
            // Ambiguities are drawn on first sight and kept while the satellite stays in view:
            // a whole number of cycles plus the phase/code offset a receiver starts with.
            let mut draws: Vec<(u8, f64)> = Vec::new();
            for s in &sat.signals {
                if !track.ambiguity_m.contains_key(&s.msm_id) {
                    let cycles = (self.rng.uniform() * 200.0 - 100.0).round();
                    draws.push((s.msm_id, cycles * sky::wavelength(s.freq_hz)));
                }
            }
            for (id, a) in draws {
                track.ambiguity_m.insert(id, a);
            }
            let amb = track.ambiguity_m.clone();
            let sight = |el: f64, cn0: f64| match &place {
                Some(p) => Walk::sight(p, sat.sys, sat.prn, el, cn0),
                None => Some(sky::Sight::default()),
            };
            let precise = self.precise.as_ref();
            let antenna = precise.map_or(position, |p| p.antenna_position(&position, t));
            let terms = |sat_pos: &Vector3<f64>| {
                precise.map_or_else(Vec::new, |p| p.terms(sat, sat_pos, &antenna, t))
            };
            let rx = Reception {
                position: antenna,
                velocity: place.map_or(Vector3::zeros(), |p| p.velocity),
                clock_m,
                sight: &sight,
                terms: precise.is_some().then_some(&terms as &sky::SatTerms<'_>),
            };
            let orbit = precise
                .and_then(|p| p.orbit(sat.sys, sat.prn))
                .unwrap_or(&iss.orbit);
            let seen = sky::observe(
                sat,
                orbit,
                &rx,
                t,
                &model,
                &|id| amb.get(&id).copied().unwrap_or(0.0),
                &mut self.rng,
            );
            match seen {
                Some(o) => {
                    if slipped {
                        self.faults_made.slips += 1;
                        truth.slips.push(key);
                    }
                    if track.lock_since.is_none() && self.ever_tracked.contains(&key) {
                        truth.lock_restarts.push(key);
                    }
                    self.ever_tracked.insert(key);
                    truth.tracked += 1;
                    track.last_cn0 = o.signals.first().map_or(0.0, |s| s.cn0_dbhz);
                    let since = *track.lock_since.get_or_insert(t);
                    out.entry(sat.sys).or_default().push((o, t.diff(since)));
                }
                None => {
                    // Out of view: lock is lost, a new pass starts with new ambiguities.
                    track.lock_since = None;
                    track.ambiguity_m.clear();
                    if let Some(p) = precise {
                        p.end_pass(sat.sys, sat.prn);
                    }
                }
            }
        }
        self.truth = Some(truth);
        out
    }

    /// The next satellite (of those in view) whose ephemeris is sent for `sys`.
    pub(crate) fn next_ephemeris(&mut self, sys: Gnss, in_view: &[u8]) -> Option<Vec<u8>> {
        if in_view.is_empty() {
            return None;
        }
        let cur = self.eph_cursor.entry(sys).or_insert(0);
        let prn = in_view[*cur % in_view.len()];
        *cur += 1;
        self.issued.get(&(sys, prn)).map(|i| i.payload.clone())
    }
}
