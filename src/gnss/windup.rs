//! Carrier-phase wind-up (Wu, Wu, Hajj, Bertiger & Lichten 1993, *Manuscripta Geodaetica* 18):
//! a right-hand circularly polarised carrier received by an antenna that turns relative to the
//! transmitter gains one cycle per turn. Between satellite and receiver the turn is the angle
//! between the two effective dipoles
//!
//! `D_s = x_s − k (k·x_s) − k × y_s`, `D_r = x_r − k (k·x_r) + k × y_r`,
//!
//! with `k` the unit vector from the satellite to the receiver, `x_s, y_s` the satellite body
//! axes (nominal yaw steering from the Sun's direction, as for the ANTEX PCO) and `x_r, y_r` the
//! receiver antenna's north and west. The angle is known modulo one cycle; [`WindUp`] keeps it
//! continuous from epoch to epoch. Units: cycles (multiply by the wavelength for metres; the
//! same number of cycles on every frequency).
//!
//! Over a short baseline the receiver terms are almost identical and cancel in double
//! differences; in PPP the wind-up reaches a few centimetres and must be modelled. Satellites
//! that do not yaw-steer (BeiDou GEOs, orbit-normal modes, noon and midnight turns) need their
//! own axes: [`WindUp::update_with_axes`] takes them.

use nalgebra::{Matrix3, Vector3};

use super::antex::yaw_steering_axes;
use super::geodesy::{ecef_to_geodetic, enu_rotation};

/// Wind-up of one satellite–receiver pair, kept continuous across epochs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WindUp {
    last: Option<f64>,
}

impl WindUp {
    pub fn new() -> WindUp {
        WindUp::default()
    }

    /// The wind-up (cycles) with the satellite at `sat`, the Sun at `sun` and the receiver at
    /// `rcv` (ECEF, m), continued from the previous value. `None` when the geometry leaves the
    /// angle undefined (yaw undefined, receiver at the satellite); the previous value is kept
    /// for the next epoch.
    pub fn update(
        &mut self,
        sat: &Vector3<f64>,
        sun: &Vector3<f64>,
        rcv: &Vector3<f64>,
    ) -> Option<f64> {
        let [xs, ys, _] = yaw_steering_axes(sat, sun)?;
        self.update_with_axes(sat, &xs, &ys, rcv, &enu_rotation(&ecef_to_geodetic(rcv)))
    }

    /// As [`update`](Self::update), with the satellite's body x and y axes given (ECEF unit
    /// vectors) and the receiver's ECEF → east/north/up rotation `rot` at `rcv` (the same for
    /// every satellite of an epoch).
    pub fn update_with_axes(
        &mut self,
        sat: &Vector3<f64>,
        xs: &Vector3<f64>,
        ys: &Vector3<f64>,
        rcv: &Vector3<f64>,
        rot: &Matrix3<f64>,
    ) -> Option<f64> {
        let frac = fractional_windup_at(sat, xs, ys, rcv, rot)?;
        // The whole number of cycles that keeps the series continuous.
        let value = match self.last {
            Some(prev) => frac + (prev - frac).round(),
            None => frac,
        };
        self.last = Some(value);
        Some(value)
    }

    /// The last value (cycles).
    pub fn value(&self) -> Option<f64> {
        self.last
    }

    /// Forget the history (a satellite that set and rises again).
    pub fn reset(&mut self) {
        self.last = None;
    }
}

/// The wind-up modulo one cycle, in (−0.5, 0.5].
pub fn fractional_windup(
    sat: &Vector3<f64>,
    xs: &Vector3<f64>,
    ys: &Vector3<f64>,
    rcv: &Vector3<f64>,
) -> Option<f64> {
    fractional_windup_at(sat, xs, ys, rcv, &enu_rotation(&ecef_to_geodetic(rcv)))
}

/// [`fractional_windup`] with the receiver's ECEF → east/north/up rotation given.
pub fn fractional_windup_at(
    sat: &Vector3<f64>,
    xs: &Vector3<f64>,
    ys: &Vector3<f64>,
    rcv: &Vector3<f64>,
    e: &Matrix3<f64>,
) -> Option<f64> {
    let k = (rcv - sat).try_normalize(1e-3)?;
    // Receiver antenna axes: x north, y west (the antenna's reference direction points north).
    let east: Vector3<f64> = e.row(0).transpose();
    let north: Vector3<f64> = e.row(1).transpose();
    let (xr, yr) = (north, -east);
    let ds = xs - k * k.dot(xs) - k.cross(ys);
    let dr = xr - k * k.dot(&xr) + k.cross(&yr);
    let (ns, nr) = (ds.norm(), dr.norm());
    if !(ns > 1e-9 && nr > 1e-9) {
        return None;
    }
    let cos = (ds.dot(&dr) / (ns * nr)).clamp(-1.0, 1.0);
    let mut cycles = cos.acos() / std::f64::consts::TAU;
    if k.dot(&ds.cross(&dr)) < 0.0 {
        cycles = -cycles;
    }
    Some(cycles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::geodesy::Geodetic;

    const SUN_DIST: f64 = 1.496e11;

    /// A satellite straight above a receiver on the equator at 0° E.
    fn zenith_case() -> (Vector3<f64>, Vector3<f64>) {
        (
            Vector3::new(26_560e3, 0.0, 0.0),
            Vector3::new(6_378_137.0, 0.0, 0.0),
        )
    }

    #[test]
    fn yaw_turn_over_the_zenith_is_the_wind_up() {
        // With the satellite overhead, its yaw angle α (set by where the Sun is around the
        // line of sight) turns the transmitting dipole by α about k: wind-up α/2π cycles, up
        // to a constant; Sun due north (α = 0) gives aligned dipoles and zero.
        let (sat, rcv) = zenith_case();
        let mut w = WindUp::new();
        let sun_at = |alpha: f64| Vector3::new(0.0, alpha.sin(), alpha.cos()) * SUN_DIST;
        let w0 = w.update(&sat, &sun_at(0.0), &rcv).unwrap();
        assert!(w0.abs() < 1e-9, "{w0}");
        let mut prev = w0;
        // Two full turns in 10° steps: continuous, monotonic, two cycles in all.
        for i in 1..=72 {
            let alpha = (i as f64 * 10.0).to_radians();
            let v = w.update(&sat, &sun_at(alpha), &rcv).unwrap();
            let step = v - prev;
            assert!(
                (step.abs() - 10.0 / 360.0).abs() < 1e-6,
                "step {step} at {i}"
            );
            prev = v;
        }
        assert!((prev.abs() - 2.0).abs() < 1e-6, "{prev}");
    }

    #[test]
    fn cancels_between_close_receivers() {
        // 100 m apart, a satellite 40° up: the receiver wind-up terms differ by < 1e-4 cycle,
        // which is why short-baseline RTK can leave it out.
        let base = Geodetic::from_degrees(55.5, 9.0, 50.0);
        let rover = Geodetic::from_degrees(55.5009, 9.0, 50.0);
        let sat = Geodetic::from_degrees(20.0, 30.0, 20_200e3).to_ecef();
        let sun = Vector3::new(-0.3, 0.9, 0.3) * SUN_DIST;
        let a = WindUp::new().update(&sat, &sun, &base.to_ecef()).unwrap();
        let b = WindUp::new().update(&sat, &sun, &rover.to_ecef()).unwrap();
        assert!((a - b).abs() < 1e-4, "{a} {b}");
    }

    #[test]
    fn a_pass_is_continuous_and_degenerate_geometry_is_refused() {
        // A satellite crossing the sky over 4 h in 30 s steps: no jump above 0.01 cycle.
        let rcv = Geodetic::from_degrees(30.0, 110.0, 0.0).to_ecef();
        let sun = Vector3::new(0.5, -0.8, 0.2) * SUN_DIST;
        let mut w = WindUp::new();
        let mut prev: Option<f64> = None;
        for i in 0..480 {
            let f = i as f64 / 480.0;
            let sat = Geodetic::from_degrees(-10.0 + 80.0 * f, 80.0 + 60.0 * f, 20_200e3).to_ecef();
            if let Some(v) = w.update(&sat, &sun, &rcv) {
                if let Some(p) = prev {
                    assert!((v - p).abs() < 0.01, "{p} → {v} at {i}");
                }
                prev = Some(v);
            }
        }
        assert_eq!(w.value(), prev);
        w.reset();
        assert_eq!(w.value(), None);
        // Receiver at the satellite: undefined.
        let sat = Vector3::new(26_560e3, 0.0, 0.0);
        assert!(w.update(&sat, &sun, &sat).is_none());
    }
}
