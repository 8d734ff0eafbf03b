//! Per-satellite, per-signal pseudorange corrections (PRC) against the surveyed antenna
//! position, and code multipath — the reference station's view of each signal.
//!
//! PRC follows the DGNSS convention: the correction a rover adds to its own pseudorange,
//! `PRC = ρ − (PR − c·dts) − c·dtr`, where ρ is the geometric range from the surveyed antenna to
//! the satellite at transmission time (with the Earth's rotation during the signal's travel),
//! dts the broadcast satellite clock and dtr the station's receiver clock of that system (the
//! median over the system's satellites, so one bad satellite cannot move the others). What
//! remains is the atmosphere, orbit and clock errors the rover shares — and this receiver's own
//! noise and multipath.

use std::collections::HashMap;

use nalgebra::Vector3;

use super::nav::EphemerisStore;
use super::obs::{Epoch, SignalCode};
use super::orbit::{C, earth_rotation};
use super::time::Gpst;
use super::{Gnss, median};

/// One signal's correction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prc {
    pub sys: Gnss,
    pub prn: u8,
    pub code: SignalCode,
    pub prc_m: f64,
}

/// The corrections of every signal with a pseudorange and a valid orbit.
pub fn pseudorange_corrections(
    epoch: &Epoch,
    store: &EphemerisStore,
    station: &Vector3<f64>,
) -> Vec<Prc> {
    // Raw differences PR − ρ + c·dts per signal, then the receiver clock per system.
    let mut raw: Vec<(Gnss, u8, SignalCode, f64)> = Vec::new();
    for sat in &epoch.sats {
        let Some(eph) = store.select(sat.sys, sat.prn, epoch.time) else {
            continue;
        };
        let Some(pr0) = sat.signals.iter().find_map(|s| s.pseudorange_m) else {
            continue;
        };
        let (_, clk0) = eph.position_clock(epoch.time.add(-pr0 / C));
        let tx: Gpst = epoch.time.add(-pr0 / C - clk0);
        let (pos, clk) = eph.position_clock(tx);
        let travel = (pos - station).norm() / C;
        let pos = earth_rotation(&pos, super::spp::omega_e(eph), travel);
        let rho = (pos - station).norm();
        for s in &sat.signals {
            if let Some(pr) = s.pseudorange_m {
                raw.push((sat.sys, sat.prn, s.code, pr - rho + C * clk));
            }
        }
    }
    let mut clock: HashMap<Gnss, f64> = HashMap::new();
    for sys in Gnss::ALL {
        // One satellite alone would define the clock and get a correction of zero: a system
        // needs two to tell its satellites apart from the receiver clock.
        let mut sats: Vec<u8> = raw.iter().filter(|r| r.0 == sys).map(|r| r.1).collect();
        sats.dedup();
        if sats.len() < 2 {
            continue;
        }
        let mut v: Vec<f64> = raw.iter().filter(|r| r.0 == sys).map(|r| r.3).collect();
        if let Some(m) = median(&mut v) {
            clock.insert(sys, m);
        }
    }
    raw.into_iter()
        .filter_map(|(sys, prn, code, d)| {
            Some(Prc {
                sys,
                prn,
                code,
                prc_m: clock.get(&sys)? - d,
            })
        })
        .collect()
}

/// One satellite's L1 C/A code correction at an epoch (what RTCM 2.3 types 1 and 31 carry),
/// with the issue of data of the ephemeris it was computed with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CodeCorrection {
    pub sys: Gnss,
    pub prn: u8,
    pub prc_m: f64,
    /// IODE (GPS) or tb index (GLONASS) of the ephemeris, its low 8 bits.
    pub iod: u8,
}

/// One epoch's code corrections against the surveyed position: what a station publishes for
/// DGNSS outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochCorrections {
    pub time: Gpst,
    /// The surveyed antenna position the corrections are computed against (ECEF, m).
    pub station: Vector3<f64>,
    pub sats: Vec<CodeCorrection>,
}

/// The L1 C/A code corrections of the GPS and GLONASS satellites of an epoch.
pub fn code_corrections(
    e: &Epoch,
    store: &EphemerisStore,
    station: &Vector3<f64>,
) -> Vec<CodeCorrection> {
    let l1ca = SignalCode(*b"1C");
    pseudorange_corrections(e, store, station)
        .into_iter()
        .filter(|p| matches!(p.sys, Gnss::Gps | Gnss::Glonass) && p.code == l1ca)
        .filter_map(|p| {
            let eph = store.select(p.sys, p.prn, e.time)?;
            Some(CodeCorrection {
                sys: p.sys,
                prn: p.prn,
                prc_m: p.prc_m,
                iod: (eph.iode & 0xFF) as u8,
            })
        })
        .collect()
}

/// Code multipath per signal from the code-minus-carrier combination with a second frequency
/// (the ionosphere cancels), minus its mean over the continuous arc (the ambiguities cancel).
#[derive(Debug, Default)]
pub struct Multipath {
    arcs: super::SatMap<(Gnss, u8, SignalCode), Arc>,
}

#[derive(Debug, Clone, Copy)]
struct Arc {
    n: u32,
    mean: f64,
    time: Gpst,
}

/// Arcs shorter than this many epochs give no value yet (the mean is not settled).
pub const MULTIPATH_MIN_EPOCHS: u32 = 10;

impl Multipath {
    pub fn new() -> Self {
        Self::default()
    }

    /// Update with an epoch; returns the multipath (m) of each signal with a settled arc.
    pub fn update(&mut self, epoch: &Epoch) -> Vec<(Gnss, u8, SignalCode, f64)> {
        let mut out = Vec::new();
        for sat in &epoch.sats {
            for s1 in &sat.signals {
                let key = (sat.sys, sat.prn, s1.code);
                let (Some(p1), Some(l1), Some(f1)) =
                    (s1.pseudorange_m, s1.phase_cycles, s1.freq_hz)
                else {
                    self.arcs.remove(&key);
                    continue;
                };
                let Some((l2, f2)) = sat.signals.iter().find_map(|s2| {
                    (s2.code.band() != s1.code.band())
                        .then_some(())
                        .and(s2.phase_cycles.zip(s2.freq_hz))
                }) else {
                    self.arcs.remove(&key);
                    continue;
                };
                let slip = sat.signals.iter().any(|s| s.slip || s.half_cycle);
                let a = (f1 / f2).powi(2);
                let (phi1, phi2) = (l1 * C / f1, l2 * C / f2);
                let mp = p1 - (1.0 + 2.0 / (a - 1.0)) * phi1 + (2.0 / (a - 1.0)) * phi2;
                let prev = self.arcs.get(&key).copied();
                let cont = prev.is_some_and(|p| {
                    let dt = epoch.time.diff(p.time);
                    !slip && dt > 0.0 && dt <= 60.0 && (mp - p.mean).abs() < 50.0
                });
                let arc = match prev.filter(|_| cont) {
                    Some(p) => {
                        let n = p.n + 1;
                        Arc {
                            n,
                            mean: p.mean + (mp - p.mean) / n as f64,
                            time: epoch.time,
                        }
                    }
                    None => Arc {
                        n: 1,
                        mean: mp,
                        time: epoch.time,
                    },
                };
                self.arcs.insert(key, arc);
                if arc.n >= MULTIPATH_MIN_EPOCHS {
                    out.push((sat.sys, sat.prn, s1.code, mp - arc.mean));
                }
            }
        }
        out
    }
}
