//! A rover walking through a forest plot near the station: the commanded trajectory and the
//! canopy it passes under.
//!
//! Everything is laid out in local east/north/up metres around the walk's origin, 150 m east and
//! 100 m south of the station's antenna. The rover stands at the origin for two minutes (open sky),
//! walks north at 1.2 m/s into a forest plot, through a dense stand, out into a clearing where it
//! stands for a minute, north again through two more dense stands, out of the forest and back
//! south along its east side, ending with a minute at rest in the open. The antenna sits on a
//! 2 m pole over ground that rises 3 % to the north.
//!
//! Canopy, by where the antenna is:
//! * **open**: every satellite above the mask, nominal C/N0;
//! * **light** (the forest plot): per satellite and per 8 m of path, the crowns block the line of
//!   sight with a probability that falls with elevation (70 % below 20°, 35 % to 45°, 10 % above);
//!   the rest arrive 4–14 dB weaker with code multipath up to 1.5 m and phase errors up to 3 %
//!   of a cycle (both growing with the loss, both changing as the antenna moves), and a signal
//!   below 25 dB-Hz is not tracked. Which
//!   satellites are blocked is a fixed function of the satellite and the place, so the same walk
//!   sees the same sky;
//! * **dense** (three stands across the path): every satellite is lost — a gap in the rover's
//!   observations, after which every signal is re-acquired with a new ambiguity.

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::geodesy::{Geodetic, ecef_to_geodetic, enu_rotation};

use super::sky::Sight;

/// Walking speed (m/s).
pub const SPEED_MPS: f64 = 1.2;
/// Height of the antenna reference point above the ground (m).
pub const POLE_M: f64 = 2.0;
/// Weakest signal a receiver keeps tracking under the canopy (dB-Hz).
pub const TRACKING_THRESHOLD_DBHZ: f64 = 25.0;
/// Largest code multipath under the crowns (m).
pub const CANOPY_CODE_M: f64 = 1.5;
/// Largest carrier-phase error under the crowns (cycles; 5.7 mm on L1).
pub const CANOPY_PHASE_CYCLES: f64 = 0.03;
/// Length of path over which the crowns seen from the antenna stay the same (m).
const CROWN_CELL_M: f64 = 8.0;

/// The walk's origin relative to the station antenna (east, north in m).
pub const ORIGIN_EN: [f64; 2] = [150.0, -100.0];

/// The commanded path: points (east, north in m from the origin) and the rest at each point (s).
pub const WAYPOINTS: [([f64; 2], f64); 9] = [
    ([0.0, 0.0], 120.0),
    ([0.0, 70.0], 0.0),
    ([0.0, 200.0], 0.0),
    ([50.0, 245.0], 60.0),
    ([50.0, 380.0], 0.0),
    ([50.0, 440.0], 0.0),
    ([160.0, 440.0], 0.0),
    ([160.0, 0.0], 0.0),
    ([0.0, 0.0], 60.0),
];

/// What covers the antenna.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Canopy {
    Open,
    Light,
    Dense,
}

impl Canopy {
    pub fn name(self) -> &'static str {
        match self {
            Canopy::Open => "open",
            Canopy::Light => "light",
            Canopy::Dense => "dense",
        }
    }
}

/// An east/north rectangle (m from the origin): [east min, east max, north min, north max].
type Rect = [f64; 4];

/// The forest plot (light canopy), and inside it the clearing (open) and the dense stands.
pub const FOREST: Rect = [-60.0, 140.0, 80.0, 420.0];
pub const CLEARING: Rect = [10.0, 90.0, 220.0, 270.0];
pub const DENSE: [Rect; 3] = [
    [-60.0, 140.0, 150.0, 180.0],
    [-60.0, 140.0, 310.0, 335.0],
    [-60.0, 140.0, 385.0, 400.0],
];

fn inside(r: &Rect, e: f64, n: f64) -> bool {
    e >= r[0] && e <= r[1] && n >= r[2] && n <= r[3]
}

/// The canopy over a point of the plot.
pub fn canopy_at(e: f64, n: f64) -> Canopy {
    if DENSE.iter().any(|r| inside(r, e, n)) {
        Canopy::Dense
    } else if inside(&CLEARING, e, n) || !inside(&FOREST, e, n) {
        Canopy::Open
    } else {
        Canopy::Light
    }
}

/// Ground height above the origin's ellipsoidal height (m).
pub fn ground_m(_e: f64, n: f64) -> f64 {
    0.03 * n
}

/// Where the rover is at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    /// Antenna reference point, ECEF (m).
    pub position: Vector3<f64>,
    /// Velocity, ECEF (m/s).
    pub velocity: Vector3<f64>,
    /// East, north, up of the antenna from the walk's origin on the ground (m).
    pub enu: Vector3<f64>,
    /// Distance walked so far (m).
    pub along_m: f64,
    pub canopy: Canopy,
}

/// The walk, anchored at a station.
#[derive(Clone, Debug, PartialEq)]
pub struct Walk {
    /// The walk's origin on the ground, ECEF (m).
    origin: Vector3<f64>,
    /// Rows: local east, north, up in ECEF.
    to_ecef: nalgebra::Matrix3<f64>,
}

impl Walk {
    /// The forest-plot walk near a station whose antenna is at `station` (ECEF): the origin lies
    /// on the ground at the station's ellipsoidal height minus the pole.
    pub fn forest_plot(station: &Vector3<f64>) -> Walk {
        let g = ecef_to_geodetic(station);
        let r = enu_rotation(&g);
        let offset = r.transpose() * Vector3::new(ORIGIN_EN[0], ORIGIN_EN[1], 0.0);
        let g0 = ecef_to_geodetic(&(station + offset));
        let origin = Geodetic {
            h: g.h - POLE_M,
            ..g0
        }
        .to_ecef();
        Walk {
            origin,
            to_ecef: enu_rotation(&ecef_to_geodetic(&origin)).transpose(),
        }
    }

    /// Length of the whole walk, rests included (s).
    pub fn duration_s() -> f64 {
        let mut t = 0.0;
        for w in WAYPOINTS.windows(2) {
            t += w[0].1 + dist(w[0].0, w[1].0) / SPEED_MPS;
        }
        t + WAYPOINTS[WAYPOINTS.len() - 1].1
    }

    /// Where the rover is `dt` seconds after the start (at the last point after the end).
    pub fn at(&self, dt: f64) -> Place {
        let (en, v_en, along) = path(dt);
        let h = ground_m(en[0], en[1]) + POLE_M;
        // Climbing the 3 % slope while walking north.
        let v_up = 0.03 * v_en[1];
        let enu = Vector3::new(en[0], en[1], h);
        Place {
            position: self.origin + self.to_ecef * enu,
            velocity: self.to_ecef * Vector3::new(v_en[0], v_en[1], v_up),
            enu,
            along_m: along,
            canopy: canopy_at(en[0], en[1]),
        }
    }

    /// What the canopy does to a satellite's signals at `place`, `None` where it blocks them.
    pub fn sight(place: &Place, sys: Gnss, prn: u8, el: f64, nominal_cn0: f64) -> Option<Sight> {
        match place.canopy {
            Canopy::Open => Some(Sight::default()),
            Canopy::Dense => None,
            Canopy::Light => {
                let cell = (place.along_m / CROWN_CELL_M).floor() as u64;
                let key = ((sys as u64) << 56) ^ ((prn as u64) << 48) ^ cell;
                let el_deg = el.to_degrees();
                let p_block = if el_deg < 20.0 {
                    0.7
                } else if el_deg < 45.0 {
                    0.35
                } else {
                    0.1
                };
                if unit(key, 1) < p_block {
                    return None;
                }
                let loss = 4.0 + 10.0 * unit(key, 2);
                if nominal_cn0 - loss < TRACKING_THRESHOLD_DBHZ {
                    return None;
                }
                // Signals scattered by trunks and leaves: errors that grow with the loss and
                // change as the antenna moves through the interference pattern.
                let weight = loss / 14.0;
                let wave = |period_m: f64, stream: u64| {
                    (std::f64::consts::TAU * (place.along_m / period_m + unit(key, stream))).sin()
                };
                Some(Sight {
                    loss_db: loss,
                    code_m: weight * CANOPY_CODE_M * wave(5.0, 3),
                    phase_cycles: weight * CANOPY_PHASE_CYCLES * wave(2.3, 4),
                })
            }
        }
    }
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt()
}

/// East/north (m), their rates (m/s) and the distance walked at `dt` s along the path.
fn path(dt: f64) -> ([f64; 2], [f64; 2], f64) {
    let mut t = dt.max(0.0);
    let mut along = 0.0;
    for w in WAYPOINTS.windows(2) {
        let ((a, rest), (b, _)) = (w[0], w[1]);
        if t <= rest {
            return (a, [0.0, 0.0], along);
        }
        t -= rest;
        let d = dist(a, b);
        let leg = d / SPEED_MPS;
        if t < leg {
            let f = t / leg;
            let u = [(b[0] - a[0]) / d, (b[1] - a[1]) / d];
            let p = [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])];
            return (
                p,
                [u[0] * SPEED_MPS, u[1] * SPEED_MPS],
                along + t * SPEED_MPS,
            );
        }
        t -= leg;
        along += d;
    }
    (WAYPOINTS[WAYPOINTS.len() - 1].0, [0.0, 0.0], along)
}

/// A fixed pseudo-random number in [0, 1) for a key and a stream (splitmix64).
fn unit(key: u64, stream: u64) -> f64 {
    let mut z = key
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_walked_at_walking_speed_and_ends_where_it_began() {
        let d = Walk::duration_s();
        let walked: f64 = WAYPOINTS.windows(2).map(|w| dist(w[0].0, w[1].0)).sum();
        let rests: f64 = WAYPOINTS.iter().map(|w| w.1).sum();
        assert!((d - (walked / SPEED_MPS + rests)).abs() < 1e-9);
        let station = Geodetic::from_degrees(17.9757, 102.6331, 180.0).to_ecef();
        let w = Walk::forest_plot(&station);
        let mut prev = w.at(0.0);
        for k in 1..=(d as u32 + 5) {
            let p = w.at(k as f64);
            let step = (p.position - prev.position).norm();
            assert!(step <= SPEED_MPS * 1.0005 + 1e-9, "{k}: {step}");
            prev = p;
        }
        assert!((w.at(0.0).position - w.at(d + 10.0).position).norm() < 1e-6);
        // The start is on the pole above the origin, 150 m east and 100 m south of the station.
        let enu = crate::gnss::geodesy::enu(&station, &w.at(0.0).position);
        assert!(
            (enu - Vector3::new(150.0, -100.0, 0.0)).norm() < 0.01,
            "{enu}"
        );
    }

    #[test]
    fn the_path_crosses_each_dense_stand_once() {
        let mut crossings = 0;
        let mut last = Canopy::Open;
        for k in 0..(Walk::duration_s() as u32) {
            let (en, _, _) = path(k as f64);
            let c = canopy_at(en[0], en[1]);
            if c == Canopy::Dense && last != Canopy::Dense {
                crossings += 1;
            }
            last = c;
        }
        assert_eq!(crossings, DENSE.len());
    }
}
