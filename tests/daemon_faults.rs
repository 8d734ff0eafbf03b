//! The daemon under faults, against a real VictoriaMetrics on 127.0.0.1: the database is killed
//! (SIGKILL, so it loses the points it acknowledged in its last seconds, which it held in memory),
//! is down for two minutes during a live run and comes back on the same port; corsd is killed with
//! SIGKILL mid-run and started again. Afterwards every point is in the database exactly once, with the
//! value a replay of the same recording computes.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::servers::{
    VictoriaMetrics, corsd, curl, free_port, parse_lines, read_series, temp_dir,
};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

fn start(config: &std::path::Path, log: &std::path::Path) -> Child {
    corsd()
        .args(["run", "-c"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
        .spawn()
        .unwrap()
}

fn metric(health: &str, name: &str) -> Option<f64> {
    let (_, body) = curl(&[&format!("http://{health}/metrics")]);
    body.lines()
        .find(|l| l.starts_with(&format!("corsd_{name}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn database_outage_and_sigkill_lose_nothing_and_duplicate_nothing() {
    let dir = temp_dir("faults");
    // What the daemon must end up writing: the replay of the same file.
    let series = dir.join("expected");
    let out = corsd()
        .args([
            "replay",
            "--station",
            "STR2",
            "--station-pos=-4467075.2780,2683011.8519,-3667007.0103",
            "--series",
        ])
        .arg(&series)
        .arg(common::data_file(STR24))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = parse_lines(&read_series(&series));

    let mut vm = VictoriaMetrics::start("faults");
    let health = format!("127.0.0.1:{}", free_port());
    let config = dir.join("corsd.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}

[[source]]
kind = "file"
name = "replay"
path = "{file}"
speed = 10.0

[influx]
url = "{url}"
api = "v2"
org = "forestry"
bucket = "cors"
batch_interval = "500ms"

[health]
listen = "{health}"
"#,
            d = dir.display(),
            file = common::data_file(STR24).display(),
            url = vm.url(),
        ),
    )
    .unwrap();
    let log = dir.join("corsd.log");
    let mut daemon = start(&config, &log);
    std::thread::sleep(Duration::from_secs(20));
    // SIGKILL: no flush, no goodbye. What was accepted is in the spool.
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let mut daemon = start(&config, &log);
    std::thread::sleep(Duration::from_secs(20));
    vm.stop();
    std::thread::sleep(Duration::from_secs(120));
    let errors_while_down = metric(&health, "write_errors_total").unwrap_or(0.0);
    vm.restart();
    // Wait for the file to end and the spool to drain.
    let t0 = Instant::now();
    loop {
        let (_, h) = curl(&[&format!("http://{health}/healthz")]);
        let finished = h.contains("\"finished\"");
        let spool = metric(&health, "spool_bytes").unwrap_or(1.0);
        if finished && spool == 0.0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(240),
            "the spool did not drain: {h}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    let status = daemon.wait().unwrap();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{log_text}");
    assert!(
        errors_while_down >= 3.0,
        "writes failed while the database was down: {errors_while_down}\n{log_text}"
    );
    assert!(log_text.contains("database write failed"), "{log_text}");
    assert!(log_text.contains("succeed again"), "{log_text}");
    // What the killed database had acknowledged just before went again.
    assert!(
        log_text.contains("acknowledged just before the outage were sent again"),
        "{log_text}"
    );

    let mut expect: BTreeMap<(String, Vec<(String, String)>, i64), f64> = BTreeMap::new();
    for l in &want {
        for (f, v) in &l.fields {
            expect.insert(
                (
                    format!("{}_{f}", l.measurement),
                    l.tags.clone(),
                    l.time_ns / 1_000_000,
                ),
                *v,
            );
        }
    }
    let got = vm.export_at_least("{station=\"STR2\"}", expect.len());
    let mut stored = BTreeMap::new();
    for (name, labels, ms, v) in got {
        let key = (name, labels, ms);
        assert!(
            stored.insert(key.clone(), v).is_none(),
            "stored twice: {key:?}"
        );
    }
    let missing: Vec<_> = expect
        .keys()
        .filter(|k| !stored.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = stored
        .keys()
        .filter(|k| !expect.contains_key(*k))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    for (k, v) in &stored {
        let x = expect[k];
        assert!(
            (x - v).abs() <= 1e-9 * x.abs().max(1.0),
            "{k:?}: {x} vs {v}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
