//! Integer least squares for carrier-phase ambiguities: the LAMBDA method (Teunissen 1995,
//! "The least-squares ambiguity decorrelation adjustment", J. Geodesy 70) with the search of
//! MLAMBDA (Chang, Yang & Zhou 2005, J. Geodesy 79) and its reduction taken in LLL order.
//!
//! Given float ambiguities `â` (cycles) and their covariance `Q`, find the integer vectors `ǎ`
//! that minimise `(â − ǎ)ᵀ Q⁻¹ (â − ǎ)`:
//!
//! 1. factor `Q = Lᵀ D L` (`L` unit lower triangular, `D` diagonal: the conditional variances,
//!    the last one unconditioned);
//! 2. decorrelate with integer Gauss transformations and permutations `Z` (unimodular), so that
//!    `ẑ = Zᵀ â` has `Q_ẑ = Zᵀ Q Z = Lᵀ D L` with small off-diagonal `L` and `D` as flat as the
//!    lattice allows;
//! 3. search `z` depth first from the last (best determined) component, shrinking the ellipsoid
//!    to the m-th best norm found so far;
//! 4. map back `ǎ = Z⁻ᵀ ž` by undoing the integer steps of `Z` in reverse order: exact integer
//!    arithmetic, not a linear solve.
//!
//! The float vector is split into its rounded integer part and a fraction before the search, so
//! that ambiguities of 10⁹ cycles (the phase of an unreset receiver counter) keep full precision.
//!
//! Storage is flat `Vec<f64>` (row-major, by columns inside the reduction): the reduction and
//! search index single elements in tight loops, where a bounds-checked matrix type costs more
//! than the arithmetic.

use nalgebra::{DMatrix, DVector};

mod warm;
pub use warm::{Warm, search_warm};

/// Node visits after which the search gives up: a well-decorrelated problem of 60 ambiguities
/// needs a few hundred; a float solution too poor for the search to end quickly is also too poor
/// to fix.
pub const MAX_SEARCH_STEPS: usize = 1_000_000;

/// Floats beyond this magnitude (cycles) cannot be split into integer and fraction exactly.
const MAX_FLOAT: f64 = 4.0e15;

/// Why an integer search could not be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LambdaError {
    /// The float vector is empty.
    #[error("no ambiguities to search")]
    Empty,
    /// Zero candidates were asked for.
    #[error("zero candidates requested")]
    NoCandidates,
    /// The covariance does not match the float vector.
    #[error("ambiguity covariance is {rows}×{cols} for {n} ambiguities")]
    Dimension { n: usize, rows: usize, cols: usize },
    /// A float ambiguity is NaN, infinite or too large to split into integer and fraction.
    #[error("float ambiguity {index} is {value}: not a usable number of cycles")]
    BadFloat { index: usize, value: f64 },
    /// The covariance is not symmetric positive definite: the `LᵀDL` pivot of row `index`
    /// (counted from 0 in the input order) is not positive.
    #[error("ambiguity covariance is not positive definite (pivot {index} is {pivot})")]
    NotPositiveDefinite { index: usize, pivot: f64 },
    /// The search visited [`MAX_SEARCH_STEPS`] nodes without finishing.
    #[error("integer search did not finish within {steps} steps")]
    SearchLimit { steps: usize },
}

/// The best integer candidates, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixes {
    /// Integer ambiguity vectors (cycles, integer valued), in the order of the input.
    pub candidates: Vec<DVector<f64>>,
    /// Their squared norms `(â − ǎ)ᵀ Q⁻¹ (â − ǎ)`, ascending.
    pub norms: Vec<f64>,
    /// Bootstrapped success rate of the decorrelated problem, a lower bound of the integer
    /// least-squares success rate (Teunissen 1999).
    pub success: f64,
}

/// Ratio test statistic: second-best over best squared norm (RTKLIB's convention: larger is
/// more decisive). `None` with fewer than two candidates; infinite when the best norm is 0.
pub fn ratio(fixes: &Fixes) -> Option<f64> {
    match fixes.norms.as_slice() {
        [best, second, ..] if *best > 0.0 => Some(second / best),
        [_, _, ..] => Some(f64::INFINITY),
        _ => None,
    }
}

/// The `m` best integer vectors for float ambiguities `a` (cycles) with covariance `q`
/// (cycles²).
pub fn search(a: &DVector<f64>, q: &DMatrix<f64>, m: usize) -> Result<Fixes, LambdaError> {
    if m == 0 {
        return Err(LambdaError::NoCandidates);
    }
    let n = check(a, q)?;
    let red = Reduction::new(q)?;
    let success = success_from_d(&red.d);
    // The integer part goes round the search untouched: Z is unimodular, so Zᵀ·round(â) is an
    // integer vector and only the fraction decides which integers are nearest.
    let base: Vec<f64> = a.iter().map(|v| v.round()).collect();
    let frac: Vec<f64> = a.iter().zip(&base).map(|(v, b)| v - b).collect();
    let zhat = red.a_to_z(&frac);
    let (zs, norms) = search_z(n, &red.l, &red.d, &zhat, m)?;
    let candidates = zs
        .iter()
        .map(|z| {
            let fix = red.z_to_a(z);
            DVector::from_iterator(n, fix.iter().zip(&base).map(|(f, b)| f + b))
        })
        .collect();
    Ok(Fixes {
        candidates,
        norms,
        success,
    })
}

/// Bootstrapped success rate `∏ (2Φ(1/(2√dᵢ)) − 1)` of the decorrelated covariance: the
/// probability that sequential rounding in the `z` domain gives the right integers, a sharp lower
/// bound of the integer least-squares success rate (Teunissen 1999, J. Geodesy 73).
pub fn bootstrap_success(q: &DMatrix<f64>) -> Result<f64, LambdaError> {
    if q.nrows() == 0 {
        return Err(LambdaError::Empty);
    }
    if q.nrows() != q.ncols() {
        return Err(LambdaError::Dimension {
            n: q.nrows(),
            rows: q.nrows(),
            cols: q.ncols(),
        });
    }
    Ok(success_from_d(&Reduction::new(q)?.d))
}

/// `LᵀDL` factors of a symmetric positive definite matrix: `L` unit lower triangular, `D` the
/// diagonal, `Q = Lᵀ·diag(D)·L`. `D[i]` is the variance of component `i` conditioned on all
/// components after it.
pub fn ltdl(q: &DMatrix<f64>) -> Result<(DMatrix<f64>, DVector<f64>), LambdaError> {
    let n = q.nrows();
    if q.ncols() != n {
        return Err(LambdaError::Dimension {
            n,
            rows: n,
            cols: q.ncols(),
        });
    }
    let flat: Vec<f64> = (0..n * n).map(|k| q[(k / n, k % n)]).collect();
    let (l, d) = ltdl_flat(n, flat)?;
    Ok((
        DMatrix::from_row_slice(n, n, &l),
        DVector::from_column_slice(&d),
    ))
}

/// A decorrelated ambiguity problem: `z = Zᵀ a`, `Q_z = Zᵀ Q Z = Lᵀ D L`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decorrelation {
    /// The unimodular integer transformation `Z` (n×n).
    pub z: DMatrix<f64>,
    /// `L` of the decorrelated covariance (unit lower triangular).
    pub l: DMatrix<f64>,
    /// `D` of the decorrelated covariance: conditional variances, roughly descending, so the
    /// last components are the best determined (the ones partial fixing keeps).
    pub d: DVector<f64>,
}

/// The integer decorrelation of `q` (step 2 above), for partial ambiguity resolution and for
/// inspection; [`search`] does this itself.
pub fn decorrelate(q: &DMatrix<f64>) -> Result<Decorrelation, LambdaError> {
    let n = q.nrows();
    if n == 0 {
        return Err(LambdaError::Empty);
    }
    if q.ncols() != n {
        return Err(LambdaError::Dimension {
            n,
            rows: n,
            cols: q.ncols(),
        });
    }
    let red = Reduction::new(q)?;
    Ok(Decorrelation {
        z: DMatrix::from_row_slice(n, n, &red.z_matrix()),
        l: DMatrix::from_row_slice(n, n, &red.l),
        d: DVector::from_column_slice(&red.d),
    })
}

/// Partial ambiguity resolution: the integer combinations that can be fixed.
#[derive(Clone, Debug, PartialEq)]
pub struct PartialFix {
    /// Rows are the fixed integer combinations of the input ambiguities (k×n, integer valued):
    /// `rows · a` is an integer for each row.
    pub combinations: DMatrix<f64>,
    /// The best integer values of those combinations and the runner-up, with their norms.
    pub fixes: Fixes,
}

/// Partial ambiguity resolution in the decorrelated domain (Teunissen, de Jonge & Tiberius
/// 1999; the "PAR" of LAMBDA 3): keep the largest set of the best-determined decorrelated
/// components whose bootstrapped success rate reaches `min_success`, and search those alone.
/// `None` when not even the best component reaches it.
pub fn search_partial(
    a: &DVector<f64>,
    q: &DMatrix<f64>,
    m: usize,
    min_success: f64,
) -> Result<Option<PartialFix>, LambdaError> {
    if m == 0 {
        return Err(LambdaError::NoCandidates);
    }
    let n = check(a, q)?;
    let red = Reduction::new(q)?;
    // The conditional variances of the last k components do not depend on the others, so the
    // success rate of a tail is the product over that tail.
    let mut p = 1.0;
    let mut first = n;
    for i in (0..n).rev() {
        let pi = p * component_success(red.d[i]);
        if pi < min_success {
            break;
        }
        p = pi;
        first = i;
    }
    if first == n {
        return Ok(None);
    }
    let k = n - first;
    // The tail of Q_z is Lᵀ D L restricted to its last k rows and columns, whose factors are the
    // tails of L and D themselves.
    let l_tail: Vec<f64> = (first..n)
        .flat_map(|i| (first..n).map(move |j| (i, j)))
        .map(|(i, j)| red.l[i * n + j])
        .collect();
    let base: Vec<f64> = a.iter().map(|v| v.round()).collect();
    let frac: Vec<f64> = a.iter().zip(&base).map(|(v, b)| v - b).collect();
    let zhat = red.a_to_z(&frac);
    let zint = red.a_to_z(&base);
    let (zs, norms) = search_z(k, &l_tail, &red.d[first..], &zhat[first..], m)?;
    let candidates = zs
        .iter()
        .map(|z| DVector::from_iterator(k, z.iter().zip(&zint[first..]).map(|(v, b)| v + b)))
        .collect();
    let z = red.z_matrix();
    let combinations = DMatrix::from_fn(k, n, |r, c| z[c * n + first + r]);
    Ok(Some(PartialFix {
        combinations,
        fixes: Fixes {
            candidates,
            norms,
            success: p,
        },
    }))
}

/// Validates the shapes and values; returns n.
fn check(a: &DVector<f64>, q: &DMatrix<f64>) -> Result<usize, LambdaError> {
    let n = a.len();
    if n == 0 {
        return Err(LambdaError::Empty);
    }
    if q.nrows() != n || q.ncols() != n {
        return Err(LambdaError::Dimension {
            n,
            rows: q.nrows(),
            cols: q.ncols(),
        });
    }
    if let Some((index, &value)) = a
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite() || v.abs() > MAX_FLOAT)
    {
        return Err(LambdaError::BadFloat { index, value });
    }
    Ok(n)
}

/// `2Φ(1/(2σ)) − 1 = erf(1/(2√2 σ))` for a conditional variance `d = σ²`.
fn component_success(d: f64) -> f64 {
    erf(1.0 / (2.0 * (2.0 * d).sqrt()))
}

fn success_from_d(d: &[f64]) -> f64 {
    d.iter().map(|&di| component_success(di)).product()
}

/// The error function, to double precision: the everywhere-positive series
/// `erf x = (2/√π) e^{−x²} Σ 2ⁿ x^{2n+1} / (1·3···(2n+1))` below 3 (no cancellation), and the
/// continued fraction of `erfc` (Abramowitz & Stegun 7.1.14) above.
pub(crate) fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return -erf(-x);
    }
    let two_over_sqrt_pi = std::f64::consts::FRAC_2_SQRT_PI;
    // erfc 6 = 2e-17: below half an ulp of 1.
    if x >= 6.0 {
        return 1.0;
    }
    if x < 3.0 {
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut k = 0.0;
        while term > sum * 1e-17 {
            k += 1.0;
            term *= 2.0 * x2 / (2.0 * k + 1.0);
            sum += term;
        }
        return two_over_sqrt_pi * (-x2).exp() * sum;
    }
    // erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail;
    // 60 levels are far more than x ≥ 3 needs.
    let mut f = x;
    for k in (1..=60).rev() {
        f = x + (k as f64 / 2.0) / f;
    }
    1.0 - (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

wide_kernel! {
    /// `LᵀDL` of a row-major n×n matrix, from the last row up: row i of `L` is row i of the
    /// current Schur complement over its pivot, and the leading block loses its outer product.
    fn ltdl_flat(n: usize, q: Vec<f64>) -> Result<(Vec<f64>, Vec<f64>), LambdaError> = ltdl_flat_body;
}

#[inline(always)]
fn ltdl_flat_body(n: usize, mut q: Vec<f64>) -> Result<(Vec<f64>, Vec<f64>), LambdaError> {
    let mut l = vec![0.0; n * n];
    let mut d = vec![0.0; n];
    for i in (0..n).rev() {
        let (top, rest) = q.split_at_mut(i * n);
        let row = &rest[..=i];
        let pivot = row[i];
        if !pivot.is_finite() || pivot <= 0.0 {
            return Err(LambdaError::NotPositiveDefinite { index: i, pivot });
        }
        d[i] = pivot;
        // Lower triangle only: row j keeps columns 0..=j.
        for j in 0..i {
            let f = row[j] / pivot;
            let rj = &mut top[j * n..j * n + j + 1];
            for (x, r) in rj.iter_mut().zip(row) {
                *x -= r * f;
            }
        }
        for (x, r) in l[i * n..i * n + i + 1].iter_mut().zip(row) {
            *x = r / pivot;
        }
    }
    Ok((l, d))
}

/// One step of the reduction, kept so that `Z` never has to be formed during a search: the
/// float vector goes forward through the steps and the candidates backward, O(1) per step,
/// where maintaining `Z` and `Z⁻¹` costs O(n) per step and dominated the run time.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Column j of `Z` minus μ times column i.
    Gauss { i: usize, j: usize, mu: f64 },
    /// Columns j and j+1 of `Z` exchanged.
    Swap(usize),
}

/// `L` and `D` (row-major) after the MLAMBDA reduction, with the steps that make `Z`.
struct Reduction {
    n: usize,
    l: Vec<f64>,
    d: Vec<f64>,
    steps: Vec<Step>,
}

impl Reduction {
    fn new(q: &DMatrix<f64>) -> Result<Reduction, LambdaError> {
        Reduction::of_flat(q.nrows(), symmetric(q))
    }

    /// The reduction of a symmetric row-major matrix.
    fn of_flat(n: usize, flat: Vec<f64>) -> Result<Reduction, LambdaError> {
        let (l, d) = ltdl_flat(n, flat)?;
        let mut r = Reduction {
            n,
            l,
            d,
            steps: Vec::new(),
        };
        r.reduce();
        Ok(r)
    }

    /// Integer Gauss transformations and symmetric permutations, in LLL order: at column j
    /// size-reduce the whole column (every |L[i][j]| ≤ ½), test the swap of j and j+1, and
    /// after a swap step back up to j+1, the only pair above that the swap touched. MLAMBDA
    /// instead restarts at the top after each swap and re-reduces every column below it,
    /// O(n²) Gauss steps per swap; both stop with `D` in the same order. Reducing each column
    /// when it is visited (not once at the end) keeps the entries of `L` small between swaps,
    /// which a search over 60 single-epoch ambiguities needs. Works on `L` by columns
    /// (`c[j*n + k] = L[k][j]`), where both operations touch contiguous memory.
    fn reduce(&mut self) {
        reduce(self);
    }
}

wide_kernel! {
    fn reduce(r: &mut Reduction) = reduce_body;
}

#[inline(always)]
fn reduce_body(r: &mut Reduction) {
    r.reduce_inner();
}

impl Reduction {
    #[inline(always)]
    fn reduce_inner(&mut self) {
        let n = self.n;
        if n < 2 || self.is_reduced() {
            return;
        }
        let mut c = transpose(n, &self.l);
        // dirty[k]: the first row of column k that may exceed ½ (n when none does). A swap at j
        // changes rows j and j+1 of the columns to its left and nothing else there, so a visit
        // reduces only from that row down instead of re-checking the whole column.
        let mut dirty: Vec<usize> = (1..=n).collect();
        let mut j = n - 1;
        while j > 0 {
            j -= 1;
            for i in dirty[j]..n {
                self.gauss(&mut c, i, j);
            }
            dirty[j] = n;
            let l1 = c[j * n + j + 1];
            let del = self.d[j] + l1 * l1 * self.d[j + 1];
            // The margin stops swaps that gain nothing, which could otherwise alternate forever
            // on exact ties.
            if del + 1e-6 < self.d[j + 1] {
                self.permute(&mut c, j, del);
                for d in &mut dirty[..j] {
                    *d = (*d).min(j);
                }
                // Column j now holds the old column j+1 below row j+1 (reduced) and a new
                // L[j+1][j]; column j+1 holds the old column j, just reduced.
                dirty[j] = j + 1;
                dirty[j + 1] = n;
                j = (j + 2).min(n - 1);
            }
        }
        self.l = transpose(n, &c);
    }

    /// Whether the walk of [`Reduction::reduce`] would take no step: every `|L[i][j]| < ½`
    /// and no swap. A start from the last epoch's decorrelation usually is, and the test reads
    /// `L` where it lies instead of transposing it twice.
    fn is_reduced(&self) -> bool {
        let n = self.n;
        let l = &self.l;
        for j in 0..n - 1 {
            if (j + 1..n).any(|i| !(l[i * n + j].abs() < 0.5)) {
                return false;
            }
            let l1 = l[(j + 1) * n + j];
            if self.d[j] + l1 * l1 * self.d[j + 1] + 1e-6 < self.d[j + 1] {
                return false;
            }
        }
        true
    }

    /// Makes `|L[i][j]| ≤ ½` by subtracting round(L[i][j]) times column i from column j.
    fn gauss(&mut self, c: &mut [f64], i: usize, j: usize) {
        let n = self.n;
        let x = c[j * n + i];
        // Most entries are already reduced: skip the rounding, which costs more than the test.
        if x.abs() < 0.5 {
            return;
        }
        let mu = round(x);
        let (left, right) = c.split_at_mut(i * n);
        for (x, y) in left[j * n + i..j * n + n].iter_mut().zip(&right[i..n]) {
            *x -= mu * y;
        }
        self.steps.push(Step::Gauss { i, j, mu });
    }

    /// Swaps components j and j+1, updating the factors so that `D[j+1]` becomes `del`.
    fn permute(&mut self, c: &mut [f64], j: usize, del: f64) {
        let n = self.n;
        let l1 = c[j * n + j + 1];
        let eta = self.d[j] / del;
        let lam = self.d[j + 1] * l1 / del;
        self.d[j] = eta * self.d[j + 1];
        self.d[j + 1] = del;
        for k in 0..j {
            let a0 = c[k * n + j];
            let a1 = c[k * n + j + 1];
            c[k * n + j] = -l1 * a0 + a1;
            c[k * n + j + 1] = eta * a0 + lam * a1;
        }
        c[j * n + j + 1] = lam;
        let (left, right) = c.split_at_mut((j + 1) * n);
        left[j * n + j + 2..j * n + n].swap_with_slice(&mut right[j + 2..n]);
        self.steps.push(Step::Swap(j));
    }

    /// `Zᵀ a`: each step `Z ← Z·G` turns `z` into `Gᵀ z`.
    fn a_to_z(&self, a: &[f64]) -> Vec<f64> {
        let mut z = a.to_vec();
        for s in &self.steps {
            match *s {
                Step::Gauss { i, j, mu } => z[j] -= mu * z[i],
                Step::Swap(j) => z.swap(j, j + 1),
            }
        }
        z
    }

    /// `Z⁻ᵀ z`, exact for integer z: the inverse steps in reverse order.
    fn z_to_a(&self, z: &[f64]) -> Vec<f64> {
        let mut a = z.to_vec();
        for s in self.steps.iter().rev() {
            match *s {
                Step::Gauss { i, j, mu } => a[j] += mu * a[i],
                Step::Swap(j) => a.swap(j, j + 1),
            }
        }
        a
    }

    /// `Z` itself (row-major).
    fn z_matrix(&self) -> Vec<f64> {
        let n = self.n;
        let mut z = vec![0.0; n * n];
        for i in 0..n {
            z[i * n + i] = 1.0;
        }
        for s in &self.steps {
            match *s {
                Step::Gauss { i, j, mu } => {
                    for k in 0..n {
                        z[k * n + j] -= mu * z[k * n + i];
                    }
                }
                Step::Swap(j) => {
                    for k in 0..n {
                        z.swap(k * n + j, k * n + j + 1);
                    }
                }
            }
        }
        z
    }
}

/// `q` row-major and symmetrised: a Kalman filter's covariance is symmetric only to rounding.
/// (nalgebra stores columns, so the slice read row-wise is the transpose.)
fn symmetric(q: &DMatrix<f64>) -> Vec<f64> {
    let n = q.nrows();
    let cm = q.as_slice();
    let mut flat = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            // The sum is the same in either order: one half is computed, the other mirrored.
            let v = 0.5 * (cm[i * n + j] + cm[j * n + i]);
            flat[i * n + j] = v;
            flat[j * n + i] = v;
        }
    }
    flat
}

fn transpose(n: usize, m: &[f64]) -> Vec<f64> {
    let mut t = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            t[j * n + i] = m[i * n + j];
        }
    }
    t
}

/// Depth-first search of the `m` integer vectors nearest to `zhat` in the metric `(LᵀDL)⁻¹`,
/// starting from the last component, each level visiting integers in order of distance from its
/// conditional estimate (Schnorr–Euchner zig-zag); once `m` candidates are held, the ellipsoid
/// shrinks to the worst of them. Returns the candidates and squared norms, ascending.
#[inline(never)]
fn search_z(
    n: usize,
    l: &[f64],
    d: &[f64],
    zhat: &[f64],
    m: usize,
) -> Result<(Vec<Vec<f64>>, Vec<f64>), LambdaError> {
    // s[k*n + i]: the correction of level i's conditional estimate from levels > k.
    let mut s = vec![0.0; n * n];
    let mut dist = vec![0.0; n];
    let mut zb = vec![0.0; n];
    let mut z = vec![0.0; n];
    let mut step = vec![0.0; n];
    let mut cands: Vec<(f64, Vec<f64>)> = Vec::with_capacity(m);
    let mut maxdist = f64::INFINITY;
    let mut worst = 0usize;

    let sign = |v: f64| if v <= 0.0 { -1.0 } else { 1.0 };
    let mut k = n - 1;
    zb[k] = zhat[k];
    z[k] = zb[k].round();
    let mut y = zb[k] - z[k];
    step[k] = sign(y);
    for _ in 0..MAX_SEARCH_STEPS {
        let newdist = dist[k] + y * y / d[k];
        if newdist < maxdist {
            if k != 0 {
                k -= 1;
                dist[k] = newdist;
                let dz = z[k + 1] - zb[k + 1];
                let (lo, hi) = s.split_at_mut((k + 1) * n);
                let lrow = &l[(k + 1) * n..(k + 1) * n + k + 1];
                for ((x, above), lv) in lo[k * n..k * n + k + 1]
                    .iter_mut()
                    .zip(&hi[..k + 1])
                    .zip(lrow)
                {
                    *x = above + dz * lv;
                }
                zb[k] = zhat[k] + s[k * n + k];
                z[k] = round(zb[k]);
                y = zb[k] - z[k];
                step[k] = sign(y);
            } else {
                if cands.len() < m {
                    cands.push((newdist, z.clone()));
                    if cands.len() == m {
                        worst = argmax(&cands);
                        maxdist = cands[worst].0;
                    }
                } else {
                    cands[worst] = (newdist, z.clone());
                    worst = argmax(&cands);
                    maxdist = cands[worst].0;
                }
                z[0] += step[0];
                y = zb[0] - z[0];
                step[0] = -step[0] - sign(step[0]);
            }
        } else {
            if k == n - 1 {
                cands.sort_by(|a, b| a.0.total_cmp(&b.0));
                let norms = cands.iter().map(|c| c.0).collect();
                let zs = cands.into_iter().map(|c| c.1).collect();
                return Ok((zs, norms));
            }
            k += 1;
            z[k] += step[k];
            y = zb[k] - z[k];
            step[k] = -step[k] - sign(step[k]);
        }
    }
    Err(LambdaError::SearchLimit {
        steps: MAX_SEARCH_STEPS,
    })
}

/// `x.round()` (halves away from zero, sign of zero kept) without the library call that
/// `f64::round` becomes on baseline x86-64, where it dominated the search: the truncation of a
/// conversion to `i64` is exact below 2⁶², and `x − trunc(x)` is exact.
#[inline]
fn round(x: f64) -> f64 {
    if !(x.abs() < 4.0e18) {
        return x.round();
    }
    let t = x as i64 as f64;
    let f = x - t;
    let r = if f >= 0.5 {
        t + 1.0
    } else if f <= -0.5 {
        t - 1.0
    } else {
        t
    };
    r.copysign(x)
}

fn argmax(c: &[(f64, Vec<f64>)]) -> usize {
    let mut best = 0;
    for (i, v) in c.iter().enumerate() {
        if v.0 > c[best].0 {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mat(n: usize, v: &[f64]) -> DMatrix<f64> {
        DMatrix::from_row_slice(n, n, v)
    }

    fn norm(a: &DVector<f64>, q: &DMatrix<f64>, c: &DVector<f64>) -> f64 {
        let r = a - c;
        // Test matrices are positive definite by construction.
        let qi = q.clone().cholesky().expect("positive definite").inverse();
        (r.transpose() * qi * &r)[(0, 0)]
    }

    #[test]
    fn round_matches_the_library() {
        let edge = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370497.0,
            3.9e18,
            5e18,
            -1e300,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for x in edge {
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "{x}");
        }
        assert!(round(f64::NAN).is_nan());
        let mut s = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = f64::from_bits(s);
            if !x.is_nan() {
                assert_eq!(round(x).to_bits(), x.round().to_bits(), "{x}");
            }
            let y = (s as i64 as f64) / 1e6;
            assert_eq!(round(y).to_bits(), y.round().to_bits(), "{y}");
        }
    }

    /// de Jonge & Tiberius (1996), "The LAMBDA method for integer ambiguity estimation:
    /// implementation aspects", LGR series No. 12, the three-dimensional example: the float
    /// solution 5.45, 3.10, 2.97 with this covariance fixes to 5, 3, 4 (note: not the rounded
    /// 5, 3, 3).
    #[test]
    fn de_jonge_tiberius_example() {
        let q = mat(
            3,
            &[
                6.290, 5.978, 0.544, 5.978, 6.292, 2.340, 0.544, 2.340, 6.288,
            ],
        );
        let a = DVector::from_vec(vec![5.45, 3.10, 2.97]);
        let f = search(&a, &q, 2).unwrap();
        assert_eq!(f.candidates[0].as_slice(), &[5.0, 3.0, 4.0]);
        assert!((f.norms[0] - norm(&a, &q, &f.candidates[0])).abs() < 1e-9);
        assert!((f.norms[1] - norm(&a, &q, &f.candidates[1])).abs() < 1e-9);
        let dec = decorrelate(&q).unwrap();
        // Z is unimodular.
        assert!((dec.z.determinant().abs() - 1.0).abs() < 1e-9);
        let qz = dec.z.transpose() * &q * &dec.z;
        let back = dec.l.transpose() * DMatrix::from_diagonal(&dec.d) * &dec.l;
        assert!((qz - back).abs().max() < 1e-9);
        // Decorrelation shrinks the product of the variances (the determinant stays).
        let before: f64 = (0..3).map(|i| q[(i, i)]).product();
        let after: f64 = dec.d.iter().product::<f64>();
        assert!(after < before / 10.0, "{before} {after}");
    }

    /// RTKLIB's unit-test vectors (test/utest/t_lambda.c, utest1): 6 ambiguities, 2 candidates.
    #[test]
    fn rtklib_vectors_6() {
        let a = DVector::from_vec(vec![
            1585184.171,
            -6716599.430,
            3915742.905,
            7627233.455,
            9565990.879,
            989457273.200,
        ]);
        let (v, w, x) = (0.227134, 0.112202, 0.103473);
        let q = mat(
            6,
            &[
                v, w, w, w, w, x, //
                w, v, w, w, w, x, //
                w, w, v, w, w, x, //
                w, w, w, v, w, x, //
                w, w, w, w, v, x, //
                x, x, x, x, x, 0.434339,
            ],
        );
        let f = search(&a, &q, 2).unwrap();
        let f1 = [
            [
                1585184.0,
                -6716599.0,
                3915743.0,
                7627234.0,
                9565991.0,
                989457273.0,
            ],
            [
                1585184.0,
                -6716600.0,
                3915743.0,
                7627233.0,
                9565991.0,
                989457273.0,
            ],
        ];
        for (c, want) in f.candidates.iter().zip(f1) {
            assert_eq!(c.as_slice(), &want);
        }
        assert!((f.norms[0] - 3.507984).abs() < 1e-4, "{:?}", f.norms);
        assert!((f.norms[1] - 3.708456).abs() < 1e-4, "{:?}", f.norms);
        assert!((ratio(&f).unwrap() - 3.708456 / 3.507984).abs() < 1e-4);
    }

    /// RTKLIB's unit-test vectors (utest2): 10 ambiguities (L1 and L2 of 5 double
    /// differences), 2 candidates.
    #[test]
    fn rtklib_vectors_10() {
        let a = DVector::from_vec(vec![
            -13324172.755747,
            -10668894.713608,
            -7157225.010770,
            -6149367.974367,
            -7454133.571066,
            -5969200.494550,
            8336734.058423,
            6186974.084502,
            -17549093.883655,
            -13970158.922370,
        ]);
        let (p, r, s, t, u, v) = (0.446320, 0.223160, 0.572775, 0.286388, 0.735063, 0.367531);
        // Blocks: L1–L1 (p on the diagonal, r off), L1–L2 (s, t), L2–L2 (u, v), in the
        // order the file lists them.
        let q = DMatrix::from_fn(10, 10, |i, j| {
            let same = i % 5 == j % 5;
            match (i < 5, j < 5) {
                (true, true) => {
                    if same {
                        p
                    } else {
                        r
                    }
                }
                (false, false) => {
                    if same {
                        u
                    } else {
                        v
                    }
                }
                _ => {
                    if same {
                        s
                    } else {
                        t
                    }
                }
            }
        });
        let f = search(&a, &q, 2).unwrap();
        let f2 = [
            [
                -13324188.0,
                -10668901.0,
                -7157236.0,
                -6149379.0,
                -7454143.0,
                -5969220.0,
                8336726.0,
                6186960.0,
                -17549108.0,
                -13970171.0,
            ],
            [
                -13324188.0,
                -10668908.0,
                -7157236.0,
                -6149379.0,
                -7454143.0,
                -5969220.0,
                8336717.0,
                6186960.0,
                -17549108.0,
                -13970171.0,
            ],
        ];
        for (c, want) in f.candidates.iter().zip(f2) {
            assert_eq!(c.as_slice(), &want);
        }
        assert!((f.norms[0] - 1506.435789).abs() < 1e-3, "{:?}", f.norms);
        assert!((f.norms[1] - 1612.811795).abs() < 1e-3, "{:?}", f.norms);
    }
    #[test]
    fn erf_values() {
        // Abramowitz & Stegun table 7.1 and erfc(3) = 2.209049699858544e-5.
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 1.0 - 2.209_049_699_858_544e-5),
            (-1.0, -0.842_700_792_949_714_9),
        ] {
            assert!((erf(x) - want).abs() < 1e-15, "{x}: {} vs {want}", erf(x));
        }
        assert!((1.0 - erf(4.0) - 1.541_725_790_028_002e-8).abs() < 2e-16);
    }

    #[test]
    fn bootstrap_of_independent_ambiguities() {
        // σ = 0.5 cycle: 2Φ(1) − 1 = 0.6826894921370859 (the one-sigma probability).
        let q = mat(1, &[0.25]);
        assert!((bootstrap_success(&q).unwrap() - 0.682_689_492_137_085_9).abs() < 1e-14);
        let q = DMatrix::from_diagonal(&DVector::from_vec(vec![0.25, 0.01, 0.0025]));
        // σ = 0.1: 2Φ(5) − 1 = 1 − 5.733e-7; σ = 0.05: 2Φ(10) − 1 = 1 − 1.5e-23.
        let want = 0.682_689_492_137_085_9 * (1.0 - 5.733_031_437_583_878e-7);
        assert!((bootstrap_success(&q).unwrap() - want).abs() < 1e-13);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let a = DVector::from_vec(vec![0.1, 0.2]);
        let not_pd = mat(2, &[1.0, 2.0, 2.0, 1.0]);
        assert!(matches!(
            search(&a, &not_pd, 2),
            Err(LambdaError::NotPositiveDefinite { .. })
        ));
        assert!(matches!(
            bootstrap_success(&mat(2, &[0.0, 0.0, 0.0, 0.0])),
            Err(LambdaError::NotPositiveDefinite { index: 1, .. })
        ));
        let q = mat(2, &[1.0, 0.0, 0.0, 1.0]);
        assert_eq!(search(&a, &q, 0), Err(LambdaError::NoCandidates));
        assert_eq!(
            search(&DVector::from_vec(vec![0.1]), &q, 2),
            Err(LambdaError::Dimension {
                n: 1,
                rows: 2,
                cols: 2
            })
        );
        assert!(matches!(
            search(&DVector::from_vec(vec![0.1, f64::NAN]), &q, 2),
            Err(LambdaError::BadFloat { index: 1, .. })
        ));
        assert_eq!(
            search(&DVector::zeros(0), &DMatrix::zeros(0, 0), 2),
            Err(LambdaError::Empty)
        );
        let nan_q = mat(2, &[1.0, f64::NAN, f64::NAN, 1.0]);
        assert!(search(&a, &nan_q, 2).is_err());
    }

    #[test]
    fn one_ambiguity_and_many_candidates() {
        let q = mat(1, &[0.04]);
        let f = search(&DVector::from_vec(vec![2.3]), &q, 4).unwrap();
        let got: Vec<f64> = f.candidates.iter().map(|c| c[0]).collect();
        assert_eq!(got, vec![2.0, 3.0, 1.0, 4.0]);
        assert!((f.norms[0] - 0.09 / 0.04).abs() < 1e-12);
    }

    #[test]
    fn partial_keeps_the_well_determined_part() {
        // Two precise ambiguities and one that is hopeless (σ = 3 cycles).
        let q = DMatrix::from_diagonal(&DVector::from_vec(vec![0.002, 9.0, 0.003]));
        let a = DVector::from_vec(vec![4.02, 7.4, -2.97]);
        let p = search_partial(&a, &q, 2, 0.999).unwrap().unwrap();
        assert_eq!(p.combinations.nrows(), 2);
        assert!(p.fixes.success >= 0.999);
        let fixed = &p.combinations * DVector::from_vec(vec![4.0, 7.0, -3.0]);
        let mut got: Vec<f64> = p.fixes.candidates[0].iter().copied().collect();
        let mut want: Vec<f64> = fixed.iter().copied().collect();
        got.sort_by(f64::total_cmp);
        want.sort_by(f64::total_cmp);
        assert_eq!(got, want);
        // The hopeless one is not in any kept combination.
        assert!(p.combinations.column(1).iter().all(|&v| v == 0.0));
        let poor = DMatrix::from_diagonal(&DVector::from_vec(vec![0.25, 0.3]));
        let a = DVector::from_vec(vec![0.4, 0.1]);
        assert!(search_partial(&a, &poor, 2, 0.9).unwrap().is_none());
    }

    /// Every integer vector within the box that must hold the `m` best, by brute force.
    fn brute_force(a: &DVector<f64>, q: &DMatrix<f64>, m: usize) -> Vec<(f64, Vec<f64>)> {
        let n = a.len();
        let base: Vec<f64> = a.iter().map(|v| v.round()).collect();
        // An upper bound of the m-th best norm: the m-th best among rounding and its
        // one-step neighbours (2n + 1 ≥ m vectors).
        let mut probe = vec![norm(a, q, &DVector::from_vec(base.clone()))];
        for i in 0..n {
            for s in [-1.0, 1.0] {
                let mut c = base.clone();
                c[i] += s;
                probe.push(norm(a, q, &DVector::from_vec(c)));
            }
        }
        probe.sort_by(f64::total_cmp);
        let bound = probe[m - 1];
        // (a − c)ᵀQ⁻¹(a − c) ≤ χ² implies |aᵢ − cᵢ| ≤ √(χ² Qᵢᵢ).
        let lo: Vec<i64> = (0..n)
            .map(|i| (a[i] - (bound * q[(i, i)]).sqrt()).floor() as i64)
            .collect();
        let hi: Vec<i64> = (0..n)
            .map(|i| (a[i] + (bound * q[(i, i)]).sqrt()).ceil() as i64)
            .collect();
        let mut out = Vec::new();
        let mut c = lo.clone();
        loop {
            let v = DVector::from_iterator(n, c.iter().map(|&x| x as f64));
            out.push((norm(a, q, &v), v.iter().copied().collect()));
            let mut i = 0;
            loop {
                if i == n {
                    out.sort_by(|x, y| x.0.total_cmp(&y.0));
                    out.truncate(m);
                    return out;
                }
                c[i] += 1;
                if c[i] <= hi[i] {
                    break;
                }
                c[i] = lo[i];
                i += 1;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn search_matches_brute_force(
            n in 1usize..=4,
            b in proptest::collection::vec(-1.0f64..1.0, 16),
            af in proptest::collection::vec(-50.0f64..50.0, 4),
            scale in 0.05f64..0.6,
            m in 1usize..=3,
        ) {
            let bm = DMatrix::from_fn(n, n, |i, j| b[i * 4 + j] * scale);
            let q = &bm * bm.transpose() + DMatrix::identity(n, n) * 0.02;
            let a = DVector::from_iterator(n, af.iter().take(n).copied());
            let f = search(&a, &q, m).unwrap();
            let bf = brute_force(&a, &q, m);
            prop_assert_eq!(f.norms.len(), m);
            for (got, want) in f.norms.iter().zip(&bf) {
                prop_assert!((got - want.0).abs() < 1e-8 * (1.0 + want.0), "{:?} vs {:?}", f.norms, bf);
            }
            for (c, nrm) in f.candidates.iter().zip(&f.norms) {
                prop_assert!(c.iter().all(|v| v.fract() == 0.0));
                prop_assert!((norm(&a, &q, c) - nrm).abs() < 1e-8 * (1.0 + nrm));
            }
            if m > 1 && bf[1].0 - bf[0].0 > 1e-9 {
                prop_assert_eq!(f.candidates[0].as_slice(), bf[0].1.as_slice());
            }
        }
    }
    /// Float ambiguities of one epoch of dual-frequency code (0.3 m) and phase (3 mm) to `dd`
    /// double differences: metre-level and almost perfectly correlated, the hardest problems
    /// a filter hands over. A fixed-seed generator keeps the cases the same from run to run.
    fn single_epoch(seed: u64, dd: usize) -> (DVector<f64>, DMatrix<f64>) {
        let mut state = seed;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let n = 2 * dd;
        let mut info = DMatrix::<f64>::zeros(3 + n, 3 + n);
        for i in 0..dd {
            // Any spread of azimuths will do; the value fixes the test's geometry.
            #[allow(clippy::approx_constant)]
            let (el, az) = ((10.0 + 80.0 * uniform()).to_radians(), 6.283 * uniform());
            let g = [el.cos() * az.sin(), el.cos() * az.cos(), el.sin() - 1.0];
            for (f, lam) in [0.190_293_672_798_365, 0.244_210_213_424_568]
                .iter()
                .enumerate()
            {
                for (sigma, amb) in [(0.003, Some(3 + f * dd + i)), (0.3, None)] {
                    let mut h = DVector::<f64>::zeros(3 + n);
                    h.rows_mut(0, 3).copy_from_slice(&g);
                    if let Some(k) = amb {
                        h[k] = *lam;
                    }
                    info += &h * h.transpose() / (sigma * sigma);
                }
            }
        }
        // Three independent directions and every ambiguity observed: positive definite.
        let cov = info.cholesky().expect("positive definite").inverse();
        let q = cov.view((3, 3), (n, n)).into_owned();
        // Integers plus noise drawn from Q (Box–Muller), as a filter's float solution is.
        let noise = DVector::from_fn(n, |_, _| {
            let (u, v) = (uniform(), uniform());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        });
        let truth = DVector::from_fn(n, |_, _| (1e5 * (uniform() - 0.5)).round());
        let a = truth + q.clone().cholesky().expect("positive definite").l() * noise;
        (a, q)
    }

    /// A search started from the previous epoch's decorrelation finds the same integers and
    /// norms as one from scratch, also with the ambiguities listed in another order.
    #[test]
    fn warm_start_gives_the_cold_answer() {
        for seed in 0..20 {
            let (a, q) = single_epoch(seed, 30);
            let (first, warm) = search_warm(&a, &q, 2, None).unwrap();
            assert_eq!(first, search(&a, &q, 2).unwrap(), "seed {seed}");
            // The next epoch: a slightly different covariance and float vector.
            let n = a.len();
            let q2 = &q * 0.97 + DMatrix::from_fn(n, n, |i, j| if i == j { 1e-4 } else { 0.0 });
            let a2 = a.map(|v| v + 0.01);
            let cold = search(&a2, &q2, 2).unwrap();
            let (hot, _) = search_warm(&a2, &q2, 2, Some(&warm)).unwrap();
            assert_eq!(hot.candidates, cold.candidates, "seed {seed}");
            for (h, c) in hot.norms.iter().zip(&cold.norms) {
                assert!((h - c).abs() < 1e-8 * (1.0 + c), "seed {seed}: {h} {c}");
            }
            // Reversed order.
            let from: Vec<usize> = (0..n).rev().collect();
            let ar = DVector::from_fn(n, |i, _| a2[from[i]]);
            let qr = DMatrix::from_fn(n, n, |i, j| q2[(from[i], from[j])]);
            let w = warm.permuted(&from).unwrap();
            let (rev, _) = search_warm(&ar, &qr, 2, Some(&w)).unwrap();
            for (r, c) in rev.candidates.iter().zip(&cold.candidates) {
                let back: Vec<f64> = (0..n).rev().map(|i| r[i]).collect();
                assert_eq!(back.as_slice(), c.as_slice(), "seed {seed}");
            }
            assert!(warm.permuted(&[0, 0]).is_none());
        }
    }

    #[test]
    fn sixty_single_epoch_ambiguities_search_to_exact_norms() {
        for seed in 0..40 {
            let (a, q) = single_epoch(seed, 30);
            let f = search(&a, &q, 2).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            for (c, nrm) in f.candidates.iter().zip(&f.norms) {
                assert!(c.iter().all(|v| v.fract() == 0.0));
                let direct = norm(&a, &q, c);
                assert!(
                    (direct - nrm).abs() < 1e-6 * (1.0 + nrm),
                    "seed {seed}: {direct} {nrm}"
                );
            }
            let dec = decorrelate(&q).unwrap();
            assert!(
                (dec.z.determinant().abs() - 1.0).abs() < 1e-6,
                "seed {seed}"
            );
            assert!(
                dec.l
                    .iter()
                    .enumerate()
                    .all(|(k, v)| k % 61 == 0 || v.abs() <= 0.5 + 1e-9)
            );
        }
    }
}
