//! Broadcast ephemerides in the form the orbit code consumes, and the store that picks the right
//! set for an epoch.
//!
//! Sources (RTCM 1019/1020/1042/1044/1045/1046, RINEX navigation files) convert into
//! [`Ephemeris`]; positioning asks the [`EphemerisStore`] for a satellite at an instant and gets
//! the healthy set whose reference time is nearest, inside its fit window, or nothing.

use std::collections::BTreeMap;

use nalgebra::Vector3;
use serde::Serialize;

use super::Gnss;
use super::orbit::{
    BEIDOU_CONSTANTS, GALILEO_CONSTANTS, GPS_CONSTANTS, GlonassNodes, GlonassState, Kepler,
    SystemConstants, glonass_clock, kepler_clock, kepler_clock_poly, kepler_position,
};
use super::time::Gpst;

/// How a satellite's orbit is described.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum OrbitParams {
    /// Keplerian elements; `toe`/`toc` inside are seconds of the system's week.
    Kepler {
        elements: Kepler,
        #[serde(skip)]
        constants: SystemConstants,
        beidou_geo: bool,
    },
    /// GLONASS state vector at tb (PZ-90) and the FDMA frequency channel.
    Glonass {
        state: GlonassState,
        channel: i8,
        #[serde(skip)]
        nodes: GlonassNodes,
    },
}

/// One broadcast ephemeris.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ephemeris {
    pub sys: Gnss,
    pub prn: u8,
    /// Reference time of the orbit (toe, or tb for GLONASS), GPST.
    pub toe: Gpst,
    /// Reference time of the clock (toc), GPST.
    pub toc: Gpst,
    /// Issue of data (IODE, AODE, IODnav; tb for GLONASS): together with `toe`, identifies the set.
    pub iode: u32,
    pub healthy: bool,
    /// Signal-in-space accuracy (m), when the source gives one.
    pub accuracy_m: Option<f64>,
    /// Group delays (s): GPS/QZSS [TGD, 0]; BeiDou [TGD1 (B1I), TGD2 (B2I)]; Galileo
    /// [BGD E1/E5a, BGD E1/E5b]; GLONASS [Δτn, 0].
    pub tgd: [f64; 2],
    /// Half-width of the validity window around `toe` (s).
    pub fit_half_s: f64,
    pub orbit: OrbitParams,
}

/// The constants of a system's ICD for Keplerian orbits.
pub fn kepler_constants(sys: Gnss) -> SystemConstants {
    match sys {
        Gnss::Galileo => GALILEO_CONSTANTS,
        Gnss::Beidou => BEIDOU_CONSTANTS,
        _ => GPS_CONSTANTS,
    }
}

impl Ephemeris {
    /// Satellite position (ECEF at transmission time `t`, m) and clock offset (s, including the
    /// relativistic term, excluding group delays).
    pub fn position_clock(&self, t: Gpst) -> (Vector3<f64>, f64) {
        self.position_clock_after(t.diff(self.toe))
    }

    /// [`position_clock`](Self::position_clock) `dt` seconds after the reference time: plain
    /// seconds, for callers that date many instants against one set.
    pub fn position_clock_after(&self, dt: f64) -> (Vector3<f64>, f64) {
        match &self.orbit {
            OrbitParams::Kepler {
                elements,
                constants,
                beidou_geo,
            } => {
                // The system's time of week; the formulas wrap differences into ±half a week.
                let ts = elements.toe + dt;
                let (p, sin_e) = kepler_position(elements, constants, ts, *beidou_geo);
                (p, kepler_clock(elements, constants, ts, sin_e))
            }
            OrbitParams::Glonass { state, nodes, .. } => {
                (nodes.position(state, dt), glonass_clock(state, dt))
            }
        }
    }

    /// Clock offset (s) `dt` seconds after the reference time, without the relativistic term
    /// (below 0.1 µs; 0.1 mm of satellite motion): cheap, to date the transmission before the
    /// orbit is evaluated.
    pub fn clock_approx_after(&self, dt: f64) -> f64 {
        match &self.orbit {
            OrbitParams::Kepler { elements, .. } => kepler_clock_poly(elements, elements.toe + dt),
            OrbitParams::Glonass { state, .. } => glonass_clock(state, dt),
        }
    }

    /// Whether `t` lies inside this set's validity window.
    pub fn valid_at(&self, t: Gpst) -> bool {
        t.diff(self.toe).abs() <= self.fit_half_s
    }
}

/// Every ephemeris seen, per satellite, ordered by reference time.
#[derive(Clone, Debug, Default)]
pub struct EphemerisStore {
    sets: BTreeMap<(Gnss, u8), Vec<Ephemeris>>,
}

impl EphemerisStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a set; a repeat of a set already held (same toe and issue) is ignored. Returns whether
    /// it was new.
    pub fn insert(&mut self, e: Ephemeris) -> bool {
        let v = self.sets.entry((e.sys, e.prn)).or_default();
        if v.iter().any(|x| x.toe == e.toe && x.iode == e.iode) {
            return false;
        }
        let at = v.partition_point(|x| x.toe <= e.toe);
        v.insert(at, e);
        true
    }

    /// The healthy set valid at `t` with the nearest reference time.
    pub fn select(&self, sys: Gnss, prn: u8, t: Gpst) -> Option<&Ephemeris> {
        self.sets
            .get(&(sys, prn))?
            .iter()
            .filter(|e| e.healthy && e.valid_at(t))
            .min_by(|a, b| a.toe.diff(t).abs().total_cmp(&b.toe.diff(t).abs()))
    }

    /// Every set, by satellite and then reference time.
    pub fn all(&self) -> impl Iterator<Item = &Ephemeris> + '_ {
        self.sets.values().flatten()
    }

    /// Satellites with at least one set.
    pub fn satellites(&self) -> impl Iterator<Item = (Gnss, u8)> + '_ {
        self.sets.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.sets.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Drop sets whose window ended before `t` (for the live daemon).
    pub fn prune_before(&mut self, t: Gpst) {
        for v in self.sets.values_mut() {
            v.retain(|e| e.toe.diff(t) + e.fit_half_s >= 0.0);
        }
        self.sets.retain(|_, v| !v.is_empty());
    }
}

/// Nominal user range accuracy (m) of a GPS, QZSS or BeiDou URA index, as IS-GPS-200 defines
/// it and RINEX 3.04 writes it (2^(1+N/2) up to N = 6, rounded to 0.1 m, then 2^(N−2)); index
/// 15 (and anything larger) means no accuracy prediction.
pub fn ura_m(index: u8) -> Option<f64> {
    const URA: [f64; 15] = [
        2.0, 2.8, 4.0, 5.7, 8.0, 11.3, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0,
        4096.0,
    ];
    URA.get(index as usize).copied()
}

/// Galileo signal-in-space accuracy (m) of a SISA index; 255 is "no accuracy prediction"
/// and 126–254 are spare.
pub fn sisa_m(n: u8) -> Option<f64> {
    let (base_index, base_m, step_m) = match n {
        0..=49 => (0, 0.0, 0.01),
        50..=74 => (50, 0.5, 0.02),
        75..=99 => (75, 1.0, 0.04),
        100..=125 => (100, 2.0, 0.16),
        _ => return None,
    };
    Some(base_m + step_m * f64::from(n - base_index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_indices_follow_the_interface_documents() {
        assert_eq!(ura_m(0), Some(2.0));
        assert_eq!(ura_m(3), Some(5.7));
        assert_eq!(ura_m(6), Some(16.0));
        assert_eq!(ura_m(14), Some(4096.0));
        assert_eq!(ura_m(15), None);
        assert_eq!(sisa_m(49), Some(0.49));
        assert!((sisa_m(74).unwrap() - 0.98).abs() < 1e-12);
        assert!((sisa_m(107).unwrap() - 3.12).abs() < 1e-12);
        assert_eq!(sisa_m(126), None);
        assert_eq!(sisa_m(255), None);
    }

    fn eph(toe_s: f64, iode: u32, healthy: bool) -> Ephemeris {
        Ephemeris {
            sys: Gnss::Gps,
            prn: 5,
            toe: Gpst::from_week_tow(2300, toe_s),
            toc: Gpst::from_week_tow(2300, toe_s),
            iode,
            healthy,
            accuracy_m: Some(2.0),
            tgd: [0.0; 2],
            fit_half_s: 7200.0,
            orbit: OrbitParams::Kepler {
                elements: Kepler::default(),
                constants: GPS_CONSTANTS,
                beidou_geo: false,
            },
        }
    }

    #[test]
    fn selects_nearest_healthy_valid_set() {
        let mut s = EphemerisStore::new();
        assert!(s.insert(eph(7200.0, 1, true)));
        assert!(!s.insert(eph(7200.0, 1, true)));
        assert!(s.insert(eph(14400.0, 2, false)));
        assert!(s.insert(eph(21600.0, 3, true)));
        let at = |x| Gpst::from_week_tow(2300, x);
        assert_eq!(s.select(Gnss::Gps, 5, at(8000.0)).map(|e| e.iode), Some(1));
        // The unhealthy set is skipped even when it is nearest.
        assert_eq!(s.select(Gnss::Gps, 5, at(14400.0)).map(|e| e.iode), Some(1));
        assert_eq!(s.select(Gnss::Gps, 5, at(20000.0)).map(|e| e.iode), Some(3));
        assert_eq!(s.select(Gnss::Gps, 5, at(40000.0)).map(|e| e.iode), None);
        s.prune_before(at(20000.0));
        assert_eq!(s.len(), 2);
    }
}
