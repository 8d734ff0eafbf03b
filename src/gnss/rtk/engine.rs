//! The per-epoch work of the baseline: measurements from both receivers, slips, the filter's
//! time and measurement updates, residual screening and ambiguity resolution.

use nalgebra::{DVector, Vector3};

use super::ambiguity::{self, Candidate, Decorrelations};
use super::filter::{AmbKey, Filter, GroupKey, Row, Solved};
use super::model::{Antennas, Station, range_terms, receiver_los, view};
use super::signals::{frequency, pick};
use super::{Quality, RtkMode, RtkOptions, RtkSkip, RtkSolution};
use crate::gnss::antex::yaw_steering_axes;
use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::orbit::C;
use crate::gnss::slip::{SlipDetector, SlipOptions};
use crate::gnss::spp::{self, SppOptions};
use crate::gnss::sunmoon::sun_ecef;
use crate::gnss::time::Gpst;
use crate::gnss::windup::WindUp;
use crate::gnss::{Gnss, SatMap};

/// Prior of a new ambiguity (m): loose, the code–phase difference is its mean.
const AMB_PRIOR_M: f64 = 30.0;
/// Prior of a restarted position (m) and velocity (m/s).
const POS_PRIOR_M: f64 = 30.0;
const VEL_PRIOR: f64 = 10.0;
/// Residual screening: normalised residual beyond which a row is an outlier, and the phase
/// floor (m) under which it never is.
const OUTLIER_SIGMAS: f64 = 5.0;
const PHASE_FLOOR_M: f64 = 0.02;
/// Fixed-solution check: the largest normalised phase residual accepted.
const FIX_CHECK_SIGMAS: f64 = 4.0;
/// Screening passes per epoch.
const MAX_SCREENS: usize = 4;
/// Variance (cycles²) of a held double difference.
const HOLD_VAR: f64 = 1e-4;

/// One band of one satellite, differenced between the receivers.
#[derive(Clone, Debug)]
struct Meas {
    key: AmbKey,
    lambda: f64,
    /// Phase and code single differences minus the model (m).
    phase: f64,
    code: f64,
    /// Gradient of the rover range in the rover position.
    unit: Vector3<f64>,
    sin_el: f64,
    var_phase: f64,
    var_code: f64,
    slip: bool,
    half_cycle: bool,
}

/// The engine for one baseline.
pub struct Rtk {
    opts: RtkOptions,
    base_pos: Vector3<f64>,
    ant: Antennas,
    spp: SppOptions,
    filter: Filter,
    started: bool,
    last_time: Option<Gpst>,
    last_base: Option<Gpst>,
    velocity: Vector3<f64>,
    slips_rover: SlipDetector,
    slips_base: SlipDetector,
    base_slips: Vec<(Gnss, u8, SignalCode)>,
    windup: SatMap<(Gnss, u8, bool), WindUp>,
    sat_pco: SatMap<(Gnss, u8, u8), Option<Vector3<f64>>>,
    decorrelations: Decorrelations,
}

impl Rtk {
    /// An engine for a base at `base_pos` (antenna reference point, ECEF m).
    pub fn new(opts: RtkOptions, base_pos: Vector3<f64>, ant: Antennas) -> Rtk {
        let spp = SppOptions {
            systems: opts.systems.clone(),
            mask: opts.mask,
            ..Default::default()
        };
        Rtk {
            filter: Filter::new(opts.mode == RtkMode::Kinematic),
            opts,
            base_pos,
            ant,
            spp,
            started: false,
            last_time: None,
            last_base: None,
            velocity: Vector3::zeros(),
            slips_rover: SlipDetector::new(SlipOptions::default()),
            slips_base: SlipDetector::new(SlipOptions::default()),
            base_slips: Vec::new(),
            windup: SatMap::default(),
            sat_pco: SatMap::default(),
            decorrelations: Decorrelations::default(),
        }
    }

    pub fn options(&self) -> &RtkOptions {
        &self.opts
    }

    /// Ambiguity states held (for the memory bound: the filter is (6 + n)² numbers).
    pub fn states(&self) -> usize {
        self.filter.n()
    }

    /// Process a rover epoch with the base epoch to difference it against (the same time, or
    /// the latest before it).
    pub fn process(
        &mut self,
        rover: &Epoch,
        base: &Epoch,
        store: &EphemerisStore,
    ) -> Result<RtkSolution, RtkSkip> {
        let t = rover.time;
        let age = t.diff(base.time);
        if age.is_nan() || age.abs() > self.opts.max_age_s {
            return Err(RtkSkip::NoBase {
                max_age_s: self.opts.max_age_s,
            });
        }
        let dt = self.last_time.map(|l| t.diff(l));
        if dt.is_some_and(|d| d <= 0.0) {
            return Err(RtkSkip::OutOfOrder);
        }
        let rover_slips: Vec<(Gnss, u8, SignalCode)> = self
            .slips_rover
            .process(rover)
            .into_iter()
            .map(|s| (s.sys, s.prn, s.code))
            .collect();
        if self.last_base != Some(base.time) {
            self.last_base = Some(base.time);
            self.base_slips = self
                .slips_base
                .process(base)
                .into_iter()
                .map(|s| (s.sys, s.prn, s.code))
                .collect();
        } else {
            self.base_slips.clear();
        }
        // Where the rover is: the filter's prediction, or a code solution to start from.
        let kinematic = self.opts.mode == RtkMode::Kinematic;
        let restart =
            !self.started || (kinematic && dt.is_some_and(|d| d > self.opts.max_outage_s));
        if restart {
            let sol = spp::solve(rover, store, &self.spp, None).ok_or(RtkSkip::NoStart)?;
            self.filter
                .restart_position(Vector3::from(sol.position), POS_PRIOR_M, VEL_PRIOR);
            self.velocity = Vector3::zeros();
        } else if kinematic && let Some(d) = dt {
            let rot = Station::at(self.filter.origin, t, false).rot;
            let q = [
                self.opts.accel_q[0],
                self.opts.accel_q[0],
                self.opts.accel_q[1],
            ];
            self.filter.predict(d, q, &rot);
            let shift = self.velocity * d;
            self.filter.move_origin(shift);
        }
        let rover_st = Station::at(self.filter.origin, t, self.opts.tide);
        let base_st = Station::at(self.base_pos, base.time, self.opts.tide);
        let meas = self.measurements(rover, base, store, &rover_st, &base_st, &rover_slips);
        let nsat = {
            let mut s: Vec<(Gnss, u8)> = meas.iter().map(|m| (m.key.sys, m.key.prn)).collect();
            s.dedup();
            s.len()
        };
        if nsat < 4 {
            return Err(RtkSkip::TooFewSatellites { found: nsat });
        }
        self.started = true;
        self.last_time = Some(t);
        let now = t.as_f64();
        self.manage_ambiguities(&meas, now);
        let (solved, rows, amb_of) = self.screened_update(&meas, now)?;
        let k = self.filter.k;
        // Ambiguity resolution over the double differences observed this epoch.
        let cands = self.candidates(&solved, &meas, &amb_of);
        let mut kept = std::mem::take(&mut self.decorrelations);
        let check = |xd: &DVector<f64>| self.fixed_residuals_ok(&solved, xd, &rows);
        let (fix, ratio) = if cands.is_empty() {
            (None, 0.0)
        } else {
            ambiguity::resolve(
                &self.filter,
                &solved,
                &cands,
                self.opts.ratio,
                self.opts.min_fix,
                &check,
                &mut kept,
            )
        };
        self.decorrelations = kept;
        let origin = self.filter.origin;
        let (position, cov, quality, fixed_ambiguities, mut fixed_systems) = match &fix {
            Some(f) => (
                origin + Vector3::new(f.xd[0], f.xd[1], f.xd[2]),
                f.cov_pos,
                Quality::Fixed,
                f.fixed.len(),
                f.fixed
                    .iter()
                    .map(|(a, _, _)| self.filter.ambs[*a].key.sys)
                    .collect::<Vec<_>>(),
            ),
            None => (
                origin + Vector3::new(solved.xd[0], solved.xd[1], solved.xd[2]),
                nalgebra::Matrix3::from_fn(|i, j| solved.cov[(i, j)]),
                Quality::Float,
                0,
                Vec::new(),
            ),
        };
        fixed_systems.sort();
        fixed_systems.dedup();
        if let (true, Some(f)) = (self.opts.hold, &fix) {
            self.filter.hold(&f.fixed, HOLD_VAR);
        }
        if k == 6 {
            self.velocity = Vector3::new(solved.x[3], solved.x[4], solved.x[5]);
        }
        self.filter.recenter(&solved.x);
        Ok(RtkSolution {
            time: t,
            position: [position.x, position.y, position.z],
            quality,
            cov_xyz: [
                cov[(0, 0)],
                cov[(1, 1)],
                cov[(2, 2)],
                cov[(0, 1)],
                cov[(1, 2)],
                cov[(2, 0)],
            ],
            satellites: nsat,
            age_s: age,
            ratio,
            fixed_ambiguities,
            fixed_systems,
            glonass_float: meas.iter().any(|m| m.key.sys == Gnss::Glonass),
        })
    }

    /// Single differences of every band both receivers measured on a satellite above the mask.
    fn measurements(
        &mut self,
        rover: &Epoch,
        base: &Epoch,
        store: &EphemerisStore,
        rover_st: &Station,
        base_st: &Station,
        rover_slips: &[(Gnss, u8, SignalCode)],
    ) -> Vec<Meas> {
        let t = rover.time;
        let sin_mask = self.opts.mask.sin();
        let sun = sun_ecef(t);
        let sp = self.opts.phase_sigma_m;
        let sc = sp * self.opts.code_ratio;
        let mut out = Vec::with_capacity(2 * rover.sats.len());
        for sat in &rover.sats {
            if !self.opts.systems.contains(&sat.sys) {
                continue;
            }
            let Some(bsat) = base
                .sats
                .iter()
                .find(|s| s.sys == sat.sys && s.prn == sat.prn)
            else {
                continue;
            };
            let Some(bands) = self.opts.bands_of(sat.sys) else {
                continue;
            };
            let Some(eph) = store.select(sat.sys, ephemeris_prn(sat.sys, sat.prn), t) else {
                continue;
            };
            let pairs: Vec<(u8, _, _)> = bands
                .iter()
                .filter_map(|&b| Some((b, pick(sat, b)?, pick(bsat, b)?)))
                .collect();
            let Some((_, r0, b0)) = pairs.first() else {
                continue;
            };
            let (Some(pr_r), Some(pr_b)) = (r0.pseudorange_m, b0.pseudorange_m) else {
                continue;
            };
            let Some(vr) = view(rover_st, eph, t, pr_r) else {
                continue;
            };
            let Some(vb) = view(base_st, eph, base.time, pr_b) else {
                continue;
            };
            if vr.sin_el < sin_mask || vb.sin_el <= 0.0 {
                continue;
            }
            let axes = yaw_steering_axes(&vr.sat, &sun);
            let wu_r = match axes {
                Some([x, y, _]) => self
                    .windup
                    .entry((sat.sys, sat.prn, true))
                    .or_default()
                    .update_with_axes(&vr.sat, &x, &y, &rover_st.pos, &rover_st.rot)
                    .unwrap_or(0.0),
                None => 0.0,
            };
            let wu_b = match axes {
                Some([x, y, _]) => self
                    .windup
                    .entry((sat.sys, sat.prn, false))
                    .or_default()
                    .update_with_axes(&vb.sat, &x, &y, &base_st.pos, &base_st.rot)
                    .unwrap_or(0.0),
                None => 0.0,
            };
            let var_of = |s: f64| {
                (1.0 + 1.0 / (vr.sin_el * vr.sin_el)) * s * s
                    + (1.0 + 1.0 / (vb.sin_el * vb.sin_el).max(0.01)) * s * s
            };
            let los_r = receiver_los(self.ant.rover.as_ref(), &vr);
            let los_b = receiver_los(self.ant.base.as_ref(), &vb);
            for (band, rs, bs) in &pairs {
                let (Some(fr), Some(fb)) = (frequency(sat.sys, rs), frequency(sat.sys, bs)) else {
                    continue;
                };
                if (fr - fb).abs() > 1.0 {
                    continue;
                }
                let (Some(phr), Some(phb), Some(pr), Some(pb)) = (
                    rs.phase_cycles,
                    bs.phase_cycles,
                    rs.pseudorange_m,
                    bs.pseudorange_m,
                ) else {
                    continue;
                };
                let lambda = C / fr;
                let pco = satellite_pco(&self.ant, &mut self.sat_pco, (sat.sys, sat.prn, *band), t);
                let pco_ecef = match (pco, axes) {
                    (Some(p), Some([x, y, z])) => Some(x * p.x + y * p.y + z * p.z),
                    _ => None,
                };
                let mr = vr.range
                    + range_terms(
                        rover_st,
                        &vr,
                        sat.sys,
                        *band,
                        los_r.as_ref().map(|(a, d)| (*a, d)),
                        pco_ecef.as_ref(),
                    );
                let mb = vb.range
                    + range_terms(
                        base_st,
                        &vb,
                        sat.sys,
                        *band,
                        los_b.as_ref().map(|(a, d)| (*a, d)),
                        pco_ecef.as_ref(),
                    );
                let phase = lambda * ((phr - wu_r) - (phb - wu_b)) - (mr - mb);
                let code = (pr - pb) - (mr - mb);
                if !(phase.is_finite() && code.is_finite()) {
                    continue;
                }
                let slip = rover_slips
                    .iter()
                    .chain(&self.base_slips)
                    .any(|&(s, p, c)| {
                        s == sat.sys && p == sat.prn && (c == rs.code || c == bs.code)
                    });
                out.push(Meas {
                    key: AmbKey {
                        sys: sat.sys,
                        prn: sat.prn,
                        band: *band,
                    },
                    lambda,
                    phase,
                    code,
                    unit: -vr.unit,
                    sin_el: vr.sin_el,
                    var_phase: var_of(sp),
                    var_code: var_of(sc),
                    slip,
                    half_cycle: rs.half_cycle || bs.half_cycle,
                });
            }
        }
        out
    }

    /// Drop ambiguities unseen for too long, restart slipped ones, start new ones.
    fn manage_ambiguities(&mut self, meas: &[Meas], now: f64) {
        let mut drop: Vec<usize> = self
            .filter
            .ambs
            .iter()
            .enumerate()
            .filter(|(_, a)| now - a.last_seen > self.opts.max_outage_s)
            .map(|(i, _)| i)
            .collect();
        for m in meas {
            if let Some(i) = self.filter.ambs.iter().position(|a| a.key == m.key)
                && (m.slip || (self.filter.ambs[i].lambda - m.lambda).abs() > 1e-6)
                && !drop.contains(&i)
            {
                drop.push(i);
            }
        }
        self.filter.remove_ambs(&drop);
        for m in meas {
            if !self.filter.ambs.iter().any(|a| a.key == m.key) {
                self.filter.add_amb(
                    m.key,
                    (m.phase - m.code) / m.lambda,
                    m.lambda,
                    AMB_PRIOR_M / m.lambda,
                    now,
                );
            }
        }
    }

    /// Rows of the epoch; the ambiguity index of each measurement rides along.
    fn rows(&self, meas: &[Meas], dropped_code: &[bool]) -> (Vec<Row>, usize, Vec<usize>) {
        let mut clocks: Vec<(Gnss, u8, bool)> = Vec::new();
        let mut clock = |key: (Gnss, u8, bool)| match clocks.iter().position(|c| *c == key) {
            Some(i) => i,
            None => {
                clocks.push(key);
                clocks.len() - 1
            }
        };
        let mut rows = Vec::with_capacity(2 * meas.len());
        let mut amb_of = Vec::with_capacity(meas.len());
        for (mi, m) in meas.iter().enumerate() {
            let a = self
                .filter
                .ambs
                .iter()
                .position(|a| a.key == m.key)
                .unwrap_or(usize::MAX);
            amb_of.push(a);
            if a != usize::MAX {
                rows.push(Row {
                    unit: m.unit,
                    amb: Some(a),
                    clock: clock((m.key.sys, m.key.band, true)),
                    z: m.phase - m.lambda * self.filter.ambs[a].base,
                    var: m.var_phase,
                });
            }
            if !dropped_code[mi] {
                rows.push(Row {
                    unit: m.unit,
                    amb: None,
                    clock: clock((m.key.sys, m.key.band, false)),
                    z: m.code,
                    var: m.var_code,
                });
            }
        }
        (rows, clocks.len(), amb_of)
    }

    /// Each group's reference: observed, continuing its arc, highest.
    fn references(&self, meas: &[Meas], amb_of: &[usize]) -> Vec<(GroupKey, usize)> {
        let mut refs: Vec<(GroupKey, usize, (bool, bool, f64))> = Vec::new();
        for (m, &a) in meas.iter().zip(amb_of) {
            if a == usize::MAX {
                continue;
            }
            let score = (!m.half_cycle, self.filter.ambs[a].epochs > 0, m.sin_el);
            let g = (m.key.sys, m.key.band);
            match refs.iter_mut().find(|r| r.0 == g) {
                Some(r) if score > r.2 => *r = (g, a, score),
                Some(_) => {}
                None => refs.push((g, a, score)),
            }
        }
        refs.into_iter().map(|(g, a, _)| (g, a)).collect()
    }

    /// Measurement update with screening: a phase row the epoch cannot explain restarts its
    /// ambiguity, a code row is left out, and the update is made again.
    fn screened_update(
        &mut self,
        meas: &[Meas],
        now: f64,
    ) -> Result<(Solved, Vec<Row>, Vec<usize>), RtkSkip> {
        let mut dropped_code = vec![false; meas.len()];
        for pass in 0..=MAX_SCREENS {
            let (rows, nclock, amb_of) = self.rows(meas, &dropped_code);
            let refs = self.references(meas, &amb_of);
            let saved = (self.filter.lam.clone(), self.filter.eta.clone());
            self.filter.update(&rows, nclock);
            let Some(solved) = self.filter.solve(&refs, &[Gnss::Glonass]) else {
                // Nothing sensible can follow a filter that cannot be solved: start afresh
                // at the next epoch.
                self.filter = Filter::new(self.opts.mode == RtkMode::Kinematic);
                self.started = false;
                return Err(RtkSkip::Singular);
            };
            let res = residuals(&self.filter, &solved.x, &rows, nclock);
            let worst = rows
                .iter()
                .zip(&res)
                .enumerate()
                .map(|(i, (r, e))| {
                    (
                        i,
                        e.abs() / r.var.sqrt(),
                        r.amb.is_some() && e.abs() < PHASE_FLOOR_M,
                    )
                })
                .filter(|(_, _, floor)| !floor)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match worst {
                Some((_, n, _)) if n > OUTLIER_SIGMAS && pass == MAX_SCREENS => {
                    // More outliers than passes: leave the epoch out rather than let it in.
                    self.filter.lam = saved.0;
                    self.filter.eta = saved.1;
                    return Err(RtkSkip::Inconsistent);
                }
                Some((i, n, _)) if n > OUTLIER_SIGMAS => {
                    self.filter.lam = saved.0;
                    self.filter.eta = saved.1;
                    let r = rows[i];
                    match r.amb {
                        Some(a) => {
                            let key = self.filter.ambs[a].key;
                            let m = meas
                                .iter()
                                .find(|m| m.key == key)
                                .ok_or(RtkSkip::Singular)?;
                            self.filter.remove_ambs(&[a]);
                            self.filter.add_amb(
                                key,
                                (m.phase - m.code) / m.lambda,
                                m.lambda,
                                AMB_PRIOR_M / m.lambda,
                                now,
                            );
                        }
                        None => {
                            // The code rows follow the measurements in order.
                            if let Some(mi) = code_row_meas(&rows, i, &dropped_code) {
                                dropped_code[mi] = true;
                            }
                        }
                    }
                }
                _ => {
                    for &a in &amb_of {
                        if let Some(amb) = self.filter.ambs.get_mut(a) {
                            amb.epochs += 1;
                            amb.last_seen = now;
                        }
                    }
                    return Ok((solved, rows, amb_of));
                }
            }
        }
        Err(RtkSkip::Singular)
    }

    /// Double differences eligible for fixing: observed now, not GLONASS, no half-cycle
    /// ambiguity on either side, against an observed reference.
    fn candidates(&self, s: &Solved, meas: &[Meas], amb_of: &[usize]) -> Vec<Candidate> {
        let observed = |a: usize| {
            amb_of
                .iter()
                .position(|&x| x == a)
                .map(|mi| &meas[mi])
                .filter(|m| !m.half_cycle && m.key.sys != Gnss::Glonass)
        };
        let mut out = Vec::new();
        for (p, &a) in s.dd.iter().enumerate() {
            let Some(m) = observed(a) else { continue };
            let key = self.filter.ambs[a].key;
            let Some(&(_, r)) = s.refs.iter().find(|(g, _)| *g == (key.sys, key.band)) else {
                continue;
            };
            if observed(r).is_none() {
                continue;
            }
            let rk = self.filter.ambs[r].key;
            out.push(Candidate {
                dd_pos: p,
                amb: a,
                reference: r,
                sin_el: m.sin_el,
                sats: [(key.sys, key.prn), (rk.sys, rk.prn)],
            });
        }
        out
    }

    /// Whether a fixed estimate leaves every phase row of the fixed systems within bounds.
    fn fixed_residuals_ok(&self, s: &Solved, xd: &DVector<f64>, rows: &[Row]) -> bool {
        let k = self.filter.k;
        let n = self.filter.n();
        // Single-difference deviations with each group's reference at zero: the reference's
        // own value is common to its group and goes into the clock.
        let mut x = DVector::zeros(n);
        for i in 0..k {
            x[i] = xd[i];
        }
        for (p, &a) in s.dd.iter().enumerate() {
            x[k + a] = xd[k + p];
        }
        let nclock = rows.iter().map(|r| r.clock + 1).max().unwrap_or(0);
        let res = residuals(&self.filter, &x, rows, nclock);
        rows.iter().zip(&res).all(|(r, e)| {
            let glonass = r
                .amb
                .is_some_and(|a| self.filter.ambs[a].key.sys == Gnss::Glonass);
            r.amb.is_none() || glonass || e.abs() <= FIX_CHECK_SIGMAS * r.var.sqrt()
        })
    }
}

/// Post-fit residuals of the rows at `x` (single-difference deviations), each clock group's
/// difference taken out by its weighted mean.
fn residuals(f: &Filter, x: &DVector<f64>, rows: &[Row], nclock: usize) -> Vec<f64> {
    let k = f.k;
    let p = Vector3::new(x[0], x[1], x[2]);
    let raw: Vec<f64> = rows
        .iter()
        .map(|r| {
            let amb = r.amb.map_or(0.0, |a| f.ambs[a].lambda * x[k + a]);
            r.z - r.unit.dot(&p) - amb
        })
        .collect();
    let mut sw = vec![0.0; nclock];
    let mut swr = vec![0.0; nclock];
    for (r, e) in rows.iter().zip(&raw) {
        sw[r.clock] += 1.0 / r.var;
        swr[r.clock] += e / r.var;
    }
    rows.iter()
        .zip(&raw)
        .map(|(r, e)| e - swr[r.clock] / sw[r.clock])
        .collect()
}

/// Which measurement a code row came from.
fn code_row_meas(rows: &[Row], row: usize, dropped: &[bool]) -> Option<usize> {
    let before = rows[..row].iter().filter(|r| r.amb.is_none()).count();
    dropped
        .iter()
        .enumerate()
        .filter(|(_, d)| !**d)
        .nth(before)
        .map(|(i, _)| i)
}

/// The PRN under which the ephemeris store keeps a satellite (QZSS MSM IDs are 193+ there).
fn ephemeris_prn(sys: Gnss, prn: u8) -> u8 {
    if sys == Gnss::Qzss && prn < 193 {
        prn.saturating_add(192)
    } else {
        prn
    }
}

/// The satellite's body-frame PCO for a band, looked up once.
fn satellite_pco(
    ant: &Antennas,
    known: &mut SatMap<(Gnss, u8, u8), Option<Vector3<f64>>>,
    (sys, prn, band): (Gnss, u8, u8),
    t: Gpst,
) -> Option<Vector3<f64>> {
    let antex = ant.satellites.as_ref()?;
    *known.entry((sys, prn, band)).or_insert_with(|| {
        let a = antex.satellite(sys, prn, t).ok()?;
        a.frequency(sys, band).ok().map(|(f, _)| f.pco)
    })
}
