//! LAMBDA integer search speed on the problems an RTK filter hands it: double-difference float
//! ambiguities on two frequencies for 10, 20 and 30 double differences, i.e. 20, 40 and 60
//! ambiguities, in two states of the filter:
//! * cold start, one epoch of code and phase: the float ambiguities are metre-level and almost
//!   perfectly correlated (the hardest case, and the one instantaneous AR meets every epoch);
//! * converged: the same epoch with the baseline already known to 1 cm, as a running filter
//!   hands it over epoch after epoch.
//!
//! The geometry and noise are drawn from a fixed seed, so every run measures the same problems.

use std::hint::black_box;

use corsd::gnss::lambda;
use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{DMatrix, DVector, Vector3};

/// A small deterministic generator (64-bit LCG, Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Float ambiguities (cycles) and their covariance after a least-squares epoch: state is the
/// baseline (3) and one ambiguity per double difference and frequency; code σ 0.3 m, phase σ
/// 3 mm, L1/L2 wavelengths; directions spread over the sky above 10°.
fn problem(rng: &mut Lcg, dd: usize, prior_sigma_m: Option<f64>) -> (DVector<f64>, DMatrix<f64>) {
    let lambdas = [0.190_293_672_798_364_9, 0.244_210_213_424_568_2];
    let n = dd * lambdas.len();
    let reference = Vector3::new(0.0, 0.0, 1.0);
    let mut info = DMatrix::<f64>::zeros(3 + n, 3 + n);
    for i in 0..dd {
        let el = (10.0 + 80.0 * rng.uniform()).to_radians();
        let az = std::f64::consts::TAU * rng.uniform();
        let los = Vector3::new(el.cos() * az.sin(), el.cos() * az.cos(), el.sin());
        let g = los - reference;
        for (f, lam) in lambdas.iter().enumerate() {
            let amb = 3 + f * dd + i;
            // Phase (m): gᵀb + λN; code (m): gᵀb.
            for (sigma, with_amb) in [(0.003, true), (0.3, false)] {
                let mut h = DVector::<f64>::zeros(3 + n);
                h.rows_mut(0, 3).copy_from(&g);
                if with_amb {
                    h[amb] = *lam;
                }
                info += &h * h.transpose() / (sigma * sigma);
            }
        }
    }
    if let Some(sigma) = prior_sigma_m {
        for k in 0..3 {
            info[(k, k)] += 1.0 / (sigma * sigma);
        }
    }
    // The information matrix is positive definite: three independent directions and every
    // ambiguity observed.
    let cov = info.cholesky().expect("positive definite").inverse();
    // Ambiguities in cycles: the state already is in cycles.
    let q = cov.view((3, 3), (n, n)).into_owned();
    let chol = q.clone().cholesky().expect("positive definite");
    let noise = DVector::from_fn(n, |_, _| rng.normal());
    let truth = DVector::from_fn(n, |_, _| (rng.uniform() * 2e6 - 1e6).round());
    let a = &truth + chol.l() * noise;
    (a, q)
}

fn bench(c: &mut Criterion) {
    let mut rng = Lcg(20);
    let mut g = c.benchmark_group("lambda");
    for (state, prior) in [("cold start", None), ("converged", Some(0.01))] {
        for dd in [10, 20, 30] {
            let problems: Vec<_> = (0..32).map(|_| problem(&mut rng, dd, prior)).collect();
            for (a, q) in &problems {
                // Every problem must be solvable, or the bench measures error paths.
                lambda::search(a, q, 2).expect("search");
            }
            let n = 2 * dd;
            g.bench_function(
                format!("search {n} ambiguities, 2 candidates, {state}"),
                |b| {
                    let mut i = 0;
                    b.iter(|| {
                        let (a, q) = &problems[i % problems.len()];
                        i += 1;
                        black_box(lambda::search(black_box(a), black_box(q), 2))
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
