//! Low-precision Sun and Moon positions in ECEF, for the models that need only their direction
//! and rough distance: satellite attitude (yaw steering), phase wind-up, solid Earth tides.
//!
//! The Sun from Meeus, *Astronomical Algorithms* ch. 25 (0.01°), the Moon from the main terms
//! of Brown's theory as Montenbruck & Gill, *Satellite Orbits* (2000) §3.3.2, give them (a few
//! arcminutes, a few hundred km in distance). Both are referred to the mean equinox of date (the J2000 formulas plus
//! general precession in longitude) and turned into ECEF with the Greenwich mean sidereal time
//! (IAU 1982). Nutation (≤ 20″), polar motion (< 1″) and UT1 − UTC (< 0.9 s, ≤ 0.004°) are
//! left out: each is far below what the users of these positions can see (the tide of the
//! Moon changes by 1 % for a 0.5° error in its direction).

use nalgebra::{Rotation3, Vector3};

use super::time::{Gpst, leap_seconds_at};

/// Astronomical unit (m).
pub const AU: f64 = 149_597_870_700.0;
/// Julian date of the GPS epoch, 1980-01-06 00:00 GPST.
const JD_GPS_EPOCH: f64 = 2_444_244.5;
/// Julian date of J2000.0 (2000-01-01 12:00 TT).
const JD_J2000: f64 = 2_451_545.0;
/// TT − GPST (s): TT − TAI = 32.184 s, TAI − GPST = 19 s.
const TT_MINUS_GPST: f64 = 51.184;
const ARCSEC: f64 = std::f64::consts::PI / (180.0 * 3600.0);

/// Sun and Moon at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SunMoon {
    /// Sun position, ECEF (m).
    pub sun: Vector3<f64>,
    /// Moon position, ECEF (m).
    pub moon: Vector3<f64>,
    /// Greenwich mean sidereal time (rad) used for the rotation.
    pub gmst: f64,
}

/// Sun and Moon ECEF positions at a GPS time.
pub fn sun_moon(t: Gpst) -> SunMoon {
    let tc = centuries_tt(t);
    let gmst = gmst(t);
    let to_ecef = Rotation3::from_axis_angle(&Vector3::z_axis(), -gmst);
    SunMoon {
        sun: to_ecef * sun_of_date(tc),
        moon: to_ecef * moon_of_date(tc),
        gmst,
    }
}

/// Sun position, ECEF (m).
pub fn sun_ecef(t: Gpst) -> Vector3<f64> {
    sun_moon(t).sun
}

/// Moon position, ECEF (m).
pub fn moon_ecef(t: Gpst) -> Vector3<f64> {
    sun_moon(t).moon
}

/// Julian centuries of TT since J2000.0.
pub fn centuries_tt(t: Gpst) -> f64 {
    let days = (t.secs() as f64 + TT_MINUS_GPST) / 86_400.0 + t.frac() / 86_400.0;
    (JD_GPS_EPOCH + days - JD_J2000) / 36_525.0
}

/// Greenwich mean sidereal time (rad) at a GPS time, with UT1 taken as UTC (IAU 1982,
/// as written by Meeus, *Astronomical Algorithms*, eq. 12.4).
pub fn gmst(t: Gpst) -> f64 {
    let utc_secs = (t.secs() - leap_seconds_at(t)) as f64 + t.frac();
    // Days since J2000.0 (UT): ~10⁴, so 360.98…·d keeps 10⁻⁹ degree in an f64.
    let d = (JD_GPS_EPOCH - JD_J2000) + utc_secs / 86_400.0;
    let tc = d / 36_525.0;
    let deg = 280.460_618_37 + 360.985_647_366_29 * d + 0.000_387_933 * tc * tc
        - tc * tc * tc / 38_710_000.0;
    deg.rem_euclid(360.0).to_radians()
}

/// Mean obliquity of the ecliptic (rad), Lieske et al. 1977 to first order.
fn obliquity(tc: f64) -> f64 {
    (23.439_291_11_f64).to_radians() - 46.8150 * ARCSEC * tc
}

/// Ecliptic longitude, latitude and distance to equatorial (mean equator and equinox of date).
fn equatorial(lon: f64, lat: f64, r: f64, tc: f64) -> Vector3<f64> {
    let ecl = Vector3::new(
        r * lat.cos() * lon.cos(),
        r * lat.cos() * lon.sin(),
        r * lat.sin(),
    );
    Rotation3::from_axis_angle(&Vector3::x_axis(), obliquity(tc)) * ecl
}

/// Sun, mean equator and equinox of date (m): Meeus, *Astronomical Algorithms* (2nd ed.),
/// ch. 25, the low-accuracy geometric position (0.01°). Montenbruck & Gill's shorter series
/// keeps the perigee fixed and drifts by 0.02° per decade from J2000.
fn sun_of_date(tc: f64) -> Vector3<f64> {
    let l0 = 280.466_46 + 36_000.769_83 * tc + 0.000_303_2 * tc * tc;
    let m = (357.529_11 + 35_999.050_29 * tc - 0.000_153_7 * tc * tc).to_radians();
    let e = 0.016_708_634 - 0.000_042_037 * tc - 0.000_000_126_7 * tc * tc;
    let c = (1.914_602 - 0.004_817 * tc - 0.000_014 * tc * tc) * m.sin()
        + (0.019_993 - 0.000_101 * tc) * (2.0 * m).sin()
        + 0.000_289 * (3.0 * m).sin();
    let lon = (l0 + c).to_radians();
    let v = m + c.to_radians();
    let r = 1.000_001_018 * (1.0 - e * e) / (1.0 + e * v.cos()) * AU;
    equatorial(lon, 0.0, r, tc)
}

/// Moon, mean equator and equinox of date (m). Montenbruck & Gill eq. 3.47–3.49, without
/// their −1.3972° T term that refers the mean longitude to the J2000 equinox.
fn moon_of_date(tc: f64) -> Vector3<f64> {
    let deg = |x: f64| x.to_radians();
    let l0 = deg(218.316_17 + 481_267.880_88 * tc);
    let l = deg(134.962_92 + 477_198.867_53 * tc);
    let lp = deg(357.525_43 + 35_999.049_44 * tc);
    let f = deg(93.272_83 + 483_202.018_73 * tc);
    let d = deg(297.850_27 + 445_267.111_35 * tc);
    let s = f64::sin;
    let c = f64::cos;
    let lon = l0
        + ARCSEC
            * (22_640.0 * s(l) + 769.0 * s(2.0 * l) - 4586.0 * s(l - 2.0 * d)
                + 2370.0 * s(2.0 * d)
                - 668.0 * s(lp)
                - 412.0 * s(2.0 * f)
                - 212.0 * s(2.0 * l - 2.0 * d)
                - 206.0 * s(l + lp - 2.0 * d)
                + 192.0 * s(l + 2.0 * d)
                - 165.0 * s(lp - 2.0 * d)
                + 148.0 * s(l - lp)
                - 125.0 * s(d)
                - 110.0 * s(l + lp)
                - 55.0 * s(2.0 * f - 2.0 * d));
    let lat = ARCSEC
        * (18_520.0 * s(f + lon - l0 + ARCSEC * (412.0 * s(2.0 * f) + 541.0 * s(lp)))
            - 526.0 * s(f - 2.0 * d)
            + 44.0 * s(l + f - 2.0 * d)
            - 31.0 * s(-l + f - 2.0 * d)
            - 25.0 * s(-2.0 * l + f)
            - 23.0 * s(lp + f - 2.0 * d)
            + 21.0 * s(-l + f)
            + 11.0 * s(-lp + f - 2.0 * d));
    let r = (385_000.0
        - 20_905.0 * c(l)
        - 3699.0 * c(2.0 * d - l)
        - 2956.0 * c(2.0 * d)
        - 570.0 * c(2.0 * l)
        + 246.0 * c(2.0 * l - 2.0 * d)
        - 205.0 * c(lp - 2.0 * d)
        - 171.0 * c(l + 2.0 * d)
        - 152.0 * c(l + lp - 2.0 * d))
        * 1e3;
    equatorial(lon, lat, r, tc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GPS time of a calendar instant in TT (TD), as Meeus's examples give them.
    fn from_tt(y: i32, m: u32, d: u32, hours: f64) -> Gpst {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        let gps0 = chrono::NaiveDate::from_ymd_opt(1980, 1, 6).expect("valid date");
        let s = (date - gps0).num_days() as f64 * 86_400.0 + hours * 3600.0 - TT_MINUS_GPST;
        Gpst::new(s.floor() as i64, s - s.floor())
    }

    /// GPS time of a UTC instant (the leap seconds of 1987: GPST − UTC = 4 s).
    fn from_utc(y: i32, m: u32, d: u32, hours: f64) -> Gpst {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        let gps0 = chrono::NaiveDate::from_ymd_opt(1980, 1, 6).expect("valid date");
        let s = (date - gps0).num_days() as f64 * 86_400.0 + hours * 3600.0;
        let t = Gpst::new(s.floor() as i64, s - s.floor());
        t.add(leap_seconds_at(t) as f64)
    }

    /// Right ascension (deg, 0–360), declination (deg) and distance (m) of an ECEF position,
    /// back in the equator and equinox of date through the same sidereal time.
    fn ra_dec(ecef: Vector3<f64>, gmst: f64) -> (f64, f64, f64) {
        let eq = Rotation3::from_axis_angle(&Vector3::z_axis(), gmst) * ecef;
        let r = eq.norm();
        (
            eq.y.atan2(eq.x).to_degrees().rem_euclid(360.0),
            (eq.z / r).asin().to_degrees(),
            r,
        )
    }

    #[test]
    fn sidereal_time_meeus_example_12b() {
        // Meeus, Astronomical Algorithms (2nd ed.), example 12.b: 1987 April 10, 19:21:00 UT,
        // mean sidereal time 8h34m57.0896s = 128.7378734°.
        let t = from_utc(1987, 4, 10, 19.35);
        let got = gmst(t).to_degrees();
        assert!((got - 128.737_873_4).abs() < 1e-6, "{got}");
        // Example 12.a: 0h UT the same day, 13h10m46.3668s = 197.693195°.
        let got = gmst(from_utc(1987, 4, 10, 0.0)).to_degrees();
        assert!((got - 197.693_195).abs() < 1e-6, "{got}");
    }

    #[test]
    fn sun_meeus_example_25a() {
        // Meeus example 25.a: 1992 October 13.0 TD, apparent RA 13h13m31.4s = 198.38083°,
        // declination −7°47′06″ = −7.78507°, distance 0.99760775 AU. The apparent place
        // includes nutation and aberration (≈ 0.006° each), which this model omits; it is
        // 0.0008° off in RA, 0.0004° in declination.
        let sm = sun_moon(from_tt(1992, 10, 13, 0.0));
        let (ra, dec, r) = ra_dec(sm.sun, sm.gmst);
        assert!((ra - 198.380_83).abs() < 0.005, "{ra}");
        assert!((dec - -7.785_07).abs() < 0.005, "{dec}");
        assert!((r / AU - 0.997_607_75).abs() < 1e-4, "{}", r / AU);
    }

    #[test]
    fn moon_meeus_example_47a() {
        // Meeus example 47.a: 1992 April 12, 0h TD, apparent RA 134.688470°, declination
        // +13.768368°, distance 368409.7 km (from the centre of the Earth). This model: 0.009°,
        // 0.005° and 51 km off.
        let sm = sun_moon(from_tt(1992, 4, 12, 0.0));
        let (ra, dec, r) = ra_dec(sm.moon, sm.gmst);
        assert!((ra - 134.688_470).abs() < 0.05, "{ra}");
        assert!((dec - 13.768_368).abs() < 0.05, "{dec}");
        assert!((r - 368_409.7e3).abs() < 200e3, "{r}");
    }

    #[test]
    fn ecef_sun_is_overhead_near_noon_at_greenwich() {
        // At the March equinox (2024-03-20 03:06 UTC) the Sun crosses the equator; at 12:00 UTC
        // the equation of time (−7.5 min: the Sun transits Greenwich at 12:07:30) puts it
        // 1.9° east of Greenwich.
        let sm = sun_moon(from_utc(2024, 3, 20, 12.0));
        let s = sm.sun.normalize();
        let lon = s.y.atan2(s.x).to_degrees();
        let lat = s.z.asin().to_degrees();
        assert!(lat.abs() < 0.5, "{lat}");
        assert!((lon - 1.9).abs() < 0.2, "{lon}");
    }
}
