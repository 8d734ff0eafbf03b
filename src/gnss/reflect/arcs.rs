//! Arcs: one satellite's pass through the elevation window on one signal, the direct signal
//! removed.

use super::{Satellite, Settings, Signal};
use crate::gnss::obs::SignalCode;

/// Passes split at gaps longer than this (s).
const GAP_S: f64 = 600.0;
/// Fewest samples of a pass, and (plus one) of a signal in it, worth a fit.
const MIN_POINTS: usize = 20;
/// Fewest samples inside the elevation window.
const MIN_WINDOW_POINTS: usize = 15;

/// One signal's samples inside the elevation window, detrended.
#[derive(Clone, Debug, PartialEq)]
pub struct Arc {
    pub signal: Signal,
    pub code: SignalCode,
    pub half_wavelength: f64,
    /// Elevation (degrees, refracted when asked), time order.
    pub x: Vec<f64>,
    /// C/N0 as linear volts/volts with the direct signal removed.
    pub y: Vec<f64>,
    /// Seconds of the day.
    pub t: Vec<f64>,
    pub az_mean: f64,
    pub az_low: f64,
    pub rising: bool,
}

/// The arcs of one satellite; `elev` is parallel to its samples.
pub fn extract(sat: &Satellite, elev: &[f64], s: &Settings) -> Vec<Arc> {
    // Only the elevations the polynomial spans take part at all.
    let keep: Vec<usize> = (0..sat.samples.len().min(elev.len()))
        .filter(|&i| elev[i] >= s.poly_elev.0 && elev[i] <= s.poly_elev.1)
        .collect();
    if keep.len() < MIN_POINTS {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (a, b) in passes(sat, elev, &keep) {
        let idx = &keep[a..b];
        for track in &sat.signals {
            let good: Vec<usize> = idx
                .iter()
                .copied()
                .filter(|&i| track.cn0.get(i).is_some_and(|&v| v > 1.0))
                .collect();
            if good.len() <= MIN_POINTS {
                continue;
            }
            let in_window = |i: usize| elev[i] > s.elev.0 && elev[i] <= s.elev.1;
            let window: Vec<usize> = good.iter().copied().filter(|&i| in_window(i)).collect();
            if window.len() < MIN_WINDOW_POINTS {
                continue;
            }
            let az_mean = circular_mean(window.iter().map(|&i| sat.samples[i].azim));
            if !s
                .azim
                .iter()
                .any(|&(lo, hi)| az_mean >= lo && az_mean <= hi)
            {
                continue;
            }
            let xs: Vec<f64> = good.iter().map(|&i| elev[i]).collect();
            let lin: Vec<f64> = good
                .iter()
                .map(|&i| 10f64.powf(track.cn0[i] / 20.0))
                .collect();
            let Some(fit) = polyfit(&xs, &lin, s.poly_order) else {
                continue;
            };
            let mut arc = Arc {
                signal: track.signal,
                code: track.code,
                half_wavelength: track.half_wavelength,
                x: Vec::with_capacity(window.len()),
                y: Vec::with_capacity(window.len()),
                t: Vec::with_capacity(window.len()),
                az_mean,
                az_low: 0.0,
                rising: false,
            };
            let mut low = f64::INFINITY;
            for (k, &i) in good.iter().enumerate() {
                if in_window(i) {
                    arc.x.push(elev[i]);
                    arc.y.push(lin[k] - fit.eval(xs[k]));
                    arc.t.push(sat.samples[i].t);
                    if elev[i] < low {
                        low = elev[i];
                        arc.az_low = sat.samples[i].azim;
                    }
                }
            }
            arc.rising = arc.x.last() > arc.x.first();
            out.push(arc);
        }
    }
    out
}

/// Index ranges into `keep` of the satellite's passes: split at gaps and where the elevation
/// turns (the turning sample opens the next pass); passes under [`MIN_POINTS`] dropped.
fn passes(sat: &Satellite, elev: &[f64], keep: &[usize]) -> Vec<(usize, usize)> {
    let n = keep.len();
    let mut out = Vec::new();
    let mut start = 0;
    for j in 0..n.saturating_sub(1) {
        let gap = sat.samples[keep[j + 1]].t - sat.samples[keep[j]].t > GAP_S;
        let turn = j + 2 < n && {
            let d0 = elev[keep[j + 1]] - elev[keep[j]];
            let d1 = elev[keep[j + 2]] - elev[keep[j + 1]];
            sign(d0) != sign(d1)
        };
        if gap || turn {
            if j + 1 - start >= MIN_POINTS {
                out.push((start, j + 1));
            }
            start = j + 1;
        }
    }
    if n - start >= MIN_POINTS {
        out.push((start, n));
    }
    out
}

fn sign(x: f64) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

/// Circular mean of angles (degrees), 0–360.
pub fn circular_mean(a: impl Iterator<Item = f64>) -> f64 {
    let (s, c) = a.fold((0.0, 0.0), |(s, c), x| {
        (s + x.to_radians().sin(), c + x.to_radians().cos())
    });
    s.atan2(c).to_degrees().rem_euclid(360.0)
}

/// A least-squares polynomial over a scaled abscissa (mapped to −1…1 for conditioning).
#[derive(Clone, Debug, PartialEq)]
pub struct Poly {
    mid: f64,
    half: f64,
    /// Lowest order first.
    coef: Vec<f64>,
}

impl Poly {
    pub fn eval(&self, x: f64) -> f64 {
        let u = (x - self.mid) / self.half;
        self.coef.iter().rev().fold(0.0, |acc, c| acc * u + c)
    }
}

/// Fit a polynomial of `order`; `None` when the points cannot determine it.
pub fn polyfit(x: &[f64], y: &[f64], order: usize) -> Option<Poly> {
    let m = order + 1;
    if x.len() < m || x.len() != y.len() {
        return None;
    }
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let half = (hi - lo) / 2.0;
    if half.is_nan() || half <= 0.0 {
        return None;
    }
    let mid = (hi + lo) / 2.0;
    let mut ata = nalgebra::DMatrix::<f64>::zeros(m, m);
    let mut aty = nalgebra::DVector::<f64>::zeros(m);
    let mut pow = vec![0.0; 2 * m - 1];
    for (&xi, &yi) in x.iter().zip(y) {
        let u = (xi - mid) / half;
        let mut p = 1.0;
        for (k, slot) in pow.iter_mut().enumerate() {
            *slot = p;
            if k < m {
                aty[k] += yi * p;
            }
            p *= u;
        }
        for r in 0..m {
            for c in 0..m {
                ata[(r, c)] += pow[r + c];
            }
        }
    }
    let coef = ata.cholesky()?.solve(&aty);
    coef.iter().all(|c| c.is_finite()).then(|| Poly {
        mid,
        half,
        coef: coef.iter().copied().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyfit_recovers_a_quartic() {
        let x: Vec<f64> = (0..40).map(|i| 5.0 + i as f64 * 0.6).collect();
        let f = |v: f64| 3.0 - 0.2 * v + 0.01 * v * v - 1e-4 * v.powi(3) + 2e-6 * v.powi(4);
        let y: Vec<f64> = x.iter().map(|&v| f(v)).collect();
        let p = polyfit(&x, &y, 4).unwrap();
        for &v in &x {
            assert!((p.eval(v) - f(v)).abs() < 1e-9);
        }
        assert!(polyfit(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], &[1.0; 6], 4).is_none());
    }

    #[test]
    fn circular_mean_wraps() {
        let m = circular_mean([350.0, 10.0].into_iter());
        assert!(m < 1e-9 || (m - 360.0).abs() < 1e-9, "{m}");
    }
}
