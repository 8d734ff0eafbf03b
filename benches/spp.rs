//! Single point positioning speed: epochs per second on one core, on the project's simulated
//! station stream (GPS, Galileo, BeiDou, QZSS in the solution; ~30 satellites per epoch).

use std::hint::black_box;
use std::path::PathBuf;

use corsd::gnss::spp::{SppOptions, solve};
use corsd::gnss::stream::StationState;
use corsd::gnss::time::Gpst;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/bench-mixed.rtcm3");
    let data = std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    let (frames, _) = corsd::framing::frames(&data);
    // The simulated stream starts 2026-03-01 and has no 1013: give the date.
    let mut st = StationState::new(Some(Gpst::from_date(
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("a valid date"),
    )));
    let mut epochs = Vec::new();
    for (_, bytes) in frames {
        if let Ok(m) = corsd::messages::rtcm3::decode(&bytes[3..bytes.len() - 3]) {
            epochs.extend(st.push(&m));
        }
    }
    let opt = SppOptions::default();
    // Keep the epochs that solve (after the first ephemerides arrived), with an approximate
    // position as the daemon has after its first fix.
    let approx = epochs
        .iter()
        .find_map(|e| solve(e, &st.store, &opt, None))
        .map(|s| s.position);
    let approx = approx.map(nalgebra::Vector3::from);
    let ready: Vec<_> = epochs
        .into_iter()
        .filter(|e| solve(e, &st.store, &opt, approx).is_some())
        .collect();
    assert!(ready.len() > 100, "{} epochs solve", ready.len());
    let sats: usize = ready.iter().map(|e| e.sats.len()).sum::<usize>() / ready.len();
    let mut g = c.benchmark_group(format!("spp/{sats} satellites per epoch"));
    g.throughput(Throughput::Elements(ready.len() as u64));
    g.bench_function("corsd solve", |b| {
        b.iter(|| {
            for e in &ready {
                black_box(solve(black_box(e), &st.store, &opt, approx));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
