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

/// ECEF (m) to geodetic, by fixed-point iteration on the latitude (converges to < 1e-12 rad in a
/// few steps anywhere above the Earth's centre region).
pub fn ecef_to_geodetic(r: &Vector3<f64>) -> Geodetic {
    let p = (r.x * r.x + r.y * r.y).sqrt();
    if p < 1e-9 && r.z.abs() < 1e-9 {
        return Geodetic {
            lat: 0.0,
            lon: 0.0,
            h: -WGS84_A,
        };
    }
    let lon = r.y.atan2(r.x);
    let mut lat = r.z.atan2(p * (1.0 - E2));
    let mut h = 0.0;
    for _ in 0..10 {
        let sl = lat.sin();
        let n = WGS84_A / (1.0 - E2 * sl * sl).sqrt();
        h = if lat.cos().abs() > 1e-12 {
            p / lat.cos() - n
        } else {
            r.z.abs() - n * (1.0 - E2)
        };
        let next = r.z.atan2(p * (1.0 - E2 * n / (n + h)));
        if (next - lat).abs() < 1e-14 {
            lat = next;
            break;
        }
        lat = next;
    }
    Geodetic { lat, lon, h }
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
        ] {
            let g = Geodetic::from_degrees(lat, lon, h);
            let back = ecef_to_geodetic(&g.to_ecef());
            assert!((back.lat - g.lat).abs() < 1e-11, "{lat}");
            assert!((back.lon - g.lon).abs() < 1e-11);
            assert!((back.h - h).abs() < 1e-4, "{} vs {h}", back.h);
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
