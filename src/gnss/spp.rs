//! Single point positioning: weighted least squares (nalgebra) over code pseudoranges of
//! several GNSS, one receiver clock per system, ionosphere-free combinations where two
//! frequencies exist, Saastamoinen troposphere, RAIM fault detection and exclusion, DOPs.
//!
//! Group delays follow each ICD's clock reference: GPS/QZSS clocks refer to the L1/L2 P(Y)
//! ionosphere-free combination (single-frequency L1 subtracts TGD); BeiDou clocks refer to B3I
//! (B1I subtracts TGD1, B2I TGD2); Galileo I/NAV clocks refer to E1/E5b (E1 alone subtracts
//! BGD E1/E5b). The broadcast ionosphere is applied to single-frequency signals only when the
//! caller supplies coefficients from a real source; otherwise the solution says so.

use nalgebra::{DMatrix, DVector, Matrix3, Vector3};
use serde::Serialize;

use super::Gnss;
use super::atmosphere::{Klobuchar, saastamoinen_zenith, tropo_mapping};
use super::geodesy::{Geodetic, ecef_to_geodetic, enu_rotation};
use super::nav::{Ephemeris, EphemerisStore, OrbitParams};
use super::obs::{Epoch, SatObs, SignalCode};
use super::orbit::{C, GLONASS_OMEGA_E};
use super::time::Gpst;

// Smoothing prepares the code this solution takes; its names stay reachable from here.
pub use super::smoothing::{CarrierSmoother, smooth_centered};

/// Solutions with a larger geometric dilution are refused (RTKLIB's default limit too).
pub const MAX_GDOP: f64 = 30.0;

/// Options of a solution.
#[derive(Clone, Debug)]
pub struct SppOptions {
    pub systems: Vec<Gnss>,
    /// Elevation mask (rad).
    pub mask: f64,
    /// Broadcast ionosphere from a real source, for single-frequency signals.
    pub klobuchar: Option<Klobuchar>,
    /// Use dual-frequency ionosphere-free combinations where possible.
    pub iono_free: bool,
    /// RAIM: reject when the normalised residual test fails (probability of false alarm 1e-3).
    pub raim: bool,
}

/// The systems the solution can use (and uses by default): GPS, GLONASS, Galileo, BeiDou, QZSS.
pub const SYSTEMS: [Gnss; 5] = [
    Gnss::Gps,
    Gnss::Glonass,
    Gnss::Galileo,
    Gnss::Beidou,
    Gnss::Qzss,
];

impl Default for SppOptions {
    fn default() -> Self {
        SppOptions {
            systems: SYSTEMS.to_vec(),
            mask: 15f64.to_radians(),
            klobuchar: None,
            iono_free: true,
            raim: true,
        }
    }
}

/// A satellite's part in a solution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SatResidual {
    pub sys: Gnss,
    pub prn: u8,
    pub elevation_deg: f64,
    pub azimuth_deg: f64,
    /// Post-fit residual (m).
    pub residual_m: f64,
    /// Whether the ionosphere-free combination was used.
    pub iono_free: bool,
    /// Broadcast ionosphere delay taken off single-frequency code (m). The model removes
    /// about half of the real delay, so half of it counts as uncertainty in the weights and
    /// in RAIM's test.
    pub iono_m: f64,
}

/// One epoch's solution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Solution {
    pub time: Gpst,
    /// ECEF (m).
    pub position: [f64; 3],
    /// Receiver clock per system (m).
    pub clocks_m: Vec<(Gnss, f64)>,
    pub gdop: f64,
    pub pdop: f64,
    pub hdop: f64,
    pub vdop: f64,
    pub used: Vec<SatResidual>,
    pub excluded: Vec<(Gnss, u8)>,
    /// RMS of the residuals (m).
    pub rms_m: f64,
    /// Position covariance (m²) from the weighted normal equations: xx, yy, zz, xy, yz, zx.
    pub cov_xyz: [f64; 6],
    /// Single-frequency satellites were used without an ionosphere model (none was given).
    pub iono_uncorrected: bool,
}

/// A pseudorange ready for the estimator.
#[derive(Clone, Debug)]
struct Meas<'a> {
    sys: Gnss,
    prn: u8,
    /// Corrected pseudorange (m), before satellite clock and geometry.
    range: f64,
    /// Variance scale of the observable (IF combinations amplify noise).
    noise: f64,
    iono_free: bool,
    /// Frequency of a single-frequency signal (for the ionosphere model).
    freq: Option<f64>,
    eph: &'a Ephemeris,
    /// Earth rotation rate of the ephemeris's frame (rad/s).
    omega: f64,
    /// Variance (m²) that does not depend on the geometry: the broadcast orbit and clock's
    /// accuracy for single-frequency code (see [`estimate`]).
    flat_var: f64,
}

/// Signal pairs for the ionosphere-free combination, preferred first: (code1, code2).
fn if_pairs(sys: Gnss) -> &'static [(SignalCode, SignalCode)] {
    match sys {
        Gnss::Gps | Gnss::Qzss => &[
            (SignalCode([b'1', b'C']), SignalCode([b'2', b'W'])),
            (SignalCode([b'1', b'C']), SignalCode([b'2', b'L'])),
            (SignalCode([b'1', b'C']), SignalCode([b'2', b'X'])),
            (SignalCode([b'1', b'C']), SignalCode([b'5', b'Q'])),
            (SignalCode([b'1', b'C']), SignalCode([b'5', b'X'])),
        ],
        Gnss::Galileo => &[
            (SignalCode([b'1', b'C']), SignalCode([b'5', b'Q'])),
            (SignalCode([b'1', b'X']), SignalCode([b'5', b'X'])),
            (SignalCode([b'1', b'C']), SignalCode([b'7', b'Q'])),
            (SignalCode([b'1', b'X']), SignalCode([b'7', b'X'])),
        ],
        Gnss::Glonass => &[
            (SignalCode([b'1', b'C']), SignalCode([b'2', b'C'])),
            (SignalCode([b'1', b'P']), SignalCode([b'2', b'P'])),
        ],
        Gnss::Beidou => &[
            (SignalCode([b'2', b'I']), SignalCode([b'6', b'I'])),
            (SignalCode([b'2', b'X']), SignalCode([b'6', b'X'])),
            (SignalCode([b'2', b'I']), SignalCode([b'7', b'I'])),
        ],
        _ => &[],
    }
}

/// Single-frequency signals in order of preference.
fn single(sys: Gnss) -> &'static [SignalCode] {
    match sys {
        Gnss::Gps | Gnss::Qzss => &[
            SignalCode([b'1', b'C']),
            SignalCode([b'1', b'X']),
            SignalCode([b'1', b'W']),
        ],
        Gnss::Galileo => &[SignalCode([b'1', b'C']), SignalCode([b'1', b'X'])],
        Gnss::Beidou => &[
            SignalCode([b'2', b'I']),
            SignalCode([b'2', b'X']),
            SignalCode([b'1', b'P']),
            SignalCode([b'1', b'X']),
            SignalCode([b'6', b'I']),
        ],
        Gnss::Glonass => &[SignalCode([b'1', b'C']), SignalCode([b'1', b'P'])],
        _ => &[],
    }
}

/// The group delay (m) that a code on `code`'s band carries relative to the broadcast clock's
/// reference, per the ephemeris (subtracted by positioning, added by the simulator).
pub fn group_delay_m(e: &Ephemeris, code: SignalCode) -> f64 {
    let b = code.band();
    C * match e.sys {
        Gnss::Gps | Gnss::Qzss => match b {
            1 => e.tgd[0],
            2 => e.tgd[0] * (1575.42f64 / 1227.60).powi(2),
            _ => 0.0,
        },
        Gnss::Beidou => match b {
            2 => e.tgd[0],
            7 => e.tgd[1],
            _ => 0.0,
        },
        Gnss::Galileo => match b {
            1 => e.tgd[1],
            5 => e.tgd[0] * (1575.42f64 / 1176.45).powi(2),
            _ => 0.0,
        },
        _ => 0.0,
    }
}

fn measurement<'a>(sat: &SatObs, eph: &'a Ephemeris, opt: &SppOptions) -> Option<Meas<'a>> {
    let get = |code: &SignalCode| {
        let code = *code;
        let s = sat.signal(code)?;
        Some((code, s.pseudorange_m?, s.freq_hz?))
    };
    if opt.iono_free {
        for (a, b) in if_pairs(sat.sys) {
            if let (Some((c1, p1, f1)), Some((c2, p2, f2))) = (get(a), get(b)) {
                // GPS, QZSS and Galileo clocks already refer to a dual-frequency combination;
                // BeiDou's refer to B3I, so B1I/B2I carry their group delays.
                let (p1, p2) = if sat.sys == Gnss::Beidou {
                    (p1 - group_delay_m(eph, c1), p2 - group_delay_m(eph, c2))
                } else {
                    (p1, p2)
                };
                let (g1, g2) = (f1 * f1, f2 * f2);
                let k = (g1 * g1 + g2 * g2).sqrt() / (g1 - g2);
                return Some(Meas {
                    sys: sat.sys,
                    prn: sat.prn,
                    range: (g1 * p1 - g2 * p2) / (g1 - g2),
                    noise: k * k * system_variance(sat.sys),
                    iono_free: true,
                    freq: None,
                    eph,
                    omega: omega_e(eph),
                    flat_var: 0.0,
                });
            }
        }
    }
    for c in single(sat.sys) {
        if let Some((code, p, f)) = get(c) {
            return Some(Meas {
                sys: sat.sys,
                prn: sat.prn,
                range: p - group_delay_m(eph, code),
                noise: system_variance(sat.sys),
                iono_free: false,
                freq: Some(f),
                eph,
                omega: omega_e(eph),
                flat_var: accuracy_m(eph).powi(2),
            });
        }
    }
    None
}

/// Variance factor of a system's code. GLONASS FDMA pseudoranges carry receiver biases that
/// differ per frequency channel (metres on many receivers) and its broadcast orbits are coarser.
fn system_variance(sys: Gnss) -> f64 {
    match sys {
        Gnss::Glonass => GLONASS_VARIANCE,
        _ => 1.0,
    }
}

const GLONASS_VARIANCE: f64 = 9.0;

/// The Earth rotation rate of the frame an ephemeris is given in.
pub fn omega_e(e: &Ephemeris) -> f64 {
    match &e.orbit {
        OrbitParams::Kepler { constants, .. } => constants.omega_e,
        OrbitParams::Glonass { .. } => GLONASS_OMEGA_E,
    }
}

/// Satellite position at transmission (in the ECEF frame of that instant) and clock. The
/// pseudorange dates the transmission on the satellite's clock exactly, whatever the receiver's
/// clock offset, and the clock polynomial turns that into system time: one orbit evaluation.
/// The Earth's rotation during the travel is left to [`sagnac_m`]: the pseudorange also
/// holds the receiver clock offset (a NetR9 runs up to a millisecond off), which as a travel
/// time would turn the frame by up to 1.4 m at a GEO satellite.
fn satellite(m: &Meas, t_rx: Gpst) -> (Vector3<f64>, f64) {
    let dt = t_rx.diff(m.eph.toe) - m.range / C;
    let clk0 = m.eph.clock_approx_after(dt);
    m.eph.position_clock_after(dt - clk0)
}

/// The Earth's rotation during the signal's travel (the Sagnac term, m) on the geometric range
/// from a receiver at `rcv` to a satellite at `sat` (ECEF at transmission).
fn sagnac_m(sat: &Vector3<f64>, rcv: &Vector3<f64>, omega: f64) -> f64 {
    omega * (sat.x * rcv.y - sat.y * rcv.x) / C
}

/// Solve one epoch.
pub fn solve(
    epoch: &Epoch,
    store: &EphemerisStore,
    opt: &SppOptions,
    approx: Option<Vector3<f64>>,
) -> Option<Solution> {
    let t = epoch.time;
    // Each satellite's signals sit in their own allocation. Touching them all first lets the
    // memory loads overlap instead of waiting one by one inside the selection below (epochs
    // replayed from a long file are rarely still in cache): 10 % on the benchmark's epochs.
    std::hint::black_box(
        epoch
            .sats
            .iter()
            .fold(0u8, |a, s| a ^ s.signals.first().map_or(0, |g| g.code.0[1])),
    );
    let mut meas: Vec<Meas> = epoch
        .sats
        .iter()
        .filter(|s| opt.systems.contains(&s.sys))
        .filter_map(|s| {
            let eph = store.select(s.sys, ephemeris_prn(s.sys, s.prn), t)?;
            measurement(s, eph, opt)
        })
        .collect();
    // Satellite positions depend on the pseudoranges only: once per epoch, kept through RAIM.
    let mut sats: Vec<(Vector3<f64>, f64)> = meas.iter().map(|m| satellite(m, t)).collect();
    let mut excluded = Vec::new();
    let mut rows = Vec::with_capacity(meas.len());
    let mut frame = None;
    let mut start = approx;
    loop {
        let fit = estimate(&meas, &sats, t, opt, start, &mut frame, &mut rows)?;
        let used = rows.len();
        if !opt.raim || used <= fit.nclk + 4 {
            return finish(fit, &rows, &meas, t, excluded);
        }
        // RAIM: chi-square test of the weighted residuals; exclude the worst satellite. Only
        // the fit that passes pays for DOPs, angles and the residual list.
        let dof = (used - fit.nclk - 3) as f64;
        let chi2: f64 = rows
            .iter()
            .map(|row| {
                let noise = if meas[row.meas].iono_free { 3.0 } else { 1.0 };
                row.residual.powi(2) / (code_variance(row.sin_el, noise) + (0.5 * row.iono).powi(2))
            })
            .sum();
        if chi2 <= chi2_threshold(dof) {
            return finish(fit, &rows, &meas, t, excluded);
        }
        let worst = rows
            .iter()
            .max_by(|a, b| a.residual.abs().total_cmp(&b.residual.abs()))?
            .meas;
        excluded.push((meas[worst].sys, meas[worst].prn));
        meas.remove(worst);
        sats.remove(worst);
        // The rejected fit is metres from the answer at most: the next one starts there.
        start = Some(Vector3::new(fit.x[0], fit.x[1], fit.x[2]));
    }
}

/// The PRN under which the ephemeris store keeps a satellite (QZSS MSM IDs are 193+ there).
fn ephemeris_prn(sys: Gnss, prn: u8) -> u8 {
    prn.checked_add(if sys == Gnss::Qzss && prn < 193 {
        192
    } else {
        0
    })
    .unwrap_or(prn)
}

/// The broadcast orbit and clock's accuracy (m): the ephemeris's URA/SISA, or when it has
/// none (GLONASS never does) a typical figure of the system's broadcast orbits.
fn accuracy_m(e: &Ephemeris) -> f64 {
    e.accuracy_m.unwrap_or(match e.sys {
        Gnss::Glonass => 5.0,
        _ => 2.4,
    })
}

/// Variance (m²) of a code measurement from the sine of its elevation: (0.3 m)² at the
/// zenith, growing as 1/sin² towards the horizon.
fn code_variance(sin_el: f64, noise: f64) -> f64 {
    let (a, b) = (0.3, 0.3);
    noise * (a * a + b * b / sin_el.max(0.1).powi(2))
}

/// Chi-square threshold at 1e-3 false-alarm probability (Wilson–Hilferty approximation).
fn chi2_threshold(dof: f64) -> f64 {
    let z = 3.09;
    let h = 2.0 / (9.0 * dof);
    dof * (1.0 - h + z * h.sqrt()).powi(3)
}

/// At most one receiver clock per system.
const MAX_CLOCKS: usize = Gnss::ALL.len();
/// Position and clocks.
const MAX_PARAMS: usize = 3 + MAX_CLOCKS;

/// The receiver's local frame at a position: geodetic coordinates, the rotation into
/// east/north/up and the zenith troposphere with its change per metre of height along the
/// local vertical (ECEF).
struct Frame {
    at: Vector3<f64>,
    geo: Geodetic,
    rot: Matrix3<f64>,
    near_earth: bool,
    zenith: f64,
    zenith_gradient: Vector3<f64>,
}

/// How far the position may move before the frame is worked out again: a centimetre turns
/// the horizon by 2e-9 rad and changes the zenith delay by 3 µm, while the last iterations of
/// a fit and RAIM's refits move by millimetres.
const FRAME_REUSE_M: f64 = 0.01;

impl Frame {
    fn at(pos: Vector3<f64>) -> Frame {
        let geo = ecef_to_geodetic(&pos);
        let near_earth = pos.norm() > 6.0e6;
        let rot = enu_rotation(&geo);
        let (zenith, per_metre) = if near_earth {
            let (zhd, zwd) = saastamoinen_zenith(geo.lat, geo.h);
            // About −0.3 mm per metre up, a quarter of it from the wet part.
            let (zhd_up, zwd_up) = saastamoinen_zenith(geo.lat, geo.h + 1.0);
            (zhd + zwd, (zhd_up + zwd_up) - (zhd + zwd))
        } else {
            (0.0, 0.0)
        };
        Frame {
            at: pos,
            geo,
            rot,
            near_earth,
            zenith,
            zenith_gradient: per_metre * rot.row(2).transpose(),
        }
    }
}

/// Iterated weighted least squares from `approx` (or the Earth's centre). The rows of the
/// converged fit, with their residuals, are left in `rows`.
fn estimate(
    meas: &[Meas],
    sats: &[(Vector3<f64>, f64)],
    t: Gpst,
    opt: &SppOptions,
    approx: Option<Vector3<f64>>,
    frame: &mut Option<Frame>,
    rows: &mut Vec<Row>,
) -> Option<Fit> {
    // The clock column of each system, in the order of the systems.
    let mut column = [usize::MAX; MAX_CLOCKS];
    for m in meas {
        column[m.sys as usize] = 0;
    }
    let mut systems = [Gnss::Gps; MAX_CLOCKS];
    let mut nclk = 0;
    for s in Gnss::ALL {
        if column[s as usize] == 0 {
            column[s as usize] = 3 + nclk;
            systems[nclk] = s;
            nclk += 1;
        }
    }
    let npar = 3 + nclk;
    if meas.len() < npar {
        return None;
    }
    let mut x = [0.0; MAX_PARAMS];
    if let Some(a) = approx {
        x[..3].copy_from_slice(a.as_slice());
    }
    let sin_mask = opt.mask.sin();
    let mut iono_uncorrected;
    for iter in 0..12 {
        let pos = Vector3::new(x[0], x[1], x[2]);
        if frame
            .as_ref()
            .is_none_or(|f| (f.at - pos).norm() > FRAME_REUSE_M)
        {
            *frame = Some(Frame::at(pos));
        }
        let Some(Frame {
            geo,
            rot,
            near_earth,
            zenith,
            zenith_gradient,
            ..
        }) = frame
        else {
            return None;
        };
        let near_earth = *near_earth;
        // One row per satellite used: its design row (unit vector and clock column), prefit
        // residual, weight, and which measurement and elevation it came from. The normal
        // equations are summed row by row; a dense design matrix would cost more than the
        // solution.
        rows.clear();
        iono_uncorrected = false;
        for (mi, (m, (sp, sclk))) in meas.iter().zip(sats).enumerate() {
            let d = sp - pos;
            let dn = d.norm();
            let unit = d / dn;
            let e = *rot * d;
            let sin_el = if near_earth { e.z / dn } else { 1.0 };
            if near_earth && sin_el < sin_mask {
                continue;
            }
            let mapping = if near_earth && sin_el > 0.0 {
                tropo_mapping(sin_el)
            } else {
                0.0
            };
            let tropo = *zenith * mapping;
            let iono = match (m.iono_free, m.freq, &opt.klobuchar) {
                (false, Some(f), Some(k)) if near_earth => {
                    let el = sin_el.asin();
                    let az = e.x.atan2(e.y).rem_euclid(std::f64::consts::TAU);
                    k.delay_l1(geo.lat, geo.lon, el, az, t.tow()) * (1_575.42e6 / f).powi(2)
                }
                (false, _, None) => {
                    iono_uncorrected = true;
                    0.0
                }
                _ => 0.0,
            };
            let clock = column[m.sys as usize];
            let r = dn + sagnac_m(sp, &pos, m.omega);
            let model = r + x[clock] - C * sclk + tropo + iono;
            // Code noise by elevation, what the broadcast ionosphere leaves (about half of
            // it), and for single-frequency code the broadcast orbit and clock's accuracy
            // (URA/SISA), the same at every elevation and as large as the code noise there.
            // Ionosphere-free code triples the noise and multipath, which grow at low
            // elevation; a flat term on top flattens the weighting those errors need (STR24's
            // five systems: 1.6 m without it, 2.4 m with it).
            let variance = code_variance(sin_el, m.noise) + (0.5 * iono).powi(2) + m.flat_var;
            // The design row is the model's full gradient in the position: the line of sight,
            // and the two small terms that also move with the receiver, the troposphere
            // (−0.3 mm/m up at the zenith) and the Sagnac term (~6e-6 m/m). Without them the
            // iteration only converges by ~1e-3 per step, one more step per fit.
            let sagnac_gradient = Vector3::new(-sp.y, sp.x, 0.0) * (m.omega / C);
            rows.push(Row {
                unit: -unit + mapping * *zenith_gradient + sagnac_gradient,
                los: -unit,
                clock,
                prefit: m.range - model,
                weight: 1.0 / variance,
                iono,
                sin_el,
                meas: mi,
                enu: e,
                residual: 0.0,
            });
        }
        if rows.len() < npar {
            return None;
        }
        let Normal { q_pos: q, dx, .. } = normal_solve(rows, nclk, true)?;
        for (xi, di) in x.iter_mut().zip(&dx) {
            *xi += di;
        }
        let dp = Vector3::new(dx[0], dx[1], dx[2]);
        if dp.norm() < 1e-4 || iter == 11 {
            for r in rows.iter_mut() {
                r.residual = r.prefit - r.unit.dot(&dp) - dx[r.clock];
            }
            return Some(Fit {
                x,
                q,
                systems,
                nclk,
                near_earth,
                iono_uncorrected,
            });
        }
    }
    None
}

/// A converged least-squares fit, before RAIM has accepted it; its rows are kept apart.
struct Fit {
    /// Position, then one clock per system (m).
    x: [f64; MAX_PARAMS],
    /// Position block of the weighted inverse normal matrix.
    q: Matrix3<f64>,
    /// The systems of the clock columns, in order (the first `nclk`).
    systems: [Gnss; MAX_CLOCKS],
    nclk: usize,
    near_earth: bool,
    iono_uncorrected: bool,
}

/// The accepted fit as a solution: DOPs, angles and residuals per satellite.
fn finish(
    fit: Fit,
    rows: &[Row],
    meas: &[Meas],
    t: Gpst,
    excluded: Vec<(Gnss, u8)>,
) -> Option<Solution> {
    let Fit {
        x,
        q,
        systems,
        nclk,
        near_earth,
        iono_uncorrected,
    } = fit;
    let n = rows.len();
    let used: Vec<SatResidual> = rows
        .iter()
        .map(|row| {
            let e = &row.enu;
            let (el, az) = if near_earth {
                (
                    e.z.atan2((e.x * e.x + e.y * e.y).sqrt()),
                    e.x.atan2(e.y).rem_euclid(std::f64::consts::TAU),
                )
            } else {
                (std::f64::consts::FRAC_PI_2, 0.0)
            };
            SatResidual {
                sys: meas[row.meas].sys,
                prn: meas[row.meas].prn,
                elevation_deg: el.to_degrees(),
                azimuth_deg: az.to_degrees(),
                residual_m: row.residual,
                iono_free: meas[row.meas].iono_free,
                iono_m: row.iono,
            }
        })
        .collect();
    let rms = (rows.iter().map(|r| r.residual.powi(2)).sum::<f64>() / n as f64).sqrt();
    // DOPs from the unweighted geometry in east/north/up.
    let pos = Vector3::new(x[0], x[1], x[2]);
    let rot = enu_rotation(&ecef_to_geodetic(&pos));
    let geometry = normal_solve(rows, nclk, false)?;
    let qenu = rot * geometry.q_pos * rot.transpose();
    let clk_var: f64 = geometry.clock_var[..nclk].iter().sum::<f64>() / nclk as f64;
    let gdop = (qenu.trace() + clk_var).sqrt();
    if !(gdop <= MAX_GDOP) {
        // Near-degenerate geometry (a few BeiDou GEOs, all in the equatorial plane, have a
        // mirror solution that fits as well as the true one): no position is better than a
        // wrong one. Excluding satellites only makes it worse, so RAIM need not go on.
        return None;
    }
    Some(Solution {
        time: t,
        position: [x[0], x[1], x[2]],
        clocks_m: systems[..nclk]
            .iter()
            .enumerate()
            .map(|(k, s)| (*s, x[3 + k]))
            .collect(),
        gdop,
        pdop: qenu.trace().sqrt(),
        hdop: (qenu[(0, 0)] + qenu[(1, 1)]).sqrt(),
        vdop: qenu[(2, 2)].sqrt(),
        used,
        excluded,
        rms_m: rms,
        cov_xyz: [
            q[(0, 0)],
            q[(1, 1)],
            q[(2, 2)],
            q[(0, 1)],
            q[(1, 2)],
            q[(2, 0)],
        ],
        iono_uncorrected,
    })
}

/// One pseudorange in the least-squares problem.
struct Row {
    /// Design row: the model's gradient in the position, the negated line of sight plus the
    /// troposphere's and the Sagnac term's small share…
    unit: Vector3<f64>,
    /// …and a 1 in this receiver-clock column.
    clock: usize,
    prefit: f64,
    weight: f64,
    /// Broadcast ionosphere applied (m).
    iono: f64,
    /// Sine of the elevation (1 away from the Earth).
    sin_el: f64,
    meas: usize,
    /// The negated line-of-sight unit vector alone: the geometry the DOPs describe.
    los: Vector3<f64>,
    /// Line of sight in east/north/up (m).
    enu: Vector3<f64>,
    /// Post-fit residual (m), once the fit has converged.
    residual: f64,
}

/// What the least-squares step gives: the position block of the inverse normal matrix, each
/// receiver clock's variance, and the update (position, then one clock per system).
struct Normal {
    q_pos: Matrix3<f64>,
    clock_var: [f64; MAX_CLOCKS],
    dx: [f64; MAX_PARAMS],
}

/// One least-squares step, summed row by row. Each clock column touches only its own system's
/// rows, so the clocks are eliminated system by system (Schur complement) and only a 3×3 system
/// is inverted. Unweighted (`weighted == false`) gives the geometry alone, for the DOPs.
fn normal_solve(rows: &[Row], nclk: usize, weighted: bool) -> Option<Normal> {
    let mut npp = Matrix3::<f64>::zeros();
    let mut bp = Vector3::<f64>::zeros();
    // Per clock: Σw, Σw·h (position part), Σw·prefit.
    let mut nkk = [0.0; MAX_CLOCKS];
    let mut npk = [Vector3::<f64>::zeros(); MAX_CLOCKS];
    let mut bk = [0.0; MAX_CLOCKS];
    for r in rows {
        let (w, h) = if weighted {
            (r.weight, r.unit)
        } else {
            (1.0, r.los)
        };
        let k = r.clock - 3;
        let wu = w * h;
        npp += wu * h.transpose();
        bp += wu * r.prefit;
        nkk[k] += w;
        npk[k] += wu;
        bk[k] += w * r.prefit;
    }
    let mut reduced = npp;
    let mut rb = bp;
    for k in 0..nclk {
        if nkk[k] <= 0.0 {
            return None;
        }
        reduced -= npk[k] * npk[k].transpose() / nkk[k];
        rb -= npk[k] * (bk[k] / nkk[k]);
    }
    let q_pos = reduced.try_inverse()?;
    let dp = q_pos * rb;
    let mut dx = [0.0; MAX_PARAMS];
    dx[..3].copy_from_slice(dp.as_slice());
    let mut clock_var = [0.0; MAX_CLOCKS];
    for k in 0..nclk {
        dx[3 + k] = (bk[k] - npk[k].dot(&dp)) / nkk[k];
        clock_var[k] = 1.0 / nkk[k] + npk[k].dot(&(q_pos * npk[k])) / (nkk[k] * nkk[k]);
    }
    Some(Normal {
        q_pos,
        clock_var,
        dx,
    })
}

/// Receiver velocity from Doppler (ECEF, m/s), given a position solution: a least-squares fit
/// of every used satellite's measured range rate (−Doppler × wavelength) to the geometry, with
/// one receiver clock drift. Satellite velocities and clock drifts come from the broadcast
/// orbit by central differences. `None` without Doppler from at least five satellites (one
/// spare, so that a single bad Doppler shows in the residuals).
pub fn velocity(epoch: &Epoch, store: &EphemerisStore, sol: &Solution) -> Option<Vector3<f64>> {
    let rcv = Vector3::from(sol.position);
    let mut rows: Vec<([f64; 4], f64)> = Vec::new();
    for u in &sol.used {
        let Some(sat) = epoch.sats.iter().find(|s| s.sys == u.sys && s.prn == u.prn) else {
            continue;
        };
        let Some((doppler, f)) = sat
            .signals
            .iter()
            .find_map(|s| Some((s.doppler_hz?, s.freq_hz?)))
        else {
            continue;
        };
        let Some(eph) = store.select(u.sys, u.prn, epoch.time) else {
            continue;
        };
        let (p0, _) = eph.position_clock(epoch.time);
        let tx = epoch.time.add(-(p0 - rcv).norm() / C);
        let h = 0.5;
        let (pa, ca) = eph.position_clock(tx.add(-h));
        let (pb, cb) = eph.position_clock(tx.add(h));
        let (ps, _) = eph.position_clock(tx);
        let vs = (pb - pa) / (2.0 * h);
        let clk_drift = (cb - ca) / (2.0 * h);
        let los = ps - rcv;
        let unit = los / los.norm();
        let rate = -doppler * C / f;
        // rate = u·(vs − vr) + c·dtr' − c·dts'
        rows.push((
            [-unit.x, -unit.y, -unit.z, 1.0],
            rate - unit.dot(&vs) + C * clk_drift,
        ));
    }
    if rows.len() < 5 {
        return None;
    }
    let h = DMatrix::from_fn(rows.len(), 4, |i, j| rows[i].0[j]);
    let y = DVector::from_iterator(rows.len(), rows.iter().map(|r| r.1));
    let x = (h.transpose() * &h).try_inverse()? * h.transpose() * y;
    Some(Vector3::new(x[0], x[1], x[2]))
}
