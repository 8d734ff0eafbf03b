//! `corsd report` on a simulated day: a 24 h 1 Hz MSM7 station (seeded, with noise, slips and
//! ephemerides) from bytes to the finished HTML file. The issue asks for a full day under 10 s.
//! With `--test` (CI's smoke run) one hour stands in for the day.

use std::path::PathBuf;

use corsd::commands::report::{ReportArgs, run};
use corsd::simulate::{SimConfig, Simulator};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn write_day(path: &PathBuf, hours: u32) {
    let mut sim = Simulator::new(SimConfig {
        epochs: hours * 3600,
        msm: 7,
        noise: true,
        atmosphere: true,
        ..Default::default()
    });
    let mut bytes = Vec::new();
    while let Some(f) = sim.next_epoch() {
        for x in f {
            bytes.extend_from_slice(&x);
        }
    }
    std::fs::write(path, bytes).expect("write the simulated day");
}

fn bench(c: &mut Criterion) {
    let test_mode = std::env::args().any(|a| a == "--test");
    let hours = if test_mode { 1 } else { 24 };
    let dir = std::env::temp_dir().join(format!("corsd-bench-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("day.rtcm3");
    write_day(&input, hours);
    let args = ReportArgs {
        files: vec![input.clone()],
        from_archive: None,
        archive: PathBuf::from("/nonexistent"),
        station: Some("VTE1".into()),
        nav: Vec::new(),
        station_pos: None,
        systems: "GRECJ".into(),
        mask: 5.0,
        week: None,
        // The simulator's day (its stream has no 1013 to date it).
        date: Some(SimConfig::default().start.calendar().date_naive()),
        output: Some(dir.join("day.html")),
    };
    let mut g = c.benchmark_group("report");
    g.sample_size(10);
    g.throughput(Throughput::Elements(hours as u64 * 3600));
    g.bench_function(format!("{hours} h at 1 Hz MSM7"), |b| {
        b.iter(|| run(&args).expect("report"))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
