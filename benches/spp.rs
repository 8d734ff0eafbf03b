//! Single point positioning speed: epochs per second on one core, on the project's simulated
//! station stream (GPS, GLONASS, Galileo, BeiDou, QZSS in the solution): every satellite in view
//! (~42), and 30 of them per epoch as the reference load.

use std::hint::black_box;
use std::path::PathBuf;

use corsd::gnss::spp::{SppOptions, solve};
use corsd::gnss::time::Gpst;
use corsd::station::state::StationState;
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

    // The reference load: ~30 satellites in 5 GNSS. The same epochs with 30 of their
    // satellites, taken from each system in turn.
    let thirty: Vec<_> = ready
        .iter()
        .map(|e| {
            let mut by_sys: std::collections::BTreeMap<_, Vec<_>> = Default::default();
            for s in &e.sats {
                by_sys.entry(s.sys).or_default().push(s.clone());
            }
            let mut sats = Vec::new();
            while sats.len() < 30 && by_sys.values().any(|v| !v.is_empty()) {
                for v in by_sys.values_mut() {
                    if sats.len() < 30
                        && let Some(s) = v.pop()
                    {
                        sats.push(s);
                    }
                }
            }
            corsd::gnss::obs::Epoch { time: e.time, sats }
        })
        .filter(|e| solve(e, &st.store, &opt, approx).is_some())
        .collect();
    let systems: std::collections::BTreeSet<_> = thirty
        .iter()
        .flat_map(|e| e.sats.iter().map(|s| s.sys))
        .collect();
    let mut g = c.benchmark_group(format!(
        "spp/30 satellites per epoch, {} GNSS",
        systems.len()
    ));
    g.throughput(Throughput::Elements(thirty.len() as u64));
    g.bench_function("corsd solve", |b| {
        b.iter(|| {
            for e in &thirty {
                black_box(solve(black_box(e), &st.store, &opt, approx));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
