//! Carrier-phase relative positioning (RTK) between a base of known position and a rover.
//!
//! Per epoch pair (base and rover at the same GNSS time, or the base's latest epoch within the
//! age limit): each system's two bands common to both receivers ([`signals`]), single
//! differences of code and phase with each receiver's model ([`model`]: broadcast orbits and
//! clocks, Saastamoinen troposphere, ANTEX receiver and satellite phase centres, solid Earth
//! tide, phase wind-up), and a filter ([`filter`]) on the rover position (and velocity in
//! kinematic mode) and one ambiguity per satellite and band. The receiver clock differences are
//! eliminated per system, band and observable each epoch, which is the double-difference model
//! with a reference satellite per system and band.
//!
//! Cycle slips (lock time, loss of lock, half-cycle flag, geometry-free and Melbourne–Wübbena
//! jumps from [`crate::gnss::slip`], and phase residuals an epoch cannot explain) restart one
//! ambiguity. Integer ambiguities come from LAMBDA on the double differences
//! ([`ambiguity`]) with the ratio test and a check of the fixed solution's phase residuals;
//! when the whole set fails, subsets without the lowest satellites are tried (partial
//! fixing). GLONASS ambiguities stay float: inter-channel biases between receivers of different
//! makes are not modelled, and the solution says so.

pub mod ambiguity;
pub mod engine;
pub mod filter;
pub mod model;
pub mod signals;

use nalgebra::Vector3;
use serde::Serialize;

use super::Gnss;
use super::time::Gpst;

pub use engine::Rtk;
pub use model::Antennas;
pub use signals::BandPair;

/// How the rover moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RtkMode {
    /// A fixed antenna: one position for the whole session.
    Static,
    /// A moving antenna: position and velocity with white acceleration noise.
    Kinematic,
}

/// Options of the engine.
#[derive(Clone, Debug)]
pub struct RtkOptions {
    pub mode: RtkMode,
    pub systems: Vec<Gnss>,
    /// Elevation mask (rad).
    pub mask: f64,
    /// Bands per system (systems not listed take [`signals::default_bands`]).
    pub bands: Vec<BandPair>,
    /// Minimum ratio of the second-best to the best integer candidate.
    pub ratio: f64,
    /// Fix-and-hold: fixed double differences constrain the float ambiguities afterwards.
    pub hold: bool,
    /// The oldest base epoch used with a rover epoch (age of differential, s).
    pub max_age_s: f64,
    /// An ambiguity unobserved for longer than this (s) is dropped.
    pub max_outage_s: f64,
    /// Phase noise at the zenith (m, undifferenced); code is `code_ratio` times noisier.
    pub phase_sigma_m: f64,
    pub code_ratio: f64,
    /// White acceleration noise, horizontal and vertical (m²/s³).
    pub accel_q: [f64; 2],
    /// Solid Earth tide on both receivers.
    pub tide: bool,
    /// Fewest double differences a fix may rest on.
    pub min_fix: usize,
}

impl Default for RtkOptions {
    fn default() -> Self {
        RtkOptions {
            mode: RtkMode::Kinematic,
            systems: vec![
                Gnss::Gps,
                Gnss::Glonass,
                Gnss::Galileo,
                Gnss::Beidou,
                Gnss::Qzss,
            ],
            mask: 10f64.to_radians(),
            bands: Vec::new(),
            ratio: 3.0,
            hold: false,
            max_age_s: 30.0,
            max_outage_s: 60.0,
            phase_sigma_m: 0.003,
            code_ratio: 100.0,
            accel_q: [1.0, 0.1],
            tide: true,
            min_fix: 5,
        }
    }
}

impl RtkOptions {
    pub fn bands_of(&self, sys: Gnss) -> Option<[u8; 2]> {
        self.bands
            .iter()
            .find(|b| b.sys == sys)
            .map(|b| b.bands)
            .or_else(|| signals::default_bands(sys))
    }
}

/// Quality of a solution, numbered as RTKLIB's Q column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Quality {
    Fixed = 1,
    Float = 2,
}

/// One epoch's solution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RtkSolution {
    pub time: Gpst,
    /// Rover antenna reference point (ECEF, m).
    pub position: [f64; 3],
    pub quality: Quality,
    /// Position covariance (m²): xx, yy, zz, xy, yz, zx.
    pub cov_xyz: [f64; 6],
    /// Satellites with phase in the solution.
    pub satellites: usize,
    /// Rover time minus base time (s).
    pub age_s: f64,
    /// Ratio of the integer search (0 when no search was made).
    pub ratio: f64,
    /// Double differences fixed to integers.
    pub fixed_ambiguities: usize,
    /// Systems with fixed double differences.
    pub fixed_systems: Vec<Gnss>,
    /// GLONASS phase was used with float ambiguities only (inter-channel biases are not
    /// modelled).
    pub glonass_float: bool,
}

impl RtkSolution {
    pub fn position_vector(&self) -> Vector3<f64> {
        Vector3::from(self.position)
    }
}

/// Why an epoch gave no solution.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RtkSkip {
    #[error("no base epoch within {max_age_s} s")]
    NoBase { max_age_s: f64 },
    #[error("no starting position for the rover (single point positioning failed)")]
    NoStart,
    #[error("{found} satellites common to both receivers with ephemerides (5 needed)")]
    TooFewSatellites { found: usize },
    #[error("rover epoch not after the previous one")]
    OutOfOrder,
    #[error("more outliers than the screening takes (epoch left out)")]
    Inconsistent,
    #[error("the filter became singular")]
    Singular,
}
