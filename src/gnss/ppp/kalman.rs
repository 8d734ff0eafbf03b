//! A small Kalman filter whose states come and go (one ambiguity per satellite arc), updated
//! one scalar observation at a time. With uncorrelated observations the sequential update is
//! the batch one, needs no matrix inverse, and costs O(n²) per observation for n states.

use nalgebra::{DMatrix, DVector};

/// One linearised observation: `residual ≈ Σ h[k]·δx[k]` with `variance`. An empty `h` is an
/// observation left out.
#[derive(Clone, Debug, PartialEq)]
pub struct Obs {
    /// Observed minus computed at the prior state (m).
    pub residual: f64,
    /// Non-zero partials as (state index, value).
    pub h: Vec<(usize, f64)>,
    pub variance: f64,
}

impl Obs {
    fn dot(&self, v: &DVector<f64>) -> f64 {
        self.h.iter().map(|&(k, a)| a * v[k]).sum()
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kalman {
    pub x: DVector<f64>,
    pub p: DMatrix<f64>,
}

impl Kalman {
    pub fn n(&self) -> usize {
        self.x.len()
    }

    /// Appends a state with its value and variance, uncorrelated with the others; returns its
    /// index.
    pub fn push(&mut self, value: f64, variance: f64) -> usize {
        let n = self.n();
        let mut x = DVector::zeros(n + 1);
        x.rows_mut(0, n).copy_from(&self.x);
        x[n] = value;
        let mut p = DMatrix::zeros(n + 1, n + 1);
        p.view_mut((0, 0), (n, n)).copy_from(&self.p);
        p[(n, n)] = variance;
        self.x = x;
        self.p = p;
        n
    }

    /// Removes a state (later indices shift down by one).
    pub fn remove(&mut self, k: usize) {
        self.x = self.x.clone().remove_row(k);
        self.p = self.p.clone().remove_row(k).remove_column(k);
    }

    /// Restarts a state: new value and variance, no correlation with the rest.
    pub fn reset(&mut self, k: usize, value: f64, variance: f64) {
        self.x[k] = value;
        self.p.row_mut(k).fill(0.0);
        self.p.column_mut(k).fill(0.0);
        self.p[(k, k)] = variance;
    }

    /// Adds process noise to a state's variance.
    pub fn add_noise(&mut self, k: usize, variance: f64) {
        self.p[(k, k)] += variance;
    }

    /// Updates with observations linearised at the current state; returns the post-fit
    /// residuals, or `None` (state untouched) when an innovation variance is not positive.
    pub fn update(&mut self, obs: &[Obs]) -> Option<Vec<f64>> {
        let x0 = self.x.clone();
        let mut x = self.x.clone();
        let mut p = self.p.clone();
        let n = self.n();
        let mut ph = DVector::zeros(n);
        for o in obs.iter().filter(|o| !o.h.is_empty()) {
            // P·hᵀ from the sparse row.
            ph.fill(0.0);
            for &(k, a) in &o.h {
                ph.axpy(a, &p.column(k), 1.0);
            }
            let s = o.dot(&ph) + o.variance;
            if !(s.is_finite() && s > 0.0) {
                return None;
            }
            // The observation against the state updated so far, from the sparse row: no
            // vector is made per observation.
            let moved: f64 = o.h.iter().map(|&(k, a)| a * (x[k] - x0[k])).sum();
            let innovation = o.residual - moved;
            x.axpy(innovation / s, &ph, 1.0);
            p.ger(-1.0 / s, &ph, &ph, 1.0);
        }
        // Keep P symmetric against rounding.
        let pt = p.transpose();
        p += pt;
        p *= 0.5;
        let dx = &x - &x0;
        let post = obs.iter().map(|o| o.residual - o.dot(&dx)).collect();
        self.x = x;
        self.p = p;
        Some(post)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_update_equals_least_squares() {
        // Two states observed three times: the update from a vague prior is the weighted
        // least-squares solution.
        let mut k = Kalman::default();
        k.push(0.0, 1e8);
        k.push(0.0, 1e8);
        let truth = [1.5, -2.0];
        let rows = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let obs: Vec<Obs> = rows
            .iter()
            .map(|r| Obs {
                residual: r[0] * truth[0] + r[1] * truth[1],
                h: vec![(0, r[0]), (1, r[1])],
                variance: 0.01,
            })
            .collect();
        let post = k.update(&obs).unwrap();
        assert!(
            (k.x[0] - 1.5).abs() < 1e-6 && (k.x[1] + 2.0).abs() < 1e-6,
            "{}",
            k.x
        );
        assert!(post.iter().all(|r| r.abs() < 1e-6));
        // Each state seen twice (directly and in the sum): variance 2/3 of one observation's.
        assert!((k.p[(0, 0)] - 0.01 * 2.0 / 3.0).abs() < 1e-8, "{}", k.p);
        let i = k.push(7.0, 4.0);
        assert_eq!(i, 2);
        k.remove(0);
        assert_eq!(k.n(), 2);
        assert_eq!(k.x[1], 7.0);
        k.reset(0, 3.0, 9.0);
        assert_eq!((k.x[0], k.p[(0, 0)], k.p[(0, 1)]), (3.0, 9.0, 0.0));
    }
}
