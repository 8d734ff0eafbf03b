//! The PPP engine: observation model per satellite, the filter's epoch cycle, slips and
//! outliers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Timelike};
use nalgebra::{DMatrix, DVector, Matrix3, Vector3};

use super::blocks;
use super::kalman::{Kalman, Obs};
use super::products::shapiro_delay;
use super::{PppEpoch, PppOptions, PppSkip, Products, Receiver, SatAntexPolicy, SatState};
use crate::gnss::antex::{Antenna, Antex, AntexError, nadir_angle};
use crate::gnss::atmosphere::{niell_mapping, saastamoinen_zenith, tropo_mapping};
use crate::gnss::geodesy::ecef_to_geodetic;
use crate::gnss::obs::{Epoch, SignalCode, SignalObs};
use crate::gnss::orbit::C;
use crate::gnss::rtk::model::{Station, antenna_terms, geometry};
use crate::gnss::rtk::signals::{default_bands, frequency, pick};
use crate::gnss::slip::{SignalSlip, SlipDetector, SlipOptions};
use crate::gnss::sunmoon::sun_ecef;
use crate::gnss::time::Gpst;
use crate::gnss::windup::WindUp;
use crate::gnss::{Gnss, SatMap, sat_name};

/// The Earth's rotation rate (rad/s, IERS), for the Sagnac term with precise orbits.
const OMEGA_E: f64 = 7.292_115_146_7e-5;
/// State layout: position, zenith wet delay, then one clock per configured system.
const POS: usize = 0;
const ZWD: usize = 3;
const CLK: usize = 4;
/// A priori sigmas: position after the code solution (m), ZWD (m), a new ambiguity (m),
/// a clock re-estimated each epoch (m), kinematic position noise per epoch (m).
const SIGMA_POS0: f64 = 10.0;
const SIGMA_ZWD0: f64 = 0.3;
const SIGMA_AMB0: f64 = 30.0;
const SIGMA_CLK: f64 = 100.0;
const SIGMA_KIN: f64 = 100.0;
/// Variance of the troposphere model left after the wet-delay estimate (m²), added to every
/// observation: it keeps low satellites from pulling the height (1 cm, as RTKLIB's).
const TROPO_VAR: f64 = 1e-4;
/// Outlier passes per epoch.
const MAX_REJECTS: usize = 8;

/// What one satellite gives an epoch before the receiver position enters.
struct Prepared {
    sys: Gnss,
    prn: u8,
    bands: [u8; 2],
    /// Ionosphere-free coefficients of the two bands.
    coef: [f64; 2],
    lambda: [f64; 2],
    p_if: f64,
    /// Ionosphere-free phase (m).
    l_if: f64,
    sat: SatState,
    antenna: std::sync::Arc<Antenna>,
    slipped: bool,
}

/// A code solution: position and one clock (m) per system present.
type CodeFix = (Vector3<f64>, Vec<(Gnss, f64)>);

/// A satellite arc's ambiguity.
#[derive(Clone, Copy, Debug)]
struct Arc {
    state: usize,
    last: Gpst,
}

/// What a filter row is, for the outlier handling.
#[derive(Clone, Copy, Debug)]
enum RowKind {
    Code,
    /// Phase of a satellite; `code_residual` is the residual once its ambiguity restarts.
    Phase {
        key: (Gnss, u8),
        code_residual: f64,
        l_minus_p: f64,
    },
}

/// Exclusions of one satellite: the epochs they cost, and per kind of reason its first message
/// and its epochs (a clock missing before midnight and an orbit gap at noon are two kinds).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Exclusion {
    pub epochs: usize,
    pub reasons: Vec<(String, usize)>,
}

impl Exclusion {
    /// The reasons as one line: `first message (N epochs); …`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .reasons
            .iter()
            .map(|(m, n)| format!("{m} ({n} epochs)"))
            .collect();
        parts.join("; ")
    }
}

/// The kind of a reason: its message without the instant (`… GPST: `) and the details after
/// the first comma or parenthesis.
fn reason_kind(msg: &str) -> &str {
    let tail = msg.rsplit_once("GPST: ").map_or(msg, |(_, t)| t);
    tail.split([',', '(']).next().unwrap_or(tail).trim()
}

pub struct Ppp {
    opts: PppOptions,
    products: Products,
    antex: Antex,
    receiver: Receiver,
    kf: Kalman,
    initialized: bool,
    last: Option<Gpst>,
    arcs: SatMap<(Gnss, u8), Arc>,
    windup: SatMap<(Gnss, u8), WindUp>,
    sat_antennas: SatMap<(Gnss, u8), Result<std::sync::Arc<Antenna>, String>>,
    /// The newest GPS block each satellite's signals have shown.
    sat_ranks: SatMap<(Gnss, u8), u8>,
    stand_ins: BTreeMap<String, String>,
    /// Satellites of the chosen systems with dual-frequency code and phase at least once, and
    /// the first reason the others (and those) lacked it.
    used: BTreeSet<String>,
    unused: BTreeMap<String, String>,
    slips: SlipDetector,
    exclusions: BTreeMap<String, Exclusion>,
    outdated: BTreeSet<String>,
    restarts: usize,
}

impl Ppp {
    /// An engine for one receiver. `approx` (ECEF, m) only speeds up the first code solution.
    pub fn new(opts: PppOptions, products: Products, antex: Antex, receiver: Receiver) -> Ppp {
        Ppp {
            opts,
            products,
            antex,
            receiver,
            kf: Kalman::default(),
            initialized: false,
            last: None,
            arcs: SatMap::default(),
            windup: SatMap::default(),
            sat_antennas: SatMap::default(),
            sat_ranks: SatMap::default(),
            stand_ins: BTreeMap::new(),
            used: BTreeSet::new(),
            unused: BTreeMap::new(),
            slips: SlipDetector::new(SlipOptions::default()),
            exclusions: BTreeMap::new(),
            outdated: BTreeSet::new(),
            restarts: 0,
        }
    }

    pub fn options(&self) -> &PppOptions {
        &self.opts
    }

    pub fn products(&self) -> &Products {
        &self.products
    }

    /// Satellites left out of at least one epoch, by name, with the reason.
    pub fn exclusions(&self) -> &BTreeMap<String, Exclusion> {
        &self.exclusions
    }

    /// Satellites whose antenna came from an outdated open-ended ANTEX entry (only under
    /// [`SatAntexPolicy::OutdatedOk`]).
    pub fn outdated_antex(&self) -> &BTreeSet<String> {
        &self.outdated
    }

    /// Satellites whose outdated ANTEX entry was replaced by the file's entry of the block
    /// their signals show (under [`SatAntexPolicy::BySignals`]), with what replaced what.
    pub fn stand_ins(&self) -> &BTreeMap<String, String> {
        &self.stand_ins
    }

    /// Satellites of the chosen systems observed but never with dual-frequency code and phase,
    /// with the reason: never in the solution, and not among the exclusions.
    pub fn never_usable(&self) -> BTreeMap<&str, &str> {
        self.unused
            .iter()
            .filter(|(k, _)| !self.used.contains(*k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Ambiguity restarts so far (slips, outages and outliers).
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// Processes one epoch.
    pub fn process(&mut self, epoch: &Epoch) -> Result<PppEpoch, PppSkip> {
        let t = epoch.time;
        let slips = self.slips.process(epoch);
        let prepared = self.prepare(epoch, &slips);
        let mut present: Vec<Gnss> = prepared.iter().map(|p| p.sys).collect();
        present.sort();
        present.dedup();
        let needed = 3 + present.len();
        if prepared.len() < needed {
            return Err(PppSkip::TooFewSatellites {
                usable: prepared.len(),
                needed,
            });
        }
        if !self.initialized {
            let (pos, clocks) =
                self.code_solution(&prepared, t)
                    .ok_or(PppSkip::TooFewSatellites {
                        usable: prepared.len(),
                        needed,
                    })?;
            self.start(pos, &clocks, t);
        }
        self.predict(t);
        let (obs, kinds) = self.rows(&prepared, t);
        let nsat = kinds
            .iter()
            .filter(|k| matches!(k, RowKind::Phase { .. }))
            .count();
        if nsat < needed {
            return Err(PppSkip::TooFewSatellites {
                usable: nsat,
                needed,
            });
        }
        let restarts = self.update(obs, kinds)?;
        self.last = Some(t);
        let x = &self.kf.x;
        let marker = Vector3::new(x[POS], x[POS + 1], x[POS + 2]);
        let geo = ecef_to_geodetic(&marker);
        let zhd = saastamoinen_zenith(geo.lat, geo.h).0;
        Ok(PppEpoch {
            time: t,
            pos: [marker.x, marker.y, marker.z],
            cov: self.kf.p.fixed_view::<3, 3>(POS, POS).into_owned(),
            ztd: zhd + x[ZWD],
            zwd: x[ZWD],
            sigma_zwd: self.kf.p[(ZWD, ZWD)].sqrt(),
            nsat,
            restarts,
        })
    }

    fn exclude(&mut self, sys: Gnss, prn: u8, reason: String) {
        let x = self.exclusions.entry(sat_name(sys, prn)).or_default();
        x.epochs += 1;
        let kind = reason_kind(&reason);
        match x.reasons.iter_mut().find(|(m, _)| reason_kind(m) == kind) {
            Some(r) => r.1 += 1,
            None => x.reasons.push((reason, 1)),
        }
    }

    /// The satellite antenna by the policy, looked up once per satellite (again when its
    /// signals show a newer block than before, under [`SatAntexPolicy::BySignals`]).
    fn sat_antenna(
        &mut self,
        sys: Gnss,
        prn: u8,
        t: Gpst,
        signals: &[SignalObs],
    ) -> Result<std::sync::Arc<Antenna>, String> {
        let key = (sys, prn);
        let by_signals = self.opts.sat_antex == SatAntexPolicy::BySignals;
        let rank = if by_signals {
            blocks::rank_from_signals(sys, prn, signals.iter().map(|s| s.code))
        } else {
            0
        };
        let seen = self.sat_ranks.get(&key).copied().unwrap_or(0);
        if let Some(r) = self.sat_antennas.get(&key)
            && rank <= seen
        {
            return r.clone();
        }
        self.sat_ranks.insert(key, rank.max(seen));
        let rank = rank.max(seen);
        let name = sat_name(sys, prn);
        let r = match self.antex.satellite(sys, prn, t) {
            Ok(a) => Ok(a.clone()),
            Err(AntexError::SatelliteOutdated { .. })
                if self.opts.sat_antex != SatAntexPolicy::Strict =>
            {
                match self.antex.satellite_in_file(sys, prn, t) {
                    Ok(a) if by_signals && blocks::block_rank(sys, &a.kind).unwrap_or(0) < rank => {
                        let a = a.clone();
                        self.stand_in(sys, prn, rank, t, Some(&a))
                    }
                    Ok(a) => {
                        self.outdated.insert(name.clone());
                        Ok(a.clone())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e @ AntexError::SatelliteNotFound { .. }) if by_signals && rank > 0 => self
                .stand_in(sys, prn, rank, t, None)
                .map_err(|s| format!("{e}; {s}")),
            Err(e) => Err(e.to_string()),
        };
        // Shared, not copied: the entry is looked up for every satellite of every epoch.
        let r = r.map(std::sync::Arc::new);
        self.sat_antennas.insert(key, r.clone());
        r
    }

    /// The file's newest entry of the block the satellite's signals (Galileo: its PRN) show, for
    /// an entry of an older block (`replaced`) or for none, listed among the stand-ins.
    fn stand_in(
        &mut self,
        sys: Gnss,
        prn: u8,
        rank: u8,
        t: Gpst,
        replaced: Option<&Antenna>,
    ) -> Result<Antenna, String> {
        let name = sat_name(sys, prn);
        let block = blocks::block_name(sys, rank);
        let Some(s) = blocks::stand_in(&self.antex, sys, rank, t).cloned() else {
            self.stand_ins.remove(&name);
            return Err(match replaced {
                Some(a) => format!(
                    "{name}: its signals need {block} or newer, the ANTEX file has only {} {} for it and no satellite of that block",
                    a.kind, a.svn
                ),
                None => format!("no {block} entry in the ANTEX files to stand in"),
            });
        };
        self.outdated.remove(&name);
        let why = match replaced {
            Some(a) => format!(
                "for the file's {} {} (its signals need {block})",
                a.kind, a.svn
            ),
            None => format!("for a satellite the ANTEX files lack ({block})"),
        };
        let fallbacks: Vec<String> = default_bands(sys)
            .into_iter()
            .flatten()
            .filter_map(|b| s.frequency(sys, b).ok().map(|(_, u)| u))
            .filter(|u| u.is_fallback())
            .map(|u| format!("{} from its {}", u.wanted, u.used))
            .collect();
        let why = if fallbacks.is_empty() {
            why
        } else {
            format!("{why}; the entry lacks a band: {}", fallbacks.join(", "))
        };
        self.stand_ins
            .insert(name, format!("{} {} {why}", s.kind, s.svn));
        Ok(s)
    }

    /// Dual-frequency observations with products and a satellite antenna.
    fn prepare(&mut self, epoch: &Epoch, slips: &[SignalSlip]) -> Vec<Prepared> {
        let t = epoch.time;
        let mut out = Vec::with_capacity(epoch.sats.len());
        for sat in &epoch.sats {
            if !self.opts.systems.contains(&sat.sys) {
                continue;
            }
            if self.opts.exclude.contains(&(sat.sys, sat.prn)) {
                self.exclude(sat.sys, sat.prn, "left out by the options".into());
                continue;
            }
            let name = || sat_name(sat.sys, sat.prn);
            let Some(bands) = default_bands(sat.sys) else {
                self.unused
                    .entry(name())
                    .or_insert_with(|| "no dual-frequency band pair for its system".into());
                continue;
            };
            let (Some(s0), Some(s1)) = (pick(sat, bands[0]), pick(sat, bands[1])) else {
                self.unused
                    .entry(name())
                    .or_insert_with(|| format!("no signal on bands {} and {}", bands[0], bands[1]));
                continue;
            };
            let (Some(f0), Some(f1)) = (frequency(sat.sys, s0), frequency(sat.sys, s1)) else {
                self.unused.entry(name()).or_insert_with(|| {
                    "no carrier frequency (a GLONASS satellite needs its channel number: the RINEX header's GLONASS SLOT / FRQ # or a navigation file)".into()
                });
                continue;
            };
            let (Some(p0), Some(p1), Some(c0), Some(c1)) = (
                s0.pseudorange_m,
                s1.pseudorange_m,
                s0.phase_cycles,
                s1.phase_cycles,
            ) else {
                self.unused.entry(name()).or_insert_with(|| {
                    format!("no code and phase on both {} and {}", s0.code, s1.code)
                });
                continue;
            };
            self.used.insert(name());
            let d = f0 * f0 - f1 * f1;
            let coef = [f0 * f0 / d, -f1 * f1 / d];
            let lambda = [C / f0, C / f1];
            let p_if = coef[0] * p0 + coef[1] * p1;
            let l_if = coef[0] * c0 * lambda[0] + coef[1] * c1 * lambda[1];
            if !(p_if.is_finite() && l_if.is_finite()) {
                continue;
            }
            let sat_state = match self.products.satellite(sat.sys, sat.prn, t, p_if) {
                Ok(s) => s,
                Err(e) => {
                    self.exclude(sat.sys, sat.prn, e.to_string());
                    continue;
                }
            };
            let antenna = match self.sat_antenna(sat.sys, sat.prn, t, &sat.signals) {
                Ok(a) => a,
                Err(e) => {
                    self.exclude(sat.sys, sat.prn, e);
                    continue;
                }
            };
            let codes: [SignalCode; 2] = [s0.code, s1.code];
            let slipped = slips
                .iter()
                .any(|s| s.sys == sat.sys && s.prn == sat.prn && codes.contains(&s.code));
            out.push(Prepared {
                sys: sat.sys,
                prn: sat.prn,
                bands,
                coef,
                lambda,
                p_if,
                l_if,
                sat: sat_state,
                antenna,
                slipped,
            });
        }
        out
    }

    /// Single-epoch code solution (position and a clock per system present) by Gauss–Newton
    /// from a point under the satellites.
    fn code_solution(&self, prepared: &[Prepared], t: Gpst) -> Option<CodeFix> {
        let mut systems: Vec<Gnss> = prepared.iter().map(|p| p.sys).collect();
        systems.sort();
        systems.dedup();
        let mean: Vector3<f64> = prepared.iter().map(|p| p.sat.pos).sum::<Vector3<f64>>();
        let mut x = mean.try_normalize(1.0)? * 6.371e6;
        let mut clk = vec![0.0; systems.len()];
        let n = 3 + systems.len();
        for iter in 0..12 {
            let st = Station::at(x, t, false);
            let near = iter >= 3;
            let mut h = Vec::new();
            let mut r = Vec::new();
            for p in prepared {
                let Some(v) = geometry(&st, p.sat.pos, p.sat.clock_s, OMEGA_E) else {
                    continue;
                };
                if near && v.sin_el < self.opts.mask.sin() {
                    continue;
                }
                let k = systems.iter().position(|s| *s == p.sys)?;
                let trop = if near {
                    st.zenith * tropo_mapping(v.sin_el)
                } else {
                    0.0
                };
                r.push(p.p_if - (v.range - C * v.clock_s + trop + clk[k]));
                let mut row = vec![0.0; n];
                row[..3].copy_from_slice(&(-v.unit).as_slice()[..3]);
                row[3 + k] = 1.0;
                h.push(row);
            }
            if h.len() < n {
                return None;
            }
            let hm = DMatrix::from_fn(h.len(), n, |i, j| h[i][j]);
            let rv = DVector::from_vec(r);
            let dx = (hm.transpose() * &hm)
                .cholesky()?
                .solve(&(hm.transpose() * rv));
            x += Vector3::new(dx[0], dx[1], dx[2]);
            for (k, c) in clk.iter_mut().enumerate() {
                *c += dx[3 + k];
            }
            if near && dx.rows(0, 3).norm() < 1e-3 {
                break;
            }
        }
        let geo = ecef_to_geodetic(&x);
        if !(x.norm().is_finite() && geo.h.abs() < 20_000.0) {
            return None;
        }
        Some((x, systems.into_iter().zip(clk).collect()))
    }

    fn clock_index(&self, sys: Gnss) -> usize {
        CLK + self
            .opts
            .systems
            .iter()
            .position(|s| *s == sys)
            .unwrap_or(0)
    }

    fn start(&mut self, pos: Vector3<f64>, clocks: &[(Gnss, f64)], t: Gpst) {
        let geo = ecef_to_geodetic(&pos);
        let zwd0 = saastamoinen_zenith(geo.lat, geo.h).1;
        let mut kf = Kalman::default();
        for k in 0..3 {
            kf.push(pos[k], SIGMA_POS0 * SIGMA_POS0);
        }
        kf.push(zwd0, SIGMA_ZWD0 * SIGMA_ZWD0);
        for s in &self.opts.systems {
            let c = clocks.iter().find(|(g, _)| g == s).map_or(0.0, |c| c.1);
            kf.push(c, SIGMA_CLK * SIGMA_CLK);
        }
        self.kf = kf;
        self.arcs.clear();
        self.initialized = true;
        self.last = Some(t);
    }

    /// Time update: the wet delay walks, kinematic positions are free, clocks restart (their
    /// values come back from the code residuals in `rows`), long-unseen arcs end.
    fn predict(&mut self, t: Gpst) {
        let dt = self.last.map_or(0.0, |l| t.diff(l)).max(0.0);
        self.kf
            .add_noise(ZWD, self.opts.zwd_noise * self.opts.zwd_noise * dt);
        if self.opts.kinematic {
            for k in POS..POS + 3 {
                let v = self.kf.x[k];
                self.kf.reset(k, v, SIGMA_KIN * SIGMA_KIN);
            }
        }
        let stale: Vec<(Gnss, u8)> = self
            .arcs
            .iter()
            .filter(|(_, a)| t.diff(a.last) > self.opts.max_outage_s)
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.drop_arc(key);
        }
    }

    fn drop_arc(&mut self, key: (Gnss, u8)) {
        if let Some(a) = self.arcs.remove(&key) {
            self.kf.remove(a.state);
            for other in self.arcs.values_mut() {
                if other.state > a.state {
                    other.state -= 1;
                }
            }
        }
    }

    /// The linearised code and phase rows of the epoch; the clocks restart from the median
    /// code residual of their system.
    fn rows(&mut self, prepared: &[Prepared], t: Gpst) -> (Vec<Obs>, Vec<RowKind>) {
        let x = self.kf.x.clone();
        let marker = Vector3::new(x[POS], x[POS + 1], x[POS + 2]);
        let rot = crate::gnss::geodesy::enu_rotation(&ecef_to_geodetic(&marker));
        let arp = marker + rot.transpose() * self.receiver.eccentricity_enu;
        let st = Station::at(arp, t, self.opts.tide);
        let geo = ecef_to_geodetic(&st.pos);
        let zhd = saastamoinen_zenith(geo.lat, geo.h).0;
        let cal = t.calendar();
        let doy = f64::from(cal.ordinal()) + f64::from(cal.num_seconds_from_midnight()) / 86_400.0;
        let sun = sun_ecef(t);
        let sin_mask = self.opts.mask.sin();
        let sp = self.opts.phase_sigma_m;
        // (prepared index, view-derived pieces)
        let mut rows = Vec::with_capacity(prepared.len());
        for (i, p) in prepared.iter().enumerate() {
            let Some(v) = geometry(&st, p.sat.pos, p.sat.clock_s, OMEGA_E) else {
                continue;
            };
            if v.sin_el < sin_mask {
                continue;
            }
            let axes = crate::gnss::antex::yaw_steering_axes(&v.sat, &sun);
            let nadir = nadir_angle(&v.sat, &st.pos);
            let mut ant = 0.0;
            for b in 0..2 {
                let pco = p
                    .antenna
                    .satellite_pco_ecef(p.sys, p.bands[b], &v.sat, &sun)
                    .ok()
                    .flatten()
                    .map(|(x, _)| x);
                let pcv = p
                    .antenna
                    .satellite_pcv(p.sys, p.bands[b], nadir)
                    .map_or(0.0, |c| c.metres);
                ant += p.coef[b]
                    * (antenna_terms(
                        &v,
                        p.sys,
                        p.bands[b],
                        self.receiver.antenna.as_ref(),
                        pco.as_ref(),
                    ) + pcv);
            }
            let wu = match axes {
                Some([xs, ys, _]) => self
                    .windup
                    .entry((p.sys, p.prn))
                    .or_default()
                    .update_with_axes(&v.sat, &xs, &ys, &st.pos, &st.rot)
                    .unwrap_or(0.0),
                None => self
                    .windup
                    .get(&(p.sys, p.prn))
                    .and_then(|w| w.value())
                    .unwrap_or(0.0),
            };
            let wu_m = wu * (p.coef[0] * p.lambda[0] + p.coef[1] * p.lambda[1]);
            let (mh, mw) = niell_mapping(geo.lat, geo.h, doy, v.sin_el);
            let modelled = v.range - C * v.clock_s
                + shapiro_delay(&v.sat, &st.pos)
                + zhd * mh
                + x[ZWD] * mw
                + ant;
            let s2 = 1.0 + 1.0 / (v.sin_el * v.sin_el);
            let f = p.coef[0] * p.coef[0] + p.coef[1] * p.coef[1];
            let var_phase = f * sp * sp * s2;
            let ratio = if p.sys == Gnss::Glonass {
                self.opts.glonass_code_ratio
            } else {
                self.opts.code_ratio
            };
            let var_code = var_phase * ratio * ratio + TROPO_VAR;
            let var_phase = var_phase + TROPO_VAR;
            rows.push((i, v.unit, mw, modelled, wu_m, var_phase, var_code));
        }
        // Clocks: the median code residual per system.
        for sys in self.opts.systems.clone() {
            let mut r: Vec<f64> = rows
                .iter()
                .filter(|row| prepared[row.0].sys == sys)
                .map(|row| prepared[row.0].p_if - row.3)
                .collect();
            if r.is_empty() {
                continue;
            }
            r.sort_by(f64::total_cmp);
            let k = self.clock_index(sys);
            self.kf.reset(k, r[r.len() / 2], SIGMA_CLK * SIGMA_CLK);
        }
        let mut obs = Vec::with_capacity(2 * rows.len());
        let mut kinds = Vec::with_capacity(2 * rows.len());
        for &(i, unit, mw, modelled, wu_m, var_phase, var_code) in &rows {
            let p = &prepared[i];
            let key = (p.sys, p.prn);
            let clk = self.clock_index(p.sys);
            let clock = self.kf.x[clk];
            let code_res = p.p_if - (modelled + clock);
            let l = p.l_if - wu_m;
            let new_amb = l - p.p_if;
            let state = match self.arcs.get(&key).copied() {
                Some(a) if !p.slipped => a.state,
                Some(a) => {
                    self.kf.reset(a.state, new_amb, SIGMA_AMB0 * SIGMA_AMB0);
                    self.restarts += 1;
                    a.state
                }
                None => self.kf.push(new_amb, SIGMA_AMB0 * SIGMA_AMB0),
            };
            self.arcs.insert(key, Arc { state, last: t });
            let h = vec![
                (POS, -unit.x),
                (POS + 1, -unit.y),
                (POS + 2, -unit.z),
                (ZWD, mw),
                (clk, 1.0),
            ];
            obs.push(Obs {
                residual: code_res,
                h: h.clone(),
                variance: var_code,
            });
            kinds.push(RowKind::Code);
            let mut hp = h;
            hp.push((state, 1.0));
            obs.push(Obs {
                residual: l - (modelled + clock + self.kf.x[state]),
                h: hp,
                variance: var_phase,
            });
            kinds.push(RowKind::Phase {
                key,
                code_residual: code_res,
                l_minus_p: new_amb,
            });
        }
        (obs, kinds)
    }

    /// The measurement update with outlier screening on the post-fit residuals: the worst
    /// phase outlier restarts its satellite's ambiguity, the worst code outlier is dropped,
    /// and the update is redone. Returns the restarts.
    fn update(&mut self, mut obs: Vec<Obs>, kinds: Vec<RowKind>) -> Result<usize, PppSkip> {
        let mut restarts = 0;
        for pass in 0..=MAX_REJECTS {
            let saved = self.kf.clone();
            let post = self.kf.update(&obs).ok_or(PppSkip::Numerical)?;
            let worst = post
                .iter()
                .zip(&obs)
                .enumerate()
                .filter(|(_, (_, o))| !o.h.is_empty())
                .map(|(i, (r, o))| (i, r.abs() / o.variance.sqrt()))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let Some((i, z)) = worst else { break };
            if z <= self.opts.reject_sigmas || pass == MAX_REJECTS {
                break;
            }
            self.kf = saved;
            match kinds[i] {
                RowKind::Code => {
                    obs[i].h.clear();
                    obs[i].residual = 0.0;
                }
                RowKind::Phase {
                    key,
                    code_residual,
                    l_minus_p,
                } => {
                    if let Some(a) = self.arcs.get(&key) {
                        self.kf.reset(a.state, l_minus_p, SIGMA_AMB0 * SIGMA_AMB0);
                    }
                    obs[i].residual = code_residual;
                    restarts += 1;
                    self.restarts += 1;
                }
            }
        }
        Ok(restarts)
    }
}

/// The covariance of a position in east/north/up.
pub fn enu_covariance(pos: &Vector3<f64>, cov: &Matrix3<f64>) -> Matrix3<f64> {
    let r = crate::gnss::geodesy::enu_rotation(&ecef_to_geodetic(pos));
    r * cov * r.transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_group_by_kind_not_instant() {
        let mut x = Exclusion::default();
        let msgs = [
            "G05 at 2020-06-24 23:59:59 GPST: outside its clock records (a to b)",
            "G05 at 2020-06-25 01:00:00 GPST: SP3 gap, only 3 consecutive nodes from a to b",
            "G05 at 2020-06-25 01:00:30 GPST: SP3 gap, only 4 consecutive nodes from a to b",
        ];
        for m in msgs {
            x.epochs += 1;
            let kind = reason_kind(m);
            match x.reasons.iter_mut().find(|(r, _)| reason_kind(r) == kind) {
                Some(r) => r.1 += 1,
                None => x.reasons.push((m.to_string(), 1)),
            }
        }
        assert_eq!(x.reasons.len(), 2);
        assert_eq!(x.reasons[1].1, 2);
        assert!(x.summary().contains("SP3 gap, only 3") && x.summary().contains("(2 epochs)"));
        assert_eq!(
            reason_kind("satellite G07 has no clock in the file"),
            "satellite G07 has no clock in the file"
        );
    }
}
