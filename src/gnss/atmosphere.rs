//! Signal delays in the atmosphere.
//!
//! * Troposphere: Saastamoinen zenith delays from a standard atmosphere at the station height, with
//!   a simple 1/sin(el) mapping refined for low elevations (Black–Eisner style). Centimetre-level at
//!   elevations above 10°, which is all a code solution can see. Carrier-phase positioning
//!   that estimates the zenith wet delay maps the hydrostatic and wet parts apart with the Niell
//!   mapping functions ([`niell_mapping`]).
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

/// Niell (1996) coefficients a, b, c at latitudes 15°, 30°, 45°, 60°, 75°: hydrostatic average,
/// hydrostatic seasonal amplitude, wet.
const NMF_HYD_AVG: [[f64; 5]; 3] = [
    [
        1.2769934e-3,
        1.2683230e-3,
        1.2465397e-3,
        1.2196049e-3,
        1.2045996e-3,
    ],
    [
        2.9153695e-3,
        2.9152299e-3,
        2.9288445e-3,
        2.9022565e-3,
        2.9024912e-3,
    ],
    [
        62.610505e-3,
        62.837393e-3,
        63.721774e-3,
        63.824265e-3,
        64.258455e-3,
    ],
];
const NMF_HYD_AMP: [[f64; 5]; 3] = [
    [0.0, 1.2709626e-5, 2.6523662e-5, 3.4000452e-5, 4.1202191e-5],
    [0.0, 2.1414979e-5, 3.0160779e-5, 7.2562722e-5, 11.723375e-5],
    [0.0, 9.0128400e-5, 4.3497037e-5, 84.795348e-5, 170.37206e-5],
];
const NMF_WET: [[f64; 5]; 3] = [
    [
        5.8021897e-4,
        5.6794847e-4,
        5.8118019e-4,
        5.9727542e-4,
        6.1641693e-4,
    ],
    [
        1.4275268e-3,
        1.5138625e-3,
        1.4572752e-3,
        1.5007428e-3,
        1.7599082e-3,
    ],
    [
        4.3472961e-2,
        4.6729510e-2,
        4.3908931e-2,
        4.4626982e-2,
        5.4736038e-2,
    ],
];
/// Height correction of the hydrostatic function (per km).
const NMF_HT: [f64; 3] = [2.53e-5, 5.49e-3, 1.14e-3];

/// Marini's continued fraction normalised to 1 at the zenith.
fn marini(sin_el: f64, [a, b, c]: [f64; 3]) -> f64 {
    (1.0 + a / (1.0 + b / (1.0 + c))) / (sin_el + a / (sin_el + b / (sin_el + c)))
}

/// Linear interpolation in the 15°..75° latitude table, constant beyond.
fn nmf_row(row: &[f64; 5], lat_deg: f64) -> f64 {
    let x = (lat_deg.abs() / 15.0 - 1.0).clamp(0.0, 4.0);
    let i = (x.floor() as usize).min(3);
    let w = x - i as f64;
    row[i] * (1.0 - w) + row[i + 1] * w
}

/// Niell mapping functions (hydrostatic, wet) for a station at latitude `lat_rad`, ellipsoidal
/// height `h_m`, day of year `doy` (fractional), and a satellite at `sin_el` (A. E. Niell,
/// "Global mapping functions for the atmosphere delay at radio wavelengths", JGR 101, 1996).
pub fn niell_mapping(lat_rad: f64, h_m: f64, doy: f64, sin_el: f64) -> (f64, f64) {
    use std::f64::consts::TAU;
    let sin_el = sin_el.max(0.05);
    let lat = lat_rad.to_degrees();
    // The seasonal term peaks on day 28 in the north, half a year later in the south.
    let phase = if lat < 0.0 { 182.625 } else { 0.0 };
    let cosy = (TAU * (doy - 28.0 + phase) / 365.25).cos();
    let hyd = std::array::from_fn(|k| {
        nmf_row(&NMF_HYD_AVG[k], lat) - nmf_row(&NMF_HYD_AMP[k], lat) * cosy
    });
    let wet = std::array::from_fn(|k| nmf_row(&NMF_WET[k], lat));
    let dm = (1.0 / sin_el - marini(sin_el, NMF_HT)) * h_m / 1000.0;
    (marini(sin_el, hyd) + dm, marini(sin_el, wet))
}

/// Zenith hydrostatic delay (m) of the standard atmosphere at the station (Saastamoinen), the
/// a priori that a wet-delay estimate completes.
pub fn zenith_hydrostatic(lat_rad: f64, h_m: f64) -> f64 {
    saastamoinen_zenith(lat_rad, h_m).0
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
    fn niell_mapping_is_one_at_zenith_and_near_the_simple_one_above_15_degrees() {
        let lat = 55.5f64.to_radians();
        let (h, w) = niell_mapping(lat, 50.0, 177.0, 1.0);
        assert!((h - 1.0).abs() < 1e-3 && (w - 1.0).abs() < 1e-3, "{h} {w}");
        for el in [15.0f64, 30.0, 60.0] {
            let s = el.to_radians().sin();
            let (h, w) = niell_mapping(lat, 50.0, 177.0, s);
            let simple = tropo_mapping(s);
            assert!((h / simple - 1.0).abs() < 0.01, "{el}: {h} vs {simple}");
            assert!((w / simple - 1.0).abs() < 0.02, "{el}: {w} vs {simple}");
        }
        // At 5° the wet function is steeper than the hydrostatic one (published ≈ 10.2 / 10.6).
        let s5 = 5f64.to_radians().sin();
        let (h5, w5) = niell_mapping(lat, 0.0, 177.0, s5);
        assert!(h5 > 9.8 && h5 < 10.4 && w5 > h5, "{h5} {w5}");
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
