//! Earth models and coordinate conversions: ECEF ↔ geodetic, local east/north/up.
//!
//! WGS84 and CGCS2000 (BeiDou's frame) differ only in the flattening's 10th significant digit
//! (0.1 mm in height), far below anything a code solution resolves, so one ellipsoid serves both;
//! the frame *realisations* (ITRF2014 vs a national datum) are what differ by metres, and that is a
//! property of the station coordinates, not of these formulas.

use nalgebra::{Matrix3, Vector3};

/// WGS84 semi-major axis (m).
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
const E2: f64 = WGS84_F * (2.0 - WGS84_F);

/// Geodetic latitude and longitude (rad) and ellipsoidal height (m).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Geodetic {
    pub lat: f64,
    pub lon: f64,
    pub h: f64,
}

impl Geodetic {
    pub fn from_degrees(lat_deg: f64, lon_deg: f64, h: f64) -> Geodetic {
        Geodetic {
            lat: lat_deg.to_radians(),
            lon: lon_deg.to_radians(),
            h,
        }
    }

    /// To ECEF (m).
    pub fn to_ecef(self) -> Vector3<f64> {
        let (sl, cl) = self.lat.sin_cos();
        let (so, co) = self.lon.sin_cos();
        let n = WGS84_A / (1.0 - E2 * sl * sl).sqrt();
        Vector3::new(
            (n + self.h) * cl * co,
            (n + self.h) * cl * so,
            (n * (1.0 - E2) + self.h) * sl,
        )
    }
}

/// ECEF (m) to geodetic. The iteration runs on Z = (N + h)·sin φ, where the ellipsoid normal
/// through the point meets the polar axis, with square roots only: Z/p is tan φ and
/// √(p² + Z²) is N + h. Starting from the value at h = 0 it converges by e² (~1/150) per step:
/// three steps on the ground, a few more in orbit; the trigonometry is two atan2 at the end.
pub fn ecef_to_geodetic(r: &Vector3<f64>) -> Geodetic {
    let p2 = r.x * r.x + r.y * r.y;
    if p2 < 1e-18 && r.z.abs() < 1e-9 {
        return Geodetic {
            lat: 0.0,
            lon: 0.0,
            h: -WGS84_A,
        };
    }
    let mut z = r.z / (1.0 - E2);
    let mut n = WGS84_A;
    for _ in 0..30 {
        let sl = z / (p2 + z * z).sqrt();
        n = WGS84_A / (1.0 - E2 * sl * sl).sqrt();
        let next = r.z + n * E2 * sl;
        let done = (next - z).abs() < 1e-7;
        z = next;
        if done {
            break;
        }
    }
    Geodetic {
        lat: z.atan2(p2.sqrt()),
        lon: r.y.atan2(r.x),
        h: (p2 + z * z).sqrt() - n,
    }
}

/// Rotation from ECEF differences to local east, north, up at a geodetic position.
pub fn enu_rotation(at: &Geodetic) -> Matrix3<f64> {
    let (sl, cl) = at.lat.sin_cos();
    let (so, co) = at.lon.sin_cos();
    Matrix3::new(
        -so,
        co,
        0.0, //
        -sl * co,
        -sl * so,
        cl, //
        cl * co,
        cl * so,
        sl,
    )
}

/// East, north, up (m) of `r` relative to `origin` (both ECEF).
pub fn enu(origin: &Vector3<f64>, r: &Vector3<f64>) -> Vector3<f64> {
    enu_rotation(&ecef_to_geodetic(origin)) * (r - origin)
}

/// Elevation and azimuth (rad) of a satellite at `sat` seen from `rcv` (ECEF).
pub fn elevation_azimuth(rcv: &Vector3<f64>, sat: &Vector3<f64>) -> (f64, f64) {
    let e = enu(rcv, sat);
    let horiz = (e.x * e.x + e.y * e.y).sqrt();
    let el = e.z.atan2(horiz);
    let az = e.x.atan2(e.y).rem_euclid(std::f64::consts::TAU);
    (el, az)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_ecef_geodetic() {
        for &(lat, lon, h) in &[
            (17.9757, 102.6331, 170.0),
            (-35.316, 149.01, 800.0),
            (78.93, 11.86, 80.0),
            (-89.9, 0.0, 0.0),
            (90.0, 0.0, 10.0),
            (0.0, -179.99, -50.0),
            (45.0, 45.0, 8_848.0),
            (38.0, 110.5, 20_200_000.0),
            (-55.0, 10.0, 35_786_000.0),
        ] {
            let g = Geodetic::from_degrees(lat, lon, h);
            let back = ecef_to_geodetic(&g.to_ecef());
            assert!((back.lat - g.lat).abs() < 1e-13, "{lat} {h}");
            assert!((back.lon - g.lon).abs() < 1e-13);
            assert!((back.h - h).abs() < 1e-6, "{} vs {h}", back.h);
        }
    }

    #[test]
    fn enu_axes() {
        let g = Geodetic::from_degrees(0.0, 0.0, 0.0);
        let o = g.to_ecef();
        let up = enu(&o, &(o + Vector3::new(1.0, 0.0, 0.0)));
        assert!((up - Vector3::new(0.0, 0.0, 1.0)).norm() < 1e-12);
        let north = enu(&o, &(o + Vector3::new(0.0, 0.0, 1.0)));
        assert!((north - Vector3::new(0.0, 1.0, 0.0)).norm() < 1e-12);
        let (el, _) = elevation_azimuth(&o, &(o * 4.0));
        assert!((el - std::f64::consts::FRAC_PI_2).abs() < 1e-9);
    }
}
