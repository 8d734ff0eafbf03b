//! `corsd run` with `[reflection]`: a simulated station whose C/N0 carries a ground reflection
//! of known height, read as a recording at full speed across a GNSS day boundary of its data
//! time. The day it closes is analysed off the data path and its `reflection` points reach
//! VictoriaMetrics with the simulated reflector height, and the status page's JSON has them.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::servers::{
    VictoriaMetrics, assert_no_console_errors, check_config, chromium, corsd, curl, free_port,
    temp_dir,
};

/// The simulated reflector height (m).
const H: f64 = 2.35;

#[test]
fn the_daemon_writes_a_days_reflector_heights() {
    let dir = temp_dir("reflection-daemon");
    let file = dir.join("sim.rtcm3");
    // 2026-03-01 00:00 UTC to 2026-03-02 00:30 UTC at 30 s: the GPS midnight between closes
    // the first day.
    let out = corsd()
        .args([
            "simulate",
            "--msm",
            "7",
            "--start",
            "2026-03-01T00:00:00Z",
            "--duration",
            "88200",
            "--interval",
            "30",
            "--systems",
            "GREC",
            "--reflector",
            "2.35",
            "-o",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let vm = VictoriaMetrics::start("reflection");
    let health = format!("127.0.0.1:{}", free_port());
    let config = dir.join("corsd.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "{d}"
[station]
name = "VTE1"

[[source]]
kind = "file"
name = "rx"
path = "{file}"
speed = 0.0
date = "2026-03-01"

[influx]
url = "{url}"
api = "v2"
org = "forestry"
bucket = "cors"
batch_interval = "200ms"

[health]
listen = "{health}"

[reflection]
elevation = [5, 25]
rh = [0.5, 6]
azimuth = [0, 180, 360]
# The simulator bends no signal: its elevations are geometric.
refraction = false
"#,
            d = dir.display(),
            file = file.display(),
            url = vm.url(),
        ),
    )
    .unwrap();
    let check = check_config(&config);
    let said = String::from_utf8_lossy(&check.stdout).to_string();
    assert!(
        check.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(said.contains("reflector heights daily"), "{said}");

    let log = dir.join("log");
    let mut daemon = corsd()
        .args(["run", "-c"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let logged = || std::fs::read_to_string(&log).unwrap_or_default();
    // Two spans: the whole first day, and the half hour after it the file ends in.
    let t0 = Instant::now();
    while logged().matches("reflector heights analysed").count() < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(150),
            "no analysis logged:\n{}",
            logged()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(2));

    let arcs = vm.export_at_least("reflection_rh_m", 100);
    let mut per_signal: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for (_, labels, _, rh) in &arcs {
        let signal = labels
            .iter()
            .find(|(k, _)| k == "signal")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let err = (rh - H).abs();
        let e = per_signal.entry(signal).or_default();
        e.0 += 1;
        e.1 = e.1.max(err);
    }
    for (sig, (n, worst)) in &per_signal {
        eprintln!("{sig:<7} {n:>4} arcs, worst error {worst:.5} m");
    }
    let line = logged()
        .lines()
        .find(|l| l.contains("reflector heights analysed"))
        .unwrap_or_default()
        .to_string();
    eprintln!("{line}");
    assert!(arcs.len() >= 100, "{} arcs\n{}", arcs.len(), logged());
    for sys in ['G', 'E', 'C'] {
        assert!(
            per_signal.keys().any(|k| k.starts_with(sys)),
            "no arc of {sys}: {per_signal:?}"
        );
    }
    // Within 1 cm, to the resolution of the periodogram's grid (steps of about 5 mm).
    for (sig, (_, worst)) in &per_signal {
        assert!(
            *worst <= 0.0105,
            "{sig}: an arc {worst:.3} m off the reflector"
        );
    }
    // The daily medians per sector, at the day's start.
    let medians = vm.export("reflection_rh_median_m");
    let day = medians
        .iter()
        .filter(|(_, _, t, _)| *t == 1_772_323_200_000 - 18_000)
        .collect::<Vec<_>>();
    assert_eq!(day.len(), 2, "{medians:?}");
    for (_, labels, _, m) in day {
        assert!((m - H).abs() <= 0.0105, "{labels:?}: median {m}");
    }

    // The status page's history has the day's arcs and medians.
    let (code, body) = curl(&[&format!("http://{health}/history.json?view=day")]);
    assert_eq!(code, 200);
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    let refl = &h["reflection"];
    assert!(
        refl["arcs"].as_array().is_some_and(|a| a.len() >= 100),
        "{refl}"
    );
    assert!(
        refl["days"].as_array().is_some_and(|d| !d.is_empty()),
        "{refl}"
    );

    // The status page draws them: a dot per arc in both plots, a line per sector.
    let url = format!("http://{health}/");
    let (dom, console) = chromium(&dir.join("profile"), &["--dump-dom"], &url);
    assert_no_console_errors(&[&console]);
    let panel = |id: &str| {
        let at = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id}"));
        let rest = &dom[at..];
        rest[..rest.find("</svg>").unwrap_or(rest.len())].to_string()
    };
    let az = panel("reflection-az");
    let time = panel("reflection-time");
    assert!(az.matches("class=\"arc\"").count() >= 100, "{az}");
    assert!(time.matches("class=\"arc\"").count() >= 100);
    assert!(time.matches("class=\"median\"").count() >= 2, "{time}");
    assert!(!dom.contains("id=\"reflection-row\" hidden"));

    daemon.kill().unwrap();
    daemon.wait().unwrap();
}
