//! The baseline's estimator in information form: position (and velocity) of the rover and one
//! single-difference ambiguity per satellite and band.
//!
//! Observations are single differences between the receivers, each with a nuisance receiver
//! clock difference per system, band and observable that is eliminated epoch by epoch (Schur
//! complement): exactly the double-difference model, with uncorrelated rows and no reference
//! satellite inside the filter. Each row touches three position columns, a clock and at most one
//! ambiguity, so an epoch's normal equations cost O(n²) and nothing denser is ever formed.
//!
//! The eliminated clocks leave the common value of each (system, band) group of ambiguities to
//! the weak prior alone. Solving in single differences would then mix numbers of very different
//! sizes, so every solve first changes to a reference ambiguity per group and the differences to
//! it (double differences, an integer unimodular change), eliminates the references, and solves
//! for position and double differences: a well conditioned system whose covariance is exactly
//! what the integer search needs.
//!
//! All states are deviations from a reference point (rover position, integer ambiguity values)
//! that follows the estimate, so the numbers stay small and no precision is lost to the size of
//! ECEF coordinates or of receivers' unreset phase counters.

use nalgebra::{DMatrix, DVector, Matrix3, Vector3};

use crate::gnss::Gnss;

/// An ambiguity: satellite and band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmbKey {
    pub sys: Gnss,
    pub prn: u8,
    pub band: u8,
}

/// A group of ambiguities sharing a receiver clock difference (system and band).
pub type GroupKey = (Gnss, u8);

/// One ambiguity state.
#[derive(Clone, Debug)]
pub struct Amb {
    pub key: AmbKey,
    /// Integer value the state is a deviation from (cycles).
    pub base: f64,
    /// Wavelength (m).
    pub lambda: f64,
    /// Epochs since the state was (re)started.
    pub epochs: u32,
    /// GPS time (s) of the last observation.
    pub last_seen: f64,
}

/// One single-difference observation row.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Gradient of the range in the rover position (the negated line of sight).
    pub unit: Vector3<f64>,
    /// Ambiguity state index (in `ambs`) for a phase row.
    pub amb: Option<usize>,
    /// Clock group id (dense, per epoch).
    pub clock: usize,
    /// Observed minus modelled at the reference point (m).
    pub z: f64,
    /// Variance (m²).
    pub var: f64,
}

/// The estimator.
#[derive(Clone, Debug)]
pub struct Filter {
    /// Kinematic states: 3 (position) or 6 (position, velocity).
    pub k: usize,
    /// Information matrix over [kinematic, ambiguities].
    pub lam: DMatrix<f64>,
    /// Information vector.
    pub eta: DVector<f64>,
    pub ambs: Vec<Amb>,
    /// Rover position the position states are deviations from (ECEF, m).
    pub origin: Vector3<f64>,
}

/// A solve's result.
#[derive(Clone, Debug)]
pub struct Solved {
    /// Deviations in single-difference coordinates: kinematic states then ambiguities.
    pub x: DVector<f64>,
    /// Index (into `ambs`) of each group's reference ambiguity.
    pub refs: Vec<(GroupKey, usize)>,
    /// The double-difference variables: ambiguity index of each, in the order of `cov`'s
    /// columns after the kinematic ones.
    pub dd: Vec<usize>,
    /// Covariance over [kinematic, double differences].
    pub cov: DMatrix<f64>,
    /// Estimate over [kinematic, double differences] (deviations).
    pub xd: DVector<f64>,
}

impl Filter {
    pub fn new(kinematic: bool) -> Filter {
        let k = if kinematic { 6 } else { 3 };
        Filter {
            k,
            lam: DMatrix::zeros(k, k),
            eta: DVector::zeros(k),
            ambs: Vec::new(),
            origin: Vector3::zeros(),
        }
    }

    pub fn n(&self) -> usize {
        self.k + self.ambs.len()
    }

    /// Forget the kinematic states and start them again at `pos` with a loose prior: the
    /// ambiguities keep what they learned (marginalised over the old position).
    pub fn restart_position(&mut self, pos: Vector3<f64>, sigma_m: f64, sigma_v: f64) {
        let k = self.k;
        let idx: Vec<usize> = (0..k).collect();
        if self.lam[(0, 0)] != 0.0 {
            self.marginalize(&idx);
        } else {
            self.drop_indices(&idx);
        }
        // Insert k fresh rows and columns at the front.
        let n = self.ambs.len();
        let mut lam = DMatrix::zeros(k + n, k + n);
        lam.view_mut((k, k), (n, n)).copy_from(&self.lam);
        let mut eta = DVector::zeros(k + n);
        eta.rows_mut(k, n).copy_from(&self.eta);
        for i in 0..3 {
            lam[(i, i)] = 1.0 / (sigma_m * sigma_m);
        }
        for i in 3..k {
            lam[(i, i)] = 1.0 / (sigma_v * sigma_v);
        }
        self.lam = lam;
        self.eta = eta;
        self.origin = pos;
    }

    /// Add an ambiguity state with prior mean `base` (rounded) and a loose prior.
    pub fn add_amb(&mut self, key: AmbKey, value: f64, lambda: f64, sigma_cycles: f64, now: f64) {
        let base = value.round();
        let n = self.n();
        self.lam = std::mem::replace(&mut self.lam, DMatrix::zeros(0, 0)).resize(n + 1, n + 1, 0.0);
        self.eta =
            std::mem::replace(&mut self.eta, DVector::zeros(0)).resize_vertically(n + 1, 0.0);
        self.lam[(n, n)] = 1.0 / (sigma_cycles * sigma_cycles);
        self.eta[n] = (value - base) / (sigma_cycles * sigma_cycles);
        self.ambs.push(Amb {
            key,
            base,
            lambda,
            epochs: 0,
            last_seen: now,
        });
    }

    /// Remove ambiguity states (indices into `ambs`), integrating them out.
    pub fn remove_ambs(&mut self, which: &[usize]) {
        let idx: Vec<usize> = which.iter().map(|i| self.k + i).collect();
        self.marginalize(&idx);
        let mut sorted = which.to_vec();
        sorted.sort_unstable();
        for i in sorted.into_iter().rev() {
            self.ambs.remove(i);
        }
    }

    /// Integrate out state indices (Schur complement) and drop them from the matrices.
    fn marginalize(&mut self, idx: &[usize]) {
        if idx.is_empty() {
            return;
        }
        let n = self.n();
        let keep: Vec<usize> = (0..n).filter(|i| !idx.contains(i)).collect();
        let m = idx.len();
        let mut lmm = DMatrix::zeros(m, m);
        for (a, &i) in idx.iter().enumerate() {
            for (b, &j) in idx.iter().enumerate() {
                lmm[(a, b)] = self.lam[(i, j)];
            }
        }
        let inv = invert_spd(&lmm);
        let mut lkm = DMatrix::zeros(keep.len(), m);
        for (a, &i) in keep.iter().enumerate() {
            for (b, &j) in idx.iter().enumerate() {
                lkm[(a, b)] = self.lam[(i, j)];
            }
        }
        let em = DVector::from_iterator(m, idx.iter().map(|&i| self.eta[i]));
        let g = &lkm * inv;
        let mut lam = DMatrix::zeros(keep.len(), keep.len());
        for (a, &i) in keep.iter().enumerate() {
            for (b, &j) in keep.iter().enumerate() {
                lam[(a, b)] = self.lam[(i, j)];
            }
        }
        lam -= &g * lkm.transpose();
        let mut eta = DVector::from_iterator(keep.len(), keep.iter().map(|&i| self.eta[i]));
        eta -= &g * em;
        self.lam = lam;
        self.eta = eta;
    }

    /// Drop state indices without integrating (they carried no information).
    fn drop_indices(&mut self, idx: &[usize]) {
        let n = self.n();
        let keep: Vec<usize> = (0..n).filter(|i| !idx.contains(i)).collect();
        self.lam = DMatrix::from_fn(keep.len(), keep.len(), |a, b| self.lam[(keep[a], keep[b])]);
        self.eta = DVector::from_iterator(keep.len(), keep.iter().map(|&i| self.eta[i]));
    }

    /// Time update of position and velocity over `dt` with white acceleration noise
    /// `q_enu` (m²/s³ east, north, up) in the local frame `rot` (ECEF → ENU).
    pub fn predict(&mut self, dt: f64, q_enu: [f64; 3], rot: &Matrix3<f64>) {
        if self.k != 6 || dt <= 0.0 {
            return;
        }
        let n = self.n();
        let qd = Matrix3::from_diagonal(&Vector3::from(q_enu));
        let qe = rot.transpose() * qd * rot;
        // Q of [p, v] for white acceleration: [[dt³/3, dt²/2], [dt²/2, dt]] ⊗ qe.
        let mut q = nalgebra::Matrix6::<f64>::zeros();
        let (a, b, c) = (dt.powi(3) / 3.0, dt * dt / 2.0, dt);
        for i in 0..3 {
            for j in 0..3 {
                q[(i, j)] = a * qe[(i, j)];
                q[(i, j + 3)] = b * qe[(i, j)];
                q[(i + 3, j)] = b * qe[(i, j)];
                q[(i + 3, j + 3)] = c * qe[(i, j)];
            }
        }
        let Some(qi) = q.try_inverse() else { return };
        let mut f = nalgebra::Matrix6::<f64>::identity();
        for i in 0..3 {
            f[(i, i + 3)] = dt;
        }
        let lkk = self.lam.view((0, 0), (6, 6)).into_owned();
        let lkk6 = nalgebra::Matrix6::from_fn(|i, j| lkk[(i, j)]);
        let a_mat = lkk6 + f.transpose() * qi * f;
        let Some(ai) = a_mat.try_inverse() else {
            return;
        };
        let qf = qi * f;
        let new_kk = qi - qf * ai * qf.transpose();
        let na = n - 6;
        let lka = self.lam.view((0, 6), (6, na)).into_owned();
        let ai_d = DMatrix::from_fn(6, 6, |i, j| ai[(i, j)]);
        let qf_d = DMatrix::from_fn(6, 6, |i, j| qf[(i, j)]);
        let ai_lka = &ai_d * &lka;
        let new_ka = &qf_d * &ai_lka;
        let drop_aa = lka.transpose() * &ai_lka;
        let ek = self.eta.rows(0, 6).into_owned();
        let ai_ek = &ai_d * &ek;
        let new_ek = &qf_d * &ai_ek;
        let new_ea = self.eta.rows(6, na) - lka.transpose() * ai_ek;
        for i in 0..6 {
            for j in 0..6 {
                self.lam[(i, j)] = new_kk[(i, j)];
            }
            self.eta[i] = new_ek[i];
        }
        self.lam.view_mut((0, 6), (6, na)).copy_from(&new_ka);
        self.lam
            .view_mut((6, 0), (na, 6))
            .copy_from(&new_ka.transpose());
        // The ambiguity block loses its part in place, column by column (nalgebra's general
        // difference of two views walks them element by element through strides).
        let lam = self.lam.as_mut_slice();
        for (j, d) in drop_aa.as_slice().chunks_exact(na.max(1)).enumerate() {
            let col = &mut lam[(6 + j) * n + 6..(6 + j + 1) * n];
            for (x, y) in col.iter_mut().zip(d) {
                *x -= y;
            }
        }
        self.eta.rows_mut(6, na).copy_from(&new_ea);
    }

    /// Add one epoch's rows, eliminating each clock group. `nclock` is the number of groups.
    pub fn update(&mut self, rows: &[Row], nclock: usize) {
        let k = self.k;
        // Per clock group: Σw, the sparse Σw·h (position part and ambiguity entries), Σw·z.
        let mut sw = vec![0.0; nclock];
        let mut swp = vec![Vector3::<f64>::zeros(); nclock];
        // (group, state index, w·λ) of every phase row, in row order.
        let mut swa: Vec<(usize, usize, f64)> = Vec::with_capacity(rows.len());
        let mut swz = vec![0.0; nclock];
        for r in rows {
            let w = 1.0 / r.var;
            let wu = w * r.unit;
            let g = r.clock;
            sw[g] += w;
            swp[g] += wu;
            swz[g] += w * r.z;
            for i in 0..3 {
                for j in 0..3 {
                    self.lam[(i, j)] += wu[i] * r.unit[j];
                }
                self.eta[i] += wu[i] * r.z;
            }
            if let Some(a) = r.amb {
                let l = self.ambs[a].lambda;
                let j = k + a;
                for i in 0..3 {
                    self.lam[(i, j)] += wu[i] * l;
                    self.lam[(j, i)] += wu[i] * l;
                }
                self.lam[(j, j)] += w * l * l;
                self.eta[j] += w * l * r.z;
                swa.push((g, j, w * l));
            }
        }
        let mut idx: Vec<usize> = Vec::with_capacity(rows.len() + 3);
        let mut val: Vec<f64> = Vec::with_capacity(rows.len() + 3);
        for g in 0..nclock {
            if sw[g] <= 0.0 {
                continue;
            }
            // The group's column of the clock, over [position, its ambiguities].
            idx.clear();
            val.clear();
            idx.extend([0, 1, 2]);
            val.extend([swp[g].x, swp[g].y, swp[g].z]);
            for &(_, j, v) in swa.iter().filter(|a| a.0 == g) {
                idx.push(j);
                val.push(v);
            }
            let inv = 1.0 / sw[g];
            for (a, &i) in idx.iter().enumerate() {
                let va = val[a] * inv;
                for (b, &j) in idx.iter().enumerate() {
                    self.lam[(i, j)] -= va * val[b];
                }
                self.eta[i] -= va * swz[g];
            }
        }
    }

    /// Solve with `refs` as each group's reference ambiguity (index into `ambs`); groups
    /// without one listed take their first member. The double differences of `float_only`
    /// systems are integrated out with the references: the covariance (the costly part) then
    /// covers only what an integer search can use.
    pub fn solve(&self, preferred: &[(GroupKey, usize)], float_only: &[Gnss]) -> Option<Solved> {
        solve(self, preferred, float_only)
    }

    /// Move the reference point by the estimate: position to the solution, ambiguities by whole
    /// cycles, so that the states stay near zero.
    pub fn recenter(&mut self, x: &DVector<f64>) {
        let k = self.k;
        let n = self.n();
        let dp = Vector3::new(x[0], x[1], x[2]);
        let mut shift = DVector::zeros(n);
        for i in 0..3 {
            shift[i] = dp[i];
        }
        for (i, a) in self.ambs.iter_mut().enumerate() {
            let r = x[k + i].round();
            if r != 0.0 {
                shift[k + i] = r;
                a.base += r;
            }
        }
        self.eta -= &self.lam * &shift;
        self.origin += dp;
    }

    /// Move the position reference point by `shift` (m) without changing the estimate.
    pub fn move_origin(&mut self, shift: Vector3<f64>) {
        for i in 0..3 {
            for r in 0..self.n() {
                self.eta[r] -= self.lam[(r, i)] * shift[i];
            }
        }
        self.origin += shift;
    }

    /// Constrain double differences to integers (fix-and-hold): `(amb, reference, value)`
    /// with `value` the integer double difference of the full ambiguities.
    pub fn hold(&mut self, fixes: &[(usize, usize, f64)], var_cycles: f64) {
        let k = self.k;
        let w = 1.0 / var_cycles;
        for &(a, r, value) in fixes {
            let z = value - (self.ambs[a].base - self.ambs[r].base);
            let (i, j) = (k + a, k + r);
            self.lam[(i, i)] += w;
            self.lam[(j, j)] += w;
            self.lam[(i, j)] -= w;
            self.lam[(j, i)] -= w;
            self.eta[i] += w * z;
            self.eta[j] -= w * z;
        }
    }
}

wide_kernel! {
    fn solve(f: &Filter, preferred: &[(GroupKey, usize)], float_only: &[Gnss]) -> Option<Solved> = solve_body;
}

#[inline(always)]
fn solve_body(f: &Filter, preferred: &[(GroupKey, usize)], float_only: &[Gnss]) -> Option<Solved> {
    let k = f.k;
    let n = f.n();
    let mut refs: Vec<(GroupKey, usize)> = preferred.to_vec();
    for (i, a) in f.ambs.iter().enumerate() {
        let g = (a.key.sys, a.key.band);
        if !refs.iter().any(|(h, _)| *h == g) {
            refs.push((g, i));
        }
    }
    let group_of = |i: usize| {
        let a = &f.ambs[i];
        refs.iter()
            .position(|(g, _)| *g == (a.key.sys, a.key.band))
            .unwrap_or(0)
    };
    // Change of variables: the reference's column becomes the sum of its group's columns.
    let mut m = f.lam.clone();
    let mut e = f.eta.clone();
    let groups: Vec<usize> = (0..f.ambs.len()).map(group_of).collect();
    for (gi, (_, r)) in refs.iter().enumerate() {
        let rj = k + r;
        let members: Vec<usize> = (0..f.ambs.len())
            .filter(|&i| groups[i] == gi && i != *r)
            .map(|i| k + i)
            .collect();
        for &j in &members {
            for row in 0..n {
                let v = m[(row, j)];
                m[(row, rj)] += v;
            }
        }
        for &j in &members {
            for col in 0..n {
                let v = m[(j, col)];
                m[(rj, col)] += v;
            }
            e[rj] += e[j];
        }
    }
    let mut ref_idx: Vec<usize> = refs.iter().map(|(_, r)| k + r).collect();
    let nrefs = ref_idx.len();
    let floats: Vec<usize> = (0..f.ambs.len())
        .filter(|&i| float_only.contains(&f.ambs[i].key.sys))
        .map(|i| k + i)
        .filter(|j| !ref_idx[..nrefs].contains(j))
        .collect();
    ref_idx.extend(floats);
    let rest: Vec<usize> = (0..n).filter(|i| !ref_idx.contains(i)).collect();
    let nr = ref_idx.len();
    let mrr = DMatrix::from_fn(nr, nr, |a, b| m[(ref_idx[a], ref_idx[b])]);
    let mrr_inv = invert_spd(&mrr);
    let msr = DMatrix::from_fn(rest.len(), nr, |a, b| m[(rest[a], ref_idx[b])]);
    let er = DVector::from_iterator(nr, ref_idx.iter().map(|&i| e[i]));
    let g = &msr * &mrr_inv;
    let mss = DMatrix::from_fn(rest.len(), rest.len(), |a, b| m[(rest[a], rest[b])])
        - &g * msr.transpose();
    let es = DVector::from_iterator(rest.len(), rest.iter().map(|&i| e[i])) - &g * &er;
    let l = cholesky(mss)?;
    let mut xd = es;
    cholesky_solve(&l, xd.as_mut_slice());
    let cov = cholesky_inverse(&l);
    if !xd.iter().all(|v| v.is_finite()) {
        return None;
    }
    // Back to single differences: the references from their conditional, then each member
    // as its difference plus its reference.
    let xr = &mrr_inv * (er - msr.transpose() * &xd);
    let mut x = DVector::zeros(n);
    for (a, &i) in rest.iter().enumerate() {
        x[i] = xd[a];
    }
    for (b, &i) in ref_idx.iter().enumerate() {
        x[i] = xr[b];
    }
    for i in 0..f.ambs.len() {
        let r = refs[groups[i]].1;
        if i != r {
            x[k + i] += x[k + r];
        }
    }
    let dd: Vec<usize> = rest.iter().filter(|&&i| i >= k).map(|&i| i - k).collect();
    Some(Solved {
        x,
        refs,
        dd,
        cov,
        xd,
    })
}

wide_kernel! {
    /// The Cholesky factor of a symmetric positive definite matrix, in place: its lower triangle
    /// becomes `L` with `L Lᵀ = m` (the strict upper triangle is left as it was). Left-looking by
    /// columns, so that every inner loop runs down a contiguous column. `None` when a pivot is not
    /// positive.
    pub(super) fn cholesky(m: DMatrix<f64>) -> Option<DMatrix<f64>> = cholesky_body;
}

#[inline(always)]
fn cholesky_body(mut m: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let n = m.nrows();
    let a = m.as_mut_slice();
    for j in 0..n {
        let (done, rest) = a.split_at_mut(j * n);
        let cj = &mut rest[j..n];
        for k in 0..j {
            let ck = &done[k * n + j..(k + 1) * n];
            let ljk = ck[0];
            if ljk == 0.0 {
                continue;
            }
            for (x, y) in cj.iter_mut().zip(ck) {
                *x -= ljk * y;
            }
        }
        let d = cj[0];
        if !(d > 0.0 && d.is_finite()) {
            return None;
        }
        let s = d.sqrt();
        cj[0] = s;
        let inv = 1.0 / s;
        for x in &mut cj[1..] {
            *x *= inv;
        }
    }
    Some(m)
}

wide_kernel! {
    /// Solves `L Lᵀ x = b` in place for a factor from [`cholesky`].
    pub(super) fn cholesky_solve(l: &DMatrix<f64>, b: &mut [f64]) = cholesky_solve_body;
}

#[inline(always)]
fn cholesky_solve_body(l: &DMatrix<f64>, b: &mut [f64]) {
    let n = l.nrows();
    let ls = l.as_slice();
    for j in 0..n {
        let col = &ls[j * n + j..(j + 1) * n];
        b[j] /= col[0];
        let v = b[j];
        for (x, y) in b[j + 1..].iter_mut().zip(&col[1..]) {
            *x -= v * y;
        }
    }
    for j in (0..n).rev() {
        let col = &ls[j * n + j..(j + 1) * n];
        let dot: f64 = col[1..].iter().zip(&b[j + 1..]).map(|(y, x)| y * x).sum();
        b[j] = (b[j] - dot) / col[0];
    }
}

wide_kernel! {
    /// `(L Lᵀ)⁻¹` from the Cholesky factor `L` (lower part of `l` used): `L⁻¹` by forward
    /// substitution, then `L⁻ᵀ L⁻¹`, each a sixth of n³ where a general solve against the identity
    /// costs n³. Column-major slices keep the inner loops contiguous.
    fn cholesky_inverse(l: &DMatrix<f64>) -> DMatrix<f64> = cholesky_inverse_body;
}

#[inline(always)]
fn cholesky_inverse_body(l: &DMatrix<f64>) -> DMatrix<f64> {
    let n = l.nrows();
    let ls = l.as_slice();
    // Column j of L⁻¹, rows j..n: L x = eⱼ by columns of L.
    let mut inv = vec![0.0; n * n];
    for j in 0..n {
        let x = &mut inv[j * n..(j + 1) * n];
        x[j] = 1.0;
        for kk in j..n {
            let col = &ls[kk * n + kk..(kk + 1) * n];
            x[kk] /= col[0];
            let v = x[kk];
            if v == 0.0 {
                continue;
            }
            for (xi, y) in x[kk + 1..].iter_mut().zip(&col[1..]) {
                *xi -= v * y;
            }
        }
    }
    // L⁻ᵀ L⁻¹ as the sum over rows k of L⁻¹ of their outer products, k ascending: each
    // element adds its terms in the order of a dot product down the columns, while the inner
    // loop runs along a contiguous row.
    // The sums gather in `out[i*n + j]`, j ≤ i; the other half is mirrored from them after.
    let mut out = vec![0.0; n * n];
    let mut row = vec![0.0; n];
    for k in 0..n {
        for (i, r) in row[..=k].iter_mut().enumerate() {
            *r = inv[i * n + k];
        }
        for i in 0..=k {
            let ri = row[i];
            for (x, rj) in out[i * n..i * n + i + 1].iter_mut().zip(&row[..=i]) {
                *x += ri * rj;
            }
        }
    }
    for i in 0..n {
        for j in 0..i {
            out[j * n + i] = out[i * n + j];
        }
    }
    DMatrix::from_vec(n, n, out)
}

/// Inverse of a small symmetric positive (semi)definite matrix; a tiny diagonal load keeps a
/// state that carries no information from dividing by zero.
fn invert_spd(m: &DMatrix<f64>) -> DMatrix<f64> {
    if let Some(l) = cholesky(m.clone()) {
        return cholesky_inverse(&l);
    }
    let mut l = m.clone();
    for i in 0..l.nrows() {
        l[(i, i)] += 1e-12 + l[(i, i)].abs() * 1e-9;
    }
    cholesky(l)
        .map(|l| cholesky_inverse(&l))
        .unwrap_or_else(|| DMatrix::zeros(m.nrows(), m.ncols()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_inverse_inverts() {
        let a = DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0]);
        let l = cholesky(a.clone()).unwrap();
        let inv = cholesky_inverse(&l);
        assert!((&a * inv - DMatrix::identity(3, 3)).norm() < 1e-12);
        let mut x = vec![1.0, -2.0, 0.5];
        cholesky_solve(&l, &mut x);
        let back = &a * DVector::from_vec(x);
        assert!((back - DVector::from_vec(vec![1.0, -2.0, 0.5])).norm() < 1e-12);
        assert!(cholesky(DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0])).is_none());
    }

    /// One satellite pair seen by a static rover: the double difference and the position come
    /// back from noiseless single differences.
    #[test]
    fn recovers_position_and_double_difference() {
        let mut f = Filter::new(false);
        f.restart_position(Vector3::zeros(), 30.0, 1.0);
        let units = [
            Vector3::new(0.3, 0.4, -0.866),
            Vector3::new(-0.5, 0.1, -0.86),
            Vector3::new(0.1, -0.6, -0.79),
            Vector3::new(-0.2, -0.3, -0.93),
            Vector3::new(0.7, -0.1, -0.7),
        ];
        let truth = Vector3::new(0.12, -0.05, 0.3);
        let lambda = 0.19;
        let n_true = [3.0, -2.0, 7.0, 1.0, 0.0];
        for (i, _) in units.iter().enumerate() {
            f.add_amb(
                AmbKey {
                    sys: Gnss::Gps,
                    prn: i as u8 + 1,
                    band: 1,
                },
                0.0,
                lambda,
                100.0,
                0.0,
            );
        }
        let clock = 12.5;
        let mut rows = Vec::new();
        for (i, u) in units.iter().enumerate() {
            rows.push(Row {
                unit: *u,
                amb: Some(i),
                clock: 0,
                z: u.dot(&truth) + lambda * n_true[i] + clock,
                var: 1e-6,
            });
            rows.push(Row {
                unit: *u,
                amb: None,
                clock: 1,
                z: u.dot(&truth) + 3.0,
                var: 1e-2,
            });
        }
        f.update(&rows, 2);
        let s = f.solve(&[((Gnss::Gps, 1), 4)], &[]).unwrap();
        let p = Vector3::new(s.x[0], s.x[1], s.x[2]);
        assert!((p - truth).norm() < 1e-3, "{p} against {truth}");
        for (a, &i) in s.dd.iter().enumerate() {
            let dd = s.xd[3 + a];
            assert!((dd - (n_true[i] - n_true[4])).abs() < 1e-3, "{i}: {dd}");
        }
    }
}
