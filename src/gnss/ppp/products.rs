//! Satellite positions and clocks from precise products: SP3 orbits (centre of mass) and RINEX
//! clocks, dated by the signal's transmission, with the relativistic clock terms the products
//! leave to the user (IS-GPS-200 20.3.3.3.3.1: the periodic term from the orbit's eccentricity,
//! computed here from position and velocity; and the Shapiro delay along the path).

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::clk::{ClockError, ClockFile};
use crate::gnss::orbit::C;
use crate::gnss::sp3::{Sp3, Sp3Error};
use crate::gnss::time::Gpst;

/// The Earth's gravitational constant (m³/s², WGS 84 / IERS).
const GM: f64 = 3.986_004_418e14;

/// Why a satellite has no precise state at an instant.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProductError {
    #[error(transparent)]
    Orbit(#[from] Sp3Error),
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// Orbits and clocks of one solution. Without clock files the SP3 clocks serve (linear between
/// nodes: decimetres at 15 min spacing, so the caller says so).
#[derive(Clone, Debug)]
pub struct Products {
    pub orbits: Sp3,
    pub clocks: Vec<ClockFile>,
}

/// A satellite at the transmission of a signal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SatState {
    /// Centre of mass, ECEF of the transmission instant (m).
    pub pos: Vector3<f64>,
    /// Clock offset including the periodic relativistic term (s).
    pub clock_s: f64,
}

impl Products {
    /// The clock bias (s) at `t`: the first clock file that covers it, else the SP3 clocks
    /// when no clock file was given. The error of the file that knows the satellite wins, so
    /// a gap reads as a gap and not as a missing satellite.
    pub fn clock(&self, sys: Gnss, prn: u8, t: Gpst) -> Result<f64, ProductError> {
        if self.clocks.is_empty() {
            return Ok(self.orbits.clock(sys, prn, t)?);
        }
        let mut err = None;
        for f in &self.clocks {
            match f.bias(sys, prn, t) {
                Ok(b) => return Ok(b),
                Err(e @ ClockError::NoSatellite { .. }) => {
                    err.get_or_insert(e);
                }
                Err(e) => err = Some(e),
            }
        }
        Err(err.expect("at least one clock file").into())
    }

    /// The satellite when it sent the signal received at `t` with pseudorange `pr` (m): the
    /// pseudorange dates the transmission on the satellite's clock, the clock turns that into
    /// GPS time.
    pub fn satellite(
        &self,
        sys: Gnss,
        prn: u8,
        t: Gpst,
        pr: f64,
    ) -> Result<SatState, ProductError> {
        let sent = t.add(-pr / C);
        let bias = self.clock(sys, prn, sent)?;
        let sent = sent.add(-bias);
        let s = self.orbits.state(sys, prn, sent)?;
        Ok(SatState {
            pos: s.pos,
            clock_s: bias + relativity_periodic(&s.pos, &s.vel),
        })
    }
}

/// The periodic relativistic clock correction (s), `−2 r·v / c²`, to add to the clock bias.
pub fn relativity_periodic(pos: &Vector3<f64>, vel: &Vector3<f64>) -> f64 {
    -2.0 * pos.dot(vel) / (C * C)
}

/// The Shapiro delay (m) of a signal from `sat` to `rcv` (ECEF, m) in the Earth's field.
pub fn shapiro_delay(sat: &Vector3<f64>, rcv: &Vector3<f64>) -> f64 {
    let (rs, rr) = (sat.norm(), rcv.norm());
    let rho = (sat - rcv).norm();
    let num = rs + rr + rho;
    let den = rs + rr - rho;
    if !(den > 0.0 && num > 0.0) {
        return 0.0;
    }
    2.0 * GM / (C * C) * (num / den).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relativity_terms_have_their_textbook_size() {
        // A GPS orbit with e = 0.01: the periodic term peaks at 2·sqrt(GM·a)·e/c² ≈ 23 ns.
        let a = 26_560_000.0;
        let e = 0.01;
        let n = (GM / (a * a * a)).sqrt();
        let ecc_anomaly = std::f64::consts::FRAC_PI_2;
        let r = a * (1.0 - e * ecc_anomaly.cos());
        let pos = Vector3::new(a * (ecc_anomaly.cos() - e), a * (1.0 - e * e).sqrt(), 0.0)
            .normalize()
            * r;
        let rdot = a * a * n * e * ecc_anomaly.sin() / r;
        let vel_t = (GM * a * (1.0 - e * e)).sqrt() / r;
        let radial = pos.normalize();
        let along = Vector3::new(-radial.y, radial.x, 0.0);
        let vel = radial * rdot + along * vel_t;
        let dt = relativity_periodic(&pos, &vel);
        let expect = -2.0 * (GM * a).sqrt() * e * ecc_anomaly.sin() / (C * C);
        assert!((dt - expect).abs() < 1e-11, "{dt} vs {expect}");
        assert!(dt.abs() > 2.0e-8 && dt.abs() < 2.5e-8, "{dt}");
        // Shapiro: 2GM/c²·ln(…) = 12.7 mm at the zenith, 18.7 mm at the horizon.
        let rcv = Vector3::new(6_371_000.0, 0.0, 0.0);
        let zen = shapiro_delay(&Vector3::new(26_560_000.0, 0.0, 0.0), &rcv);
        assert!((zen - 0.0127).abs() < 2e-4, "{zen}");
        let low = shapiro_delay(&Vector3::new(6_371_000.0, 25_784_000.0, 0.0), &rcv);
        assert!((low - 0.0187).abs() < 2e-4, "{low}");
    }
}
