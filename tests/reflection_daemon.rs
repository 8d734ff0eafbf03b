//! `corsd run` with `[reflection]`: a simulated station whose C/N0 carries a ground reflection
//! of known height, read as a recording at full speed across a GNSS day boundary of its data
//! time. The day it closes is analysed off the data path and its `reflection` points reach
//! VictoriaMetrics with the simulated reflector height, arc by arc the ones `corsd reflect`
//! finds in the same file, and the status page's JSON has them.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::servers::{
    VictoriaMetrics, assert_no_console_errors, check_config, chromium, corsd, curl, free_port,
    temp_dir,
};

/// The simulated reflector height (m).
const H: f64 = 2.35;

/// The first span: the GPS day of 2026-03-01 (Unix ms).
const DAY_START_MS: i64 = 1_772_323_200_000 - 18_000;
const DAY_END_MS: i64 = DAY_START_MS + 86_400_000;

type Exported = Vec<(String, Vec<(String, String)>, i64, f64)>;

fn label<'a>(labels: &'a [(String, String)], key: &str) -> &'a str {
    labels
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// The daemon's arcs of the first day are `corsd reflect`'s on the same file and bounds: per
/// system, the same arcs (satellite, signal, mid-arc within 5 min) with the same heights.
fn same_arcs_as_the_command(file: &std::path::Path, rh: &Exported, prn: &Exported) {
    let out = corsd()
        .args([
            "reflect",
            "--date",
            "2026-03-01",
            "--elev",
            "5,25",
            "--rh",
            "0.5,6",
        ])
        .args(["--no-refraction", "--json"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // (system letter, satellite, signal name, mid-arc ms, RH)
    let mut theirs = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let sat = v["sat"].as_str().unwrap().to_string();
        let t = chrono::DateTime::parse_from_rfc3339(v["time"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        if (DAY_START_MS..DAY_END_MS).contains(&t) {
            let signal = v["signal"].as_str().unwrap().to_string();
            theirs.push((
                sat[..1].to_string(),
                sat,
                signal,
                t,
                v["rh"].as_f64().unwrap(),
            ));
        }
    }
    let prn_at: BTreeMap<(String, i64), f64> = prn
        .iter()
        .map(|(_, l, t, v)| ((label(l, "signal").to_string(), *t), *v))
        .collect();
    let mut ours = Vec::new();
    for (_, labels, t, rh) in rh {
        if !(DAY_START_MS..DAY_END_MS).contains(t) {
            continue;
        }
        let signal = label(labels, "signal");
        let (sys, name) = signal.split_once('_').unwrap();
        let n = prn_at[&(signal.to_string(), *t)];
        ours.push((
            sys.to_string(),
            format!("{sys}{n:02}"),
            name.to_string(),
            *t,
            *rh,
        ));
    }
    // Per system: arcs of the daemon, of the command, matched, worst RH difference.
    let mut table: BTreeMap<String, (usize, usize, usize, f64)> = BTreeMap::new();
    for a in &theirs {
        table.entry(a.0.clone()).or_default().1 += 1;
    }
    for a in &ours {
        let row = table.entry(a.0.clone()).or_default();
        row.0 += 1;
        if let Some(b) = theirs
            .iter()
            .filter(|b| b.1 == a.1 && b.2 == a.2 && (b.3 - a.3).abs() <= 300_000)
            .min_by_key(|b| (b.3 - a.3).abs())
        {
            row.2 += 1;
            row.3 = row.3.max((a.4 - b.4).abs());
        }
    }
    eprintln!("system  daemon  reflect  matched  worst RH difference");
    for (sys, (n, m, k, d)) in &table {
        eprintln!("{sys:<6} {n:>7} {m:>8} {k:>8}  {d:.4} m");
    }
    for sys in ["G", "R", "E", "C"] {
        let (n, m, k, d) = table.get(sys).copied().unwrap_or_default();
        assert!(n > 0 && m > 0, "{sys}: {table:?}");
        assert!(k * 10 >= m * 9 && k * 10 >= n * 9, "{sys}: {table:?}");
        assert!(d <= 0.0105, "{sys}: {table:?}");
    }
}

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
    for sys in ['G', 'R', 'E', 'C'] {
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
    same_arcs_as_the_command(&file, &arcs, &vm.export("reflection_prn"));

    // The daily medians per sector, at the day's start.
    let medians = vm.export("reflection_rh_median_m");
    let day = medians
        .iter()
        .filter(|(_, _, t, _)| *t == DAY_START_MS)
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
