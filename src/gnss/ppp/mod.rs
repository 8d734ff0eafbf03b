//! Precise point positioning: one receiver, precise orbits and clocks, no base.
//!
//! Per epoch and satellite ([`engine`]): the two bands of the system as RTK picks them
//! ([`crate::gnss::rtk::signals`]), combined ionosphere-free in code and phase; the satellite
//! at transmission from SP3 and RINEX clock products with the relativistic terms
//! ([`products`]); the receiver's frame moved by the solid Earth tide and the antenna
//! eccentricity (DELTA H/E/N); receiver PCO/PCV and satellite PCO (ANTEX by validity period)
//! and nadir PCV, phase wind-up and the Shapiro delay; the troposphere as a Saastamoinen
//! hydrostatic a priori plus an estimated zenith wet delay, both mapped with the Niell
//! functions. The shared pieces are those of RTK ([`crate::gnss::rtk::model`]).
//!
//! GLONASS carriers follow each satellite's FDMA channel (from the RINEX header or the
//! navigation records), its code is weighted far below its phase (the receiver's code bias
//! differs per channel).
//!
//! States ([`kalman`]): position (static: constant; kinematic: white noise), one receiver clock
//! per system (white noise; GLONASS and Galileo have their own), the zenith wet delay (random walk) and one float ambiguity per
//! satellite arc. A slip (lock time, LLI, gap, geometry-free or Melbourne–Wübbena jump from
//! [`crate::gnss::slip`]) or a phase residual the epoch cannot explain restarts that
//! satellite's ambiguity only; a code outlier drops that code observation.
//!
//! A satellite without usable products or satellite antenna entry is excluded and reported
//! ([`Ppp::exclusions`]); never modelled with a silent zero. An outdated GPS entry of an
//! older block than the satellite's signals allow can give way to the file's entry of that
//! block ([`blocks`], [`SatAntexPolicy::BySignals`]); so can a missing GLONASS or Galileo FOC
//! entry.

pub mod blocks;
pub mod broadcast;
pub mod engine;
pub mod kalman;
pub mod products;

use nalgebra::{Matrix3, Vector3};
use serde::Serialize;

use super::Gnss;
use super::time::Gpst;

pub use engine::Ppp;
pub use products::{ProductError, Products, SatState};

/// How the engine treats a satellite antenna entry that is open-ended in an ANTEX file issued
/// long before the data (its PRN may have moved to a newer satellite).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SatAntexPolicy {
    /// Refuse it: the satellite is excluded and reported.
    Strict,
    /// Use it (RTKLIB's rule) and list the satellite as having used an outdated entry.
    OutdatedOk,
    /// As `OutdatedOk`, but an entry of an older block than the satellite's signals allow
    /// (the PRN's retired satellite), or a missing entry, gives way to the file's newest entry
    /// of the block the signals show ([`blocks`]: GPS, GLONASS; Galileo FOC by its PRN).
    BySignals,
}

/// Options of the engine.
#[derive(Clone, Debug)]
pub struct PppOptions {
    /// A moving antenna: position as white noise each epoch.
    pub kinematic: bool,
    pub systems: Vec<Gnss>,
    /// Elevation mask (rad).
    pub mask: f64,
    pub sat_antex: SatAntexPolicy,
    /// Satellites left out (system, PRN), reported as exclusions.
    pub exclude: Vec<(Gnss, u8)>,
    /// Undifferenced phase sigma per frequency (m) at the zenith; elevation-dependent like
    /// RTKLIB's `a + b/sin(el)` with a = b.
    pub phase_sigma_m: f64,
    /// Code sigma over phase sigma.
    pub code_ratio: f64,
    /// The same for GLONASS, whose FDMA code carries a receiver bias per channel (up to
    /// metres, and no product gives it): ten times the GPS ratio leaves GLONASS code only the
    /// start of its arcs. On the ESBC day G+R converged to 2 cm in 3510 s against 6780 s with
    /// the GPS ratio, the coordinate 0.6 mm nearer the IGb14 truth; 300 or 3000 did no better,
    /// nor did a code bias state per channel (2 or 10 m a priori) at the GPS ratio: the same
    /// figures to a millimetre and 30 s, for 14 more states.
    pub glonass_code_ratio: f64,
    /// Random walk of the zenith wet delay (m/√s).
    pub zwd_noise: f64,
    /// Solid Earth tide.
    pub tide: bool,
    /// A satellite unobserved for longer than this (s) loses its ambiguity state.
    pub max_outage_s: f64,
    /// A post-fit residual over this many sigmas is an outlier.
    pub reject_sigmas: f64,
}

impl Default for PppOptions {
    fn default() -> Self {
        PppOptions {
            kinematic: false,
            systems: vec![Gnss::Gps],
            mask: 10f64.to_radians(),
            sat_antex: SatAntexPolicy::Strict,
            exclude: Vec::new(),
            phase_sigma_m: 0.003,
            code_ratio: 100.0,
            glonass_code_ratio: 1000.0,
            zwd_noise: 1e-4,
            tide: true,
            max_outage_s: 300.0,
            reject_sigmas: 4.0,
        }
    }
}

/// The receiver's antenna.
#[derive(Clone, Debug, Default)]
pub struct Receiver {
    /// ANTEX calibration of the antenna and radome (PCO and PCV); `None` leaves the solution at
    /// the mean phase centre, which the caller must say.
    pub antenna: Option<super::antex::Antenna>,
    /// Antenna reference point from the marker: east, north, up (m); RINEX DELTA H/E/N.
    pub eccentricity_enu: Vector3<f64>,
}

/// One epoch's solution (of the marker).
#[derive(Clone, Debug, Serialize)]
pub struct PppEpoch {
    #[serde(skip)]
    pub time: Gpst,
    /// ECEF (m).
    pub pos: [f64; 3],
    /// Covariance of `pos` (m²).
    #[serde(skip)]
    pub cov: Matrix3<f64>,
    /// Zenith total delay: hydrostatic a priori plus the wet estimate (m).
    pub ztd: f64,
    pub zwd: f64,
    pub sigma_zwd: f64,
    /// Satellites with a phase observation in the update.
    pub nsat: usize,
    /// Ambiguities restarted this epoch (slips and outliers).
    pub restarts: usize,
}

impl PppEpoch {
    pub fn position(&self) -> Vector3<f64> {
        Vector3::from(self.pos)
    }
}

/// Why an epoch gave no solution.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PppSkip {
    #[error("{usable} satellites with dual-frequency code and phase and products, {needed} needed")]
    TooFewSatellites { usable: usize, needed: usize },
    #[error("the filter update failed (not a positive innovation variance)")]
    Numerical,
}
