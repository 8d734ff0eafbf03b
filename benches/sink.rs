//! Time series into a real VictoriaMetrics started on 127.0.0.1 by the bench:
//!
//! * `influx_sink/300k points`: points per second through the whole sink — line protocol, the
//!   on-disk spool (append, checksum, read back, acknowledge) and `/api/v2/write` — until the
//!   server acknowledged every batch.
//! * `replay_into_vm/24 h at 1 Hz`: a day of a 1 Hz MSM4 station (simulated, seeded: the same
//!   bytes every run) through the full replay pipeline (framing, decoding, epochs, SPP, points)
//!   into VictoriaMetrics. Under `cargo test` (criterion's test mode) one hour stands in for the
//!   day, so that the bench is checked without taking a minute.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corsd::simulate::{SimConfig, Simulator};
use corsd::sinks::series::SinkStatus;
use corsd::sinks::series::influx::run;
use corsd::sinks::series::influx::{InfluxApi, InfluxSettings};
use corsd::station::pipeline::{Output, Pipeline, PipelineConfig};
use corsd::telemetry::Point;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

struct Vm {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Vm {
    fn start() -> Vm {
        let bin = "/usr/bin/victoria-metrics";
        assert!(
            std::path::Path::new(bin).is_file(),
            "victoria-metrics is not installed: run scripts/test.sh --install"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = std::env::temp_dir().join(format!("corsd-bench-vm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let child = Command::new(bin)
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg(format!("-storageDataPath={}", dir.display()))
            .args([
                "-retentionPeriod=100y",
                "-dedup.minScrapeInterval=1ms",
                "-loggerLevel=ERROR",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start victoria-metrics");
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "victoria-metrics did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Vm { child, port, dir }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn settings(vm: &Vm, spool: PathBuf) -> InfluxSettings {
    InfluxSettings {
        url: format!("http://127.0.0.1:{}", vm.port),
        api: InfluxApi::V2,
        org: "bench".into(),
        bucket: "bench".into(),
        token: None,
        db: String::new(),
        rp: None,
        user: None,
        password: None,
        spool_dir: spool,
        spool_max_bytes: 1 << 32,
        spool_max_age: Duration::from_secs(86400),
        batch_points: 5000,
        batch_bytes: 1 << 20,
        batch_interval: Duration::from_millis(200),
    }
}

/// Push batches through the sink and wait until the server acknowledged all of them.
fn through_sink(rt: &tokio::runtime::Runtime, s: InfluxSettings, batches: Vec<Vec<Point>>) -> u64 {
    let _ = std::fs::remove_dir_all(&s.spool_dir);
    let status = Arc::new(SinkStatus::default());
    let st = status.clone();
    rt.block_on(async move {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let (_stop, stop_rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(s, rx, st, stop_rx, true));
        for b in batches {
            tx.send(b).await.expect("sink alive");
        }
        drop(tx);
        task.await.expect("sink task").expect("sink");
    });
    status
        .points_written
        .load(std::sync::atomic::Ordering::Relaxed)
}

fn synthetic_points(n: usize) -> Vec<Vec<Point>> {
    let t0 = 1_780_000_000_000_000_000i64;
    (0..n)
        .map(|i| {
            Point::new("satellite", t0 + (i / 100) as i64 * 1_000_000_000)
                .tag("station", "BNCH")
                .tag("sys", "C")
                .tag("sat", format!("C{:02}", i % 50 + 1))
                .tag("signal", if i % 100 < 50 { "2I" } else { "6I" })
                .field("cn0", 40.0 + (i % 13) as f64)
                .field("lock_s", (i % 1000) as f64)
                .field("slip", 0i64)
                .field("el", 45.5)
                .field("az", 180.25)
        })
        .collect::<Vec<_>>()
        .chunks(1000)
        .map(|c| c.to_vec())
        .collect()
}

fn station_day(hours: u32) -> Vec<u8> {
    let cfg = SimConfig {
        epochs: hours * 3600,
        noise: true,
        atmosphere: true,
        ..Default::default()
    };
    let mut sim = Simulator::new(cfg);
    let mut bytes = Vec::new();
    while let Some(f) = sim.next_epoch() {
        for x in f {
            bytes.extend_from_slice(&x);
        }
    }
    bytes
}

fn bench(c: &mut Criterion) {
    let test_mode = std::env::args().any(|a| a == "--test");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let vm = Vm::start();
    let spool = std::env::temp_dir().join(format!("corsd-bench-spool-{}", std::process::id()));

    let n = 300_000;
    let points = synthetic_points(n);
    let mut g = c.benchmark_group("influx_sink");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("300k points to VictoriaMetrics", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batches = points.clone();
                let t = Instant::now();
                let written = through_sink(&rt, settings(&vm, spool.clone()), batches);
                total += t.elapsed();
                assert_eq!(written, n as u64);
            }
            total
        })
    });
    g.finish();

    let hours = if test_mode { 1 } else { 24 };
    let bytes = station_day(hours);
    let start = SimConfig::default().start;
    let position = SimConfig::default().position;
    let mut g = c.benchmark_group("replay_into_vm");
    g.sample_size(10);
    g.throughput(Throughput::Elements(hours as u64 * 3600));
    g.bench_function(format!("{hours} h at 1 Hz"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let mut pipeline = Pipeline::new(PipelineConfig {
                    station: "BNCH".into(),
                    source: "replay".into(),
                    truth: Some(position),
                    reference: Some(start),
                    ..Default::default()
                });
                let mut batches = Vec::new();
                let mut out = Output::default();
                for chunk in bytes.chunks(1 << 16) {
                    out.clear();
                    pipeline.push(chunk, &mut out);
                    batches.push(std::mem::take(&mut out.points));
                }
                out.clear();
                pipeline.finish(&mut out);
                batches.push(std::mem::take(&mut out.points));
                let sent: usize = batches.iter().map(Vec::len).sum();
                let written = through_sink(&rt, settings(&vm, spool.clone()), batches);
                assert_eq!(written as usize, sent);
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&spool);
}

criterion_group!(benches, bench);
criterion_main!(benches);
