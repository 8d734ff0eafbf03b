//! Signal delays in the atmosphere.
//!
//! * Troposphere: Saastamoinen zenith delays from a standard atmosphere at the station height, with
//!   a simple 1/sin(el) mapping refined for low elevations (Black–Eisner style). Centimetre-level at
//!   elevations above 10°, which is all a code solution can see.
//! * Ionosphere: the Klobuchar model, only from broadcast coefficients that come from a real source
//!   (a navigation file, a configured set): there is no built-in default, so callers must say
//!   where their coefficients came from.

/// Zenith hydrostatic and wet delays (m) by Saastamoinen for a standard atmosphere.
pub fn saastamoinen_zenith(lat_rad: f64, h_m: f64) -> (f64, f64) {
    let h = h_m.clamp(-500.0, 11_000.0);
    // Standard atmosphere: pressure (hPa), temperature (K), 70 % relative humidity.
    let p = 1013.25 * (1.0 - 2.2557e-5 * h).powf(5.2568);
    let t = 15.0 - 6.5e-3 * h + 273.16;
    let e = 6.108 * 0.7 * ((17.15 * t - 4684.0) / (t - 38.45)).exp();
    let zhd = 0.002_277 * p / (1.0 - 0.002_66 * (2.0 * lat_rad).cos() - 0.000_28 * h / 1000.0);
    let zwd = 0.002_277 * (1255.0 / t + 0.05) * e;
    (zhd, zwd)
}

/// Slant tropospheric delay (m) at elevation `el` (rad).
pub fn troposphere_delay(lat_rad: f64, h_m: f64, el: f64) -> f64 {
    if el <= 0.0 {
        return 0.0;
    }
    let (zhd, zwd) = saastamoinen_zenith(lat_rad, h_m);
    (zhd + zwd) * tropo_mapping(el.sin())
}

/// Black & Eisner mapping from the sine of the elevation: finite at the horizon, 1/sin(el)
/// above ~15°.
pub fn tropo_mapping(sin_el: f64) -> f64 {
    1.001 / (0.002_001 + sin_el * sin_el).sqrt()
}

/// Klobuchar coefficients (α0..α3 in s, s/sc, s/sc², s/sc³; β0..β3 in s, …).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Klobuchar {
    pub alpha: [f64; 4],
    pub beta: [f64; 4],
}

impl Klobuchar {
    /// L1 ionospheric delay (m) for a receiver at (lat, lon) rad, a satellite at (el, az) rad,
    /// and GPS time of week `tow` s.
    pub fn delay_l1(&self, lat: f64, lon: f64, el: f64, az: f64, tow: f64) -> f64 {
        use std::f64::consts::PI;
        if el <= 0.0 {
            return 0.0;
        }
        // The ICD works in semicircles.
        let e = el / PI;
        let psi = 0.0137 / (e + 0.11) - 0.022;
        let phi_u = lat / PI;
        let lam_u = lon / PI;
        let phi_i = (phi_u + psi * az.cos()).clamp(-0.416, 0.416);
        let lam_i = lam_u + psi * az.sin() / (phi_i * PI).cos();
        let phi_m = phi_i + 0.064 * ((lam_i - 1.617) * PI).cos();
        let t = (4.32e4 * lam_i + tow).rem_euclid(86_400.0);
        let f = 1.0 + 16.0 * (0.53 - e).powi(3);
        let amp = self
            .alpha
            .iter()
            .rev()
            .fold(0.0, |acc, a| acc * phi_m + a)
            .max(0.0);
        let per = self
            .beta
            .iter()
            .rev()
            .fold(0.0, |acc, b| acc * phi_m + b)
            .max(72_000.0);
        let x = 2.0 * PI * (t - 50_400.0) / per;
        let delay = if x.abs() < 1.57 {
            f * (5e-9 + amp * (1.0 - x * x / 2.0 + x.powi(4) / 24.0))
        } else {
            f * 5e-9
        };
        delay * super::orbit::C
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zenith_delay_at_sea_level_is_about_2_4_m() {
        let (zhd, zwd) = saastamoinen_zenith(45f64.to_radians(), 0.0);
        assert!((zhd - 2.31).abs() < 0.02, "{zhd}");
        assert!(zwd > 0.05 && zwd < 0.3, "{zwd}");
        let slant = troposphere_delay(45f64.to_radians(), 0.0, 10f64.to_radians());
        assert!(slant > 12.0 && slant < 15.5, "{slant}");
    }

    #[test]
    fn klobuchar_night_floor_is_5ns() {
        let k = Klobuchar {
            alpha: [1.1e-8, 0.0, -6e-8, 0.0],
            beta: [9e4, 0.0, -2e5, 0.0],
        };
        let d = k.delay_l1(0.3, 1.8, std::f64::consts::FRAC_PI_2, 0.0, 0.0);
        assert!(d > 1.0 && d < 20.0, "{d}");
    }
}
