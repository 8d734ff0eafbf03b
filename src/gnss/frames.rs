//! Reference-frame transformations: the 14-parameter (time-dependent) Helmert transformation
//! of the IERS and EUREF, in the position-vector convention they use.
//!
//! `X_B = X_A + T + D·X_A + R·X_A`, with `R = [[0, −R3, R2], [R3, 0, −R1], [−R2, R1, 0]]`, each
//! parameter `P(t) = P(t0) + Ṗ·(t − t0)` at the epoch `t` of the coordinates (decimal years).
//! A coordinate in ITRFyy at epoch t becomes one in the target frame at the same epoch
//! (Altamimi, "EUREF Technical Note 1: Relationship and Transformation between the International
//! and the European Terrestrial Reference Systems", equation (3) and its tables).
//!
//! A coordinate computed from IGS products (IGb14, IGS14) is in ITRF2014; [`itrf2014_to_etrf2000`]
//! takes it to ETRF2000, the ETRS89 realisation EUREF recommends. National datums supply their
//! own 7- or 14-parameter set ([`Helmert::parse`]).

use nalgebra::{Matrix3, Vector3};

/// Milliarcseconds to radians.
const MAS: f64 = std::f64::consts::PI / (180.0 * 3600.0 * 1000.0);

/// A 14-parameter Helmert transformation: the seven parameters at a reference epoch and their
/// rates. Units as published: mm, ppb, mas, and per year.
#[derive(Clone, Debug, PartialEq)]
pub struct Helmert {
    /// Name printed with any coordinate it produced (`ITRF2014 -> ETRF2000 (EUREF TN-1)`).
    pub name: String,
    /// Translations T1 T2 T3 (mm).
    pub t_mm: [f64; 3],
    /// Scale difference D (ppb).
    pub d_ppb: f64,
    /// Rotations R1 R2 R3 (mas).
    pub r_mas: [f64; 3],
    /// Rates of T (mm/yr).
    pub t_rate: [f64; 3],
    /// Rate of D (ppb/yr).
    pub d_rate: f64,
    /// Rates of R (mas/yr).
    pub r_rate: [f64; 3],
    /// Reference epoch of the parameters (decimal year).
    pub epoch: f64,
}

/// ITRF2014 → ETRF2000, EUREF Technical Note 1 (Altamimi, EUREF TWG, version of 2018 and later;
/// the same set is EPSG transformation 8405): parameters at epoch 2010.0.
pub fn itrf2014_to_etrf2000() -> Helmert {
    Helmert {
        name: "ITRF2014 -> ETRF2000 (EUREF TN-1, EPSG:8405)".into(),
        t_mm: [54.7, 52.2, -74.1],
        d_ppb: 2.12,
        r_mas: [1.701, 10.290, -16.632],
        t_rate: [0.1, 0.1, -1.9],
        d_rate: 0.11,
        r_rate: [0.081, 0.490, -0.792],
        epoch: 2010.0,
    }
}

/// What is wrong with a user-supplied parameter set.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Not 7 or 15 numbers (7 parameters, or 7 + 7 rates + the epoch).
    #[error(
        "Helmert set {name:?}: {got} numbers; give 7 (T1 T2 T3 mm, D ppb, R1 R2 R3 mas) or 15 \
         (those, their 7 rates per year, then the reference epoch)"
    )]
    Count { name: String, got: usize },
    /// A value that is not a finite number.
    #[error("Helmert set {name:?}: {value:?} is not a number")]
    NotNumber { name: String, value: String },
}

impl Helmert {
    /// A set from text: 7 numbers `T1 T2 T3 D R1 R2 R3` (mm, ppb, mas) for a static datum, or 15:
    /// those, the 7 rates in the same order (per year), and the reference epoch. Separated by
    /// spaces or commas.
    pub fn parse(name: &str, text: &str) -> Result<Helmert, FrameError> {
        let v = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(|w| {
                w.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| FrameError::NotNumber {
                        name: name.into(),
                        value: w.into(),
                    })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        let rates = match v.len() {
            7 => [0.0; 8],
            15 => [v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]],
            got => {
                return Err(FrameError::Count {
                    name: name.into(),
                    got,
                });
            }
        };
        Ok(Helmert {
            name: name.into(),
            t_mm: [v[0], v[1], v[2]],
            d_ppb: v[3],
            r_mas: [v[4], v[5], v[6]],
            t_rate: [rates[0], rates[1], rates[2]],
            d_rate: rates[3],
            r_rate: [rates[4], rates[5], rates[6]],
            epoch: rates[7],
        })
    }

    /// The seven parameters at epoch `t` (decimal year), as a static set.
    pub fn at(&self, t: f64) -> Helmert {
        let dt = if self.has_rates() {
            t - self.epoch
        } else {
            0.0
        };
        let add = |p: [f64; 3], r: [f64; 3]| [p[0] + r[0] * dt, p[1] + r[1] * dt, p[2] + r[2] * dt];
        Helmert {
            name: self.name.clone(),
            t_mm: add(self.t_mm, self.t_rate),
            d_ppb: self.d_ppb + self.d_rate * dt,
            r_mas: add(self.r_mas, self.r_rate),
            t_rate: [0.0; 3],
            d_rate: 0.0,
            r_rate: [0.0; 3],
            epoch: t,
        }
    }

    fn has_rates(&self) -> bool {
        self.d_rate != 0.0 || self.t_rate.iter().chain(&self.r_rate).any(|r| *r != 0.0)
    }

    /// Transforms an ECEF position (m) at epoch `t` (decimal year).
    pub fn apply(&self, x: &Vector3<f64>, t: f64) -> Vector3<f64> {
        let p = self.at(t);
        let tr = Vector3::from(p.t_mm) * 1e-3;
        let [r1, r2, r3] = p.r_mas.map(|r| r * MAS);
        let r = Matrix3::new(0.0, -r3, r2, r3, 0.0, -r1, -r2, r1, 0.0);
        x + tr + x * (p.d_ppb * 1e-9) + r * x
    }
}

/// A GPS-time instant as a decimal year: the fraction of its calendar year, as EUREF and the
/// IERS date coordinates.
pub fn decimal_year(t: super::time::Gpst) -> f64 {
    use chrono::Datelike;
    let c = t.calendar();
    let y = c.year();
    let start = |y: i32| {
        chrono::NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp() as f64)
            .unwrap_or(0.0)
    };
    let (a, b) = (start(y), start(y + 1));
    f64::from(y)
        + (c.timestamp() as f64 + f64::from(c.timestamp_subsec_nanos()) * 1e-9 - a) / (b - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test point and its results from the EPN Central Bureau's ETRF/ITRF coordinate
    /// transformation tool (https://www.epncb.oma.be/_productsservices/coord_trans/, which
    /// implements EUREF TN-1), as quoted in swiftnav-rs's tests: X at epoch 2000.0.
    const X: [f64; 3] = [4027894.006, 307045.600, 4919474.910];

    /// Published results carry 0.1 mm.
    const TOL_M: f64 = 0.5e-3;

    fn close(got: Vector3<f64>, want: [f64; 3]) {
        let d = got - Vector3::from(want);
        assert!(
            d.norm() < TOL_M,
            "{got:?} vs {want:?}: {:.2} mm",
            d.norm() * 1e3
        );
    }

    #[test]
    fn itrf2000_to_etrf2000_as_the_epn_tool() {
        // EUREF memo (Boucher & Altamimi, "Specifications for reference frame fixing in the
        // analysis of a EUREF GPS campaign", v8): T 54 51 −48 mm, R rates 0.081 0.490 −0.792
        // mas/yr from 1989.0.
        let h = Helmert::parse(
            "ITRF2000 -> ETRF2000",
            "54 51 -48 0 0 0 0  0 0 0 0 0.081 0.490 -0.792 1989.0",
        )
        .unwrap();
        close(
            h.apply(&Vector3::from(X), 2000.0),
            [4027894.2015, 307045.4596, 4919474.7581],
        );
    }

    #[test]
    fn itrf2014_to_etrf2014_as_the_epn_tool() {
        // EUREF TN-1: ITRF2014 -> ETRF2014, rotation rates 0.085 0.531 −0.770 mas/yr from 1989.0.
        let h = Helmert::parse(
            "ITRF2014 -> ETRF2014",
            "0 0 0 0 0 0 0  0 0 0 0 0.085 0.531 -0.770 1989.0",
        )
        .unwrap();
        close(
            h.apply(&Vector3::from(X), 2000.0),
            [4027894.1579, 307045.4123, 4919474.7973],
        );
    }

    #[test]
    fn itrf2014_to_etrf2000_equals_the_chain_through_itrf2000() {
        // IGN's ITRF2014 -> ITRF2000 (itrf.ign.fr Transfo-ITRF2014_ITRFs.txt): 0.7 1.2 −26.1 mm,
        // 2.12 ppb, rates 0.1 0.1 −1.9 mm/yr, 0.11 ppb/yr, epoch 2010.0; then the memo's
        // ITRF2000 -> ETRF2000. TN-1's direct set must give the same point.
        let to2000 = Helmert::parse(
            "ITRF2014 -> ITRF2000",
            "0.7 1.2 -26.1 2.12 0 0 0  0.1 0.1 -1.9 0.11 0 0 0 2010.0",
        )
        .unwrap();
        let to_etrf = Helmert::parse(
            "ITRF2000 -> ETRF2000",
            "54 51 -48 0 0 0 0  0 0 0 0 0.081 0.490 -0.792 1989.0",
        )
        .unwrap();
        for t in [2000.0, 2020.482] {
            let x = Vector3::from(X);
            let chain = to_etrf.apply(&to2000.apply(&x, t), t);
            let direct = itrf2014_to_etrf2000().apply(&x, t);
            assert!((chain - direct).norm() < TOL_M, "{t}: {:?}", chain - direct);
        }
        // TN-1 also prints the set at epoch 2000.0: 53.7 51.2 −55.1 mm, 1.02 ppb,
        // 0.891 5.390 −8.712 mas.
        let p = itrf2014_to_etrf2000().at(2000.0);
        let rounded = |v: f64| (v * 1000.0).round() / 1000.0;
        assert_eq!(p.t_mm.map(rounded), [53.7, 51.2, -55.1]);
        assert_eq!(rounded(p.d_ppb), 1.02);
        assert_eq!(p.r_mas.map(rounded), [0.891, 5.390, -8.712]);
    }

    #[test]
    fn seven_parameters_and_bad_sets() {
        let h = Helmert::parse("shift", "1000, 0, 0, 0, 0, 0, 0").unwrap();
        close(h.apply(&Vector3::from(X), 1990.0), [X[0] + 1.0, X[1], X[2]]);
        assert!(matches!(
            Helmert::parse("x", "1 2 3"),
            Err(FrameError::Count { got: 3, .. })
        ));
        assert!(matches!(
            Helmert::parse("x", "1 2 3 4 5 6 y"),
            Err(FrameError::NotNumber { .. })
        ));
    }

    #[test]
    fn decimal_year_of_an_instant() {
        let t = crate::gnss::time::Gpst::from_calendar(2020, 7, 2, 0, 0, 0.0).unwrap();
        // 2020 is a leap year: 1 July 00:00 is day 182 of 366 -> 2020.4973; one day more.
        assert!((decimal_year(t) - (2020.0 + 183.0 / 366.0)).abs() < 1e-9);
    }
}
