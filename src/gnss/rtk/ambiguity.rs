//! Integer ambiguity resolution on the double differences of a solve: LAMBDA (decorrelation and
//! search, [`crate::gnss::lambda`]), the ratio test, and a second check on the fixed solution's
//! phase residuals of the epoch. When the whole set fails, the lowest satellites are left out
//! one at a time (partial fixing): a satellite low in multipath and troposphere is the usual
//! reason a correct set of integers does not stand out.

use nalgebra::{DMatrix, DVector, Matrix3};

use super::filter::{AmbKey, Filter, Solved, cholesky, cholesky_solve};
use crate::gnss::{Gnss, lambda};

/// Fewest distinct satellites a fix may rest on: with five, a wrong set of integers can fit the
/// epoch as well as the right one (Galileo alone in 2018 fixed 3–6 cm off with five).
pub const MIN_FIX_SATS: usize = 6;

/// A double difference that may be fixed.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// Index into [`Solved::dd`].
    pub dd_pos: usize,
    /// Ambiguity index and its group's reference (indices into [`Filter::ambs`]).
    pub amb: usize,
    pub reference: usize,
    /// Sine of the elevation at the rover (lowest are dropped first).
    pub sin_el: f64,
    /// The satellite and its reference satellite.
    pub sats: [(Gnss, u8); 2],
}

/// A validated fix.
#[derive(Clone, Debug)]
pub struct Fix {
    /// Fixed estimate over [kinematic, double differences] (deviations, as [`Solved::xd`]).
    pub xd: DVector<f64>,
    /// Position covariance given the integers (m²).
    pub cov_pos: Matrix3<f64>,
    pub ratio: f64,
    /// (ambiguity, reference, integer double difference of the full ambiguities).
    pub fixed: Vec<(usize, usize, f64)>,
}

/// The bootstrapped success rate a fixed set must reach: with few satellites a wrong set can
/// pass the ratio test while its float solution was never precise enough to tell.
const MIN_SUCCESS: f64 = 0.999;

/// How many of the lowest satellites partial fixing may leave out.
const MAX_DROPS: usize = 6;

/// The decorrelations of the sets searched at the last epoch, each keyed by its double
/// differences (ambiguity and reference), to start the same sets' searches from this epoch.
#[derive(Clone, Debug, Default)]
pub struct Decorrelations {
    sets: Vec<(Vec<(AmbKey, AmbKey)>, lambda::Warm)>,
}

impl Decorrelations {
    /// The decorrelation kept for the double differences `keys`, in their order.
    fn find(&self, keys: &[(AmbKey, AmbKey)]) -> Option<lambda::Warm> {
        self.sets
            .iter()
            .filter(|(old, _)| old.len() == keys.len())
            .find_map(|(old, warm)| {
                if old == keys {
                    return Some(warm.clone());
                }
                let from: Option<Vec<usize>> = keys
                    .iter()
                    .map(|k| old.iter().position(|o| o == k))
                    .collect();
                warm.permuted(&from?)
            })
    }
}

/// The best validated fix of `cands`, and the best ratio seen (0 when no search was made).
/// `check` judges a fixed estimate by the epoch's residuals. `kept` carries the decorrelations
/// from one epoch to the next.
pub fn resolve(
    filter: &Filter,
    s: &Solved,
    cands: &[Candidate],
    ratio_min: f64,
    min_fix: usize,
    check: &dyn Fn(&DVector<f64>) -> bool,
    kept: &mut Decorrelations,
) -> (Option<Fix>, f64) {
    let mut used = Vec::new();
    let out = resolve_sets(filter, s, cands, ratio_min, min_fix, check, kept, &mut used);
    kept.sets = used;
    out
}

#[allow(clippy::too_many_arguments)]
fn resolve_sets(
    filter: &Filter,
    s: &Solved,
    cands: &[Candidate],
    ratio_min: f64,
    min_fix: usize,
    check: &dyn Fn(&DVector<f64>) -> bool,
    kept: &Decorrelations,
    used: &mut Vec<(Vec<(AmbKey, AmbKey)>, lambda::Warm)>,
) -> (Option<Fix>, f64) {
    let mut order: Vec<Candidate> = cands.to_vec();
    order.sort_by(|a, b| b.sin_el.total_cmp(&a.sin_el));
    let mut best_ratio: f64 = 0.0;
    let k = filter.k;
    for drop in 0..=MAX_DROPS {
        if order.len() < min_fix + drop {
            break;
        }
        let set = &order[..order.len() - drop];
        let mut sats: Vec<(Gnss, u8)> = set.iter().flat_map(|c| c.sats).collect();
        sats.sort();
        sats.dedup();
        if sats.len() < MIN_FIX_SATS {
            break;
        }
        let m = set.len();
        let pos: Vec<usize> = set.iter().map(|c| k + c.dd_pos).collect();
        let a = DVector::from_iterator(
            m,
            set.iter()
                .zip(&pos)
                .map(|(c, &p)| filter.ambs[c.amb].base - filter.ambs[c.reference].base + s.xd[p]),
        );
        let q = DMatrix::from_fn(m, m, |i, j| s.cov[(pos[i], pos[j])]);
        let keys: Vec<(AmbKey, AmbKey)> = set
            .iter()
            .map(|c| (filter.ambs[c.amb].key, filter.ambs[c.reference].key))
            .collect();
        let warm = kept.find(&keys);
        let Ok((fixes, next)) = lambda::search_warm(&a, &q, 2, warm.as_ref()) else {
            continue;
        };
        used.push((keys, next));
        let ratio = lambda::ratio(&fixes).unwrap_or(0.0).min(999.9);
        best_ratio = best_ratio.max(ratio);
        if ratio < ratio_min || fixes.success < MIN_SUCCESS {
            continue;
        }
        let fixed_a = &fixes.candidates[0];
        let v = &a - fixed_a;
        let Some(l) = cholesky(q) else {
            continue;
        };
        let mut y = v;
        cholesky_solve(&l, y.as_mut_slice());
        let n = s.xd.len();
        let cs = DMatrix::from_fn(n, m, |i, j| s.cov[(i, pos[j])]);
        let xd = &s.xd - &cs * &y;
        let cp = cs.rows(0, 3).into_owned();
        let mut cpt = cp.transpose();
        for c in cpt.as_mut_slice().chunks_mut(m) {
            cholesky_solve(&l, c);
        }
        let reduce = &cp * cpt;
        let cov = s.cov.view((0, 0), (3, 3)) - reduce;
        let cov_pos = Matrix3::from_fn(|i, j| cov[(i, j)]);
        if !check(&xd) {
            continue;
        }
        let fixed = set
            .iter()
            .zip(fixed_a.iter())
            .map(|(c, &v)| (c.amb, c.reference, v))
            .collect();
        return (
            Some(Fix {
                xd,
                cov_pos,
                ratio,
                fixed,
            }),
            best_ratio,
        );
    }
    (None, best_ratio)
}
