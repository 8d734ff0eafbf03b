//! Starting a search's decorrelation from the previous epoch's (see [`Warm`]).

use nalgebra::{DMatrix, DVector};

use super::{Fixes, LambdaError, Reduction, Step, check, search_z, success_from_d, symmetric};

/// The decorrelation `Z` of one search, kept to start the next search over the same
/// ambiguities from. A filter's covariance moves little from one epoch to the next, so `Zᵀ Q Z`
/// of the new `Q` is already nearly reduced: the reduction, which from scratch takes thousands
/// of integer steps for 50 correlated ambiguities, then takes a handful. Any unimodular start
/// gives the same integer least-squares candidates and norms; the bootstrapped success rate,
/// which depends on the reduced basis reached, can differ in its last digits.
#[derive(Clone, Debug, PartialEq)]
pub struct Warm {
    n: usize,
    /// `Z` by columns (`zc[c*n + k] = Z[k][c]`), integer valued.
    zc: Vec<f64>,
    /// `Z⁻¹` by rows, integer valued.
    zinv: Vec<f64>,
}

/// Entries of `Z` beyond this size would make `Zᵀ Q Z` lose the digits the reduction needs:
/// such a start is dropped for a reduction from scratch.
const MAX_WARM_ENTRY: f64 = 1.0e6;

impl Warm {
    /// Number of ambiguities.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The same decorrelation for the ambiguities listed in another order: new ambiguity `i`
    /// is the old ambiguity `from[i]`. `None` unless `from` is a permutation of `0..n`.
    pub fn permuted(&self, from: &[usize]) -> Option<Warm> {
        let n = self.n;
        if from.len() != n {
            return None;
        }
        let mut seen = vec![false; n];
        for &f in from {
            if f >= n || std::mem::replace(&mut seen[f], true) {
                return None;
            }
        }
        let mut zc = vec![0.0; n * n];
        let mut zinv = vec![0.0; n * n];
        for c in 0..n {
            let (old, new) = (&self.zc[c * n..(c + 1) * n], &mut zc[c * n..(c + 1) * n]);
            for (x, &f) in new.iter_mut().zip(from) {
                *x = old[f];
            }
            let (old, new) = (
                &self.zinv[c * n..(c + 1) * n],
                &mut zinv[c * n..(c + 1) * n],
            );
            for (x, &f) in new.iter_mut().zip(from) {
                *x = old[f];
            }
        }
        Some(Warm { n, zc, zinv })
    }

    /// `Zᵀ Q Z` of a row-major symmetric `q`, skipping the zeros of `Z` (most of it).
    #[inline(always)]
    fn congruence(&self, q: &[f64]) -> Vec<f64> {
        let n = self.n;
        let nz: Vec<Vec<(usize, f64)>> = (0..n)
            .map(|c| {
                let col = &self.zc[c * n..(c + 1) * n];
                col.iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(k, &v)| (k, v))
                    .collect()
            })
            .collect();
        // Row c of (QZ)ᵀ is Σ Z[k][c]·(row k of Q), Q being symmetric.
        let mut wt = vec![0.0; n * n];
        for (c, col) in nz.iter().enumerate() {
            let row = &mut wt[c * n..(c + 1) * n];
            for &(k, v) in col {
                for (x, y) in row.iter_mut().zip(&q[k * n..(k + 1) * n]) {
                    *x += v * y;
                }
            }
        }
        let mut out = vec![0.0; n * n];
        for (c1, col) in nz.iter().enumerate() {
            for c2 in 0..=c1 {
                let w = &wt[c2 * n..(c2 + 1) * n];
                let v: f64 = col.iter().map(|&(k, z)| z * w[k]).sum();
                out[c1 * n + c2] = v;
                out[c2 * n + c1] = v;
            }
        }
        out
    }

    /// `Zᵀ a`.
    fn a_to_z(&self, a: &[f64]) -> Vec<f64> {
        let n = self.n;
        (0..n)
            .map(|c| {
                self.zc[c * n..(c + 1) * n]
                    .iter()
                    .zip(a)
                    .filter(|(z, _)| **z != 0.0)
                    .map(|(z, x)| z * x)
                    .sum()
            })
            .collect()
    }

    /// `Z⁻ᵀ z`, exact for integer `z`.
    fn z_to_a(&self, z: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut a = vec![0.0; n];
        for (c, &zc) in z.iter().enumerate() {
            if zc == 0.0 {
                continue;
            }
            for (x, y) in a.iter_mut().zip(&self.zinv[c * n..(c + 1) * n]) {
                *x += zc * y;
            }
        }
        a
    }
}

wide_kernel! {
    /// [`search`], with the decorrelation started from `warm` (a previous search's over the same
    /// ambiguities in the same order, when its size matches); returns the decorrelation reached,
    /// for the next call.
    pub fn search_warm(
        a: &DVector<f64>,
        q: &DMatrix<f64>,
        m: usize,
        warm: Option<&Warm>,
    ) -> Result<(Fixes, Warm), LambdaError> = search_warm_body;
}

#[inline(always)]
fn search_warm_body(
    a: &DVector<f64>,
    q: &DMatrix<f64>,
    m: usize,
    warm: Option<&Warm>,
) -> Result<(Fixes, Warm), LambdaError> {
    if m == 0 {
        return Err(LambdaError::NoCandidates);
    }
    let n = check(a, q)?;
    let flat = symmetric(q);
    let start = warm.filter(|w| w.n == n);
    // A start under which Zᵀ Q Z is not numerically positive definite is dropped: from
    // scratch, a failure names the row in the input order.
    let warm_red = start.map(|w| Reduction::of_flat(n, w.congruence(&flat)));
    let (red, start) = match (warm_red, start) {
        (Some(Ok(r)), Some(w)) => (r, Some(w)),
        _ => (Reduction::of_flat(n, flat)?, None),
    };
    let success = success_from_d(&red.d);
    let base: Vec<f64> = a.iter().map(|v| v.round()).collect();
    let frac: Vec<f64> = a.iter().zip(&base).map(|(v, b)| v - b).collect();
    let zhat = match start {
        Some(w) => red.a_to_z(&w.a_to_z(&frac)),
        None => red.a_to_z(&frac),
    };
    let (zs, norms) = search_z(n, &red.l, &red.d, &zhat, m)?;
    let candidates = zs
        .iter()
        .map(|z| {
            let back = red.z_to_a(z);
            let fix = match start {
                Some(w) => w.z_to_a(&back),
                None => back,
            };
            DVector::from_iterator(n, fix.iter().zip(&base).map(|(f, b)| f + b))
        })
        .collect();
    let next = red.compose(start);
    Ok((
        Fixes {
            candidates,
            norms,
            success,
        },
        next,
    ))
}

impl Reduction {
    /// `start`'s `Z` (the identity when `None`) times this reduction's, with its inverse.
    fn compose(&self, start: Option<&Warm>) -> Warm {
        let n = self.n;
        let identity = || {
            let mut m = vec![0.0; n * n];
            for i in 0..n {
                m[i * n + i] = 1.0;
            }
            m
        };
        let (mut zc, mut zinv) = match start {
            Some(w) => (w.zc.clone(), w.zinv.clone()),
            None => (identity(), identity()),
        };
        for s in &self.steps {
            match *s {
                // Z ← Z·G with G = I − μ eᵢeⱼᵀ; Z⁻¹ ← G⁻¹·Z⁻¹ with G⁻¹ = I + μ eᵢeⱼᵀ.
                Step::Gauss { i, j, mu } => {
                    axpy_rows(&mut zc, n, j, i, -mu);
                    axpy_rows(&mut zinv, n, i, j, mu);
                }
                Step::Swap(j) => {
                    for m in [&mut zc, &mut zinv] {
                        let (a, b) = m.split_at_mut((j + 1) * n);
                        a[j * n..].swap_with_slice(&mut b[..n]);
                    }
                }
            }
        }
        let start_ok = zc.iter().all(|v| v.abs() <= MAX_WARM_ENTRY)
            && zinv.iter().all(|v| v.abs() <= MAX_WARM_ENTRY);
        if start_ok {
            Warm { n, zc, zinv }
        } else {
            Warm {
                n,
                zc: identity(),
                zinv: identity(),
            }
        }
    }
}

/// Row `dst` of a row-major n-column matrix plus `f` times row `src` (`dst ≠ src`).
fn axpy_rows(m: &mut [f64], n: usize, dst: usize, src: usize, f: f64) {
    let (lo, hi) = (dst.min(src), dst.max(src));
    let (a, b) = m.split_at_mut(hi * n);
    let (low, high) = (&mut a[lo * n..(lo + 1) * n], &mut b[..n]);
    let (d, s) = if dst == hi {
        (high, &*low)
    } else {
        (low, &*high)
    };
    for (x, y) in d.iter_mut().zip(s) {
        *x += f * y;
    }
}
