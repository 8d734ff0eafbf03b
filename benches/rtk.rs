//! RTK engine speed on the real pair (MANIFEST: rover STR1 = week-rollover-STR17, base STR2 =
//! week-rollover-STR24, igs05.atx, all systems, kinematic): the whole session of 1125 rover
//! epochs through a fresh engine, in epochs per second on one core. Reading and decoding the
//! recordings is left out (see scripts/measure-rtk.sh for the whole process against rnx2rtkp).

use std::hint::black_box;
use std::path::PathBuf;

use corsd::commands::rtk::input;
use corsd::gnss::antex::Antex;
use corsd::gnss::rtk::{Antennas, Rtk, RtkOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::Vector3;

fn data(rel: &str) -> PathBuf {
    let dir = std::env::var_os("CORSD_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let p = dir.join(rel);
    assert!(
        p.is_file(),
        "{} not found: check out the shared data beside the repository or set CORSD_TEST_DATA",
        p.display()
    );
    p
}

fn bench(c: &mut Criterion) {
    let rover = input::read(
        &data("rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3"),
        None,
    )
    .expect("rover");
    let base = input::read(
        &data("rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3"),
        None,
    )
    .expect("base");
    let mut store = rover.store.clone();
    for e in base.store.all() {
        store.insert(e.clone());
    }
    let text = std::fs::read_to_string(data("antex/tomojitakasu_RTKLIB/igs05.atx")).expect("atx");
    let antex = Antex::parse(&text).expect("ANTEX");
    let ant = Antennas {
        rover: antex.receiver("ASH701945C_M", "NONE").ok().cloned(),
        base: antex.receiver("LEIAR25.R3", "NONE").ok().cloned(),
        satellites: Some(std::sync::Arc::new(antex)),
    };
    let base_pos = Vector3::new(-4467075.2780, 2683011.8519, -3667007.0103);
    // Each rover epoch with the base epoch at or before it.
    let mut pairs = Vec::new();
    let mut j = 0;
    for e in &rover.epochs {
        while j + 1 < base.epochs.len() && base.epochs[j + 1].time <= e.time {
            j += 1;
        }
        if base.epochs[j].time <= e.time {
            pairs.push((e, &base.epochs[j]));
        }
    }
    let mut g = c.benchmark_group("rtk");
    g.sample_size(10);
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function("str1_str2_session", |b| {
        b.iter(|| {
            let mut engine = Rtk::new(RtkOptions::default(), base_pos, ant.clone());
            let mut fixed = 0;
            for (r, bs) in &pairs {
                if let Ok(s) = engine.process(r, bs, &store) {
                    fixed += (s.quality == corsd::gnss::rtk::Quality::Fixed) as usize;
                }
            }
            black_box(fixed)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
