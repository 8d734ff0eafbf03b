//! The integrity monitor in the live daemon: `corsd run` with base STR2 (week-rollover-STR24,
//! Trimble MSM4) as the station's file source, a caster mount with MSM4, and STR1
//! (week-rollover-STR17, Septentrio MSM7, about 70 m away) as the check receiver, both paced
//! across the GPS week rollover; the `rtk` points are read back from VictoriaMetrics.
//!
//! The station is configured with its SINEX coordinates, which the mount broadcasts in 1006 in
//! place of the receiver's own (those are in a plate-fixed datum 1.57 m away): the check
//! receiver's truth is therefore its SINEX coordinates too (marker plus its 4 mm eccentricity).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::servers::{
    VictoriaMetrics, assert_no_console_errors, chromium, curl, free_port, run_daemon, temp_dir,
};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
const STR17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";
const ATX: &str = "antex/tomojitakasu_RTKLIB/igs05.atx";
/// SINEX (MANIFEST): STR1 is the check receiver, STR2 the station; their markers, with the
/// ARP 4 mm (STR1) and 0 mm (STR2) above.
const STR1: [f64; 3] = [-4467103.2326, 2683039.4771, -3666948.7128];
const STR1_ECC_U: f64 = 0.0040;
const STR2: [f64; 3] = [-4467075.2780, 2683011.8519, -3667007.0103];
/// Data time is released this many times faster than real time (epochs 0.2 s apart).
const SPEED: f64 = 5.0;
/// The recordings span 19 min 8 s.
const SPAN_S: f64 = 1148.0;

/// The local up at Mount Stromlo (lat −35.3°, lon 149.0°): the ellipsoidal normal.
fn up() -> [f64; 3] {
    let (lat, lon) = (-35.316f64.to_radians(), 149.01f64.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// `p` moved `m` metres up.
fn raised(p: [f64; 3], m: f64) -> [f64; 3] {
    let u = up();
    [p[0] + m * u[0], p[1] + m * u[1], p[2] + m * u[2]]
}

#[test]
fn monitor_fixes_str1_against_the_msm4_mount_across_the_rollover() {
    let dir = temp_dir("monitor");
    let vm = VictoriaMetrics::start("monitor");
    let caster = free_port();
    let health = free_port();
    let known = raised(STR1, STR1_ECC_U);
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = {sx}, y = {sy}, z = {sz} }}
antenna = "LEIAR25.R3      NONE"
atx = "{atx}"

[[source]]
kind = "file"
name = "rx"
path = "{base}"
speed = {SPEED}

[influx]
url = "{url}"
api = "v2"
org = "forestry"
bucket = "cors"
batch_interval = "500ms"

[health]
listen = "127.0.0.1:{health}"

[[caster]]
listen = "127.0.0.1:{caster}"
[[caster.mount]]
name = "STR2_MSM4"
messages = "1006(10),1008(10),1019,1020,1042,1044,1045,1046,1230(10),1074(1),1084(1),1094(1),1124(1)"

[[monitor]]
name = "STR1"
mount = "STR2_MSM4"
position = {{ x = {kx}, y = {ky}, z = {kz} }}
max_wait_s = 20
[monitor.source]
kind = "file"
path = "{rover}"
speed = {SPEED}
"#,
        d = dir.display(),
        sx = STR2[0],
        sy = STR2[1],
        sz = STR2[2],
        kx = known[0],
        ky = known[1],
        kz = known[2],
        atx = common::data_file(ATX).display(),
        base = common::data_file(STR24).display(),
        rover = common::data_file(STR17).display(),
        url = vm.url(),
    );
    let _daemon = run_daemon(&dir, &config, caster);

    // Until the recordings end and the last points are stored.
    let t0 = Instant::now();
    let deadline = Duration::from_secs_f64(SPAN_S / SPEED + 120.0);
    let mut seen = 0;
    let mut still = 0;
    let mut metrics = String::new();
    loop {
        std::thread::sleep(Duration::from_secs(5));
        if metrics.is_empty() && t0.elapsed() > Duration::from_secs(60) {
            let (code, body) = curl(&[&format!("http://127.0.0.1:{health}/metrics")]);
            assert_eq!(code, 200);
            metrics = body;
            let (code, body) = curl(&[&format!("http://127.0.0.1:{health}/healthz")]);
            assert!(
                body.contains("\"kind\":\"monitor\"") && body.contains("\"fixed\""),
                "{code} {body}"
            );
        }
        let n = vm.export("rtk_fix").len();
        if n == seen && n > 0 && t0.elapsed().as_secs_f64() > SPAN_S / SPEED {
            still += 1;
            if still >= 3 {
                break;
            }
        } else {
            still = 0;
        }
        seen = n;
        assert!(
            t0.elapsed() < deadline,
            "{n} rtk points after {:?}: {}",
            t0.elapsed(),
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
    }
    assert!(
        metrics.contains("corsd_monitor_fix{station=\"STR2\",monitor=\"STR1\"}"),
        "{metrics}"
    );

    // Epochs by time: field → value.
    let mut epochs: BTreeMap<i64, BTreeMap<String, f64>> = BTreeMap::new();
    for (name, labels, ms, v) in vm.export("{__name__=~\"rtk_.*\"}") {
        let tags: BTreeMap<_, _> = labels.into_iter().collect();
        assert_eq!(tags.get("station").map(String::as_str), Some("STR2"));
        assert_eq!(tags.get("monitor").map(String::as_str), Some("STR1"));
        assert_eq!(
            tags.get("mountpoint").map(String::as_str),
            Some("STR2_MSM4")
        );
        epochs
            .entry(ms)
            .or_default()
            .insert(name.trim_start_matches("rtk_").to_string(), v);
    }
    let all: Vec<_> = epochs.values().collect();
    let first_fix = all
        .iter()
        .position(|e| e["fix"] == 1.0)
        .expect("no fixed solution");
    let after = &all[first_fix..];
    let fixed: Vec<_> = after.iter().filter(|e| e["fix"] == 1.0).collect();
    let pct = 100.0 * fixed.len() as f64 / after.len() as f64;
    let wrong = fixed
        .iter()
        .filter(|e| (e["de"].powi(2) + e["dn"].powi(2) + e["du"].powi(2)).sqrt() > 0.05)
        .count();
    let mean = |k: &str| fixed.iter().map(|e| e[k].abs()).sum::<f64>() / fixed.len() as f64;
    let (me, mn, mu) = (mean("de"), mean("dn"), mean("du"));
    let ttff = all[first_fix].get("ttff_s").copied().unwrap_or(f64::NAN);
    let baseline = all[first_fix]["baseline_m"];
    eprintln!(
        "monitor: {} solutions, first fix after {first_fix} (ttff {ttff:.0} s), {pct:.2} % fixed after it, {wrong} wrong, mean |E| {:.1} |N| {:.1} |U| {:.1} mm, baseline {baseline:.2} m",
        all.len(),
        me * 1e3,
        mn * 1e3,
        mu * 1e3
    );
    assert!(all.len() > 1000, "{} solutions", all.len());
    assert!(pct >= 99.0, "{pct:.2} % fixed after the first fix");
    assert_eq!(wrong, 0, "fixed solutions more than 5 cm from STR1");
    assert!(me <= 0.005 && mn <= 0.005, "mean |E| {me}, |N| {mn}");
    assert!(mu <= 0.010, "mean |U| {mu}");
    assert!((baseline - 70.0).abs() < 10.0, "baseline {baseline} m");
}

/// The line-protocol points the daemon wrote to its series files: (line, timestamp ns).
fn series_lines(dir: &std::path::Path) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir.join("series"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for l in text.lines() {
            if let Some(ts) = l.rsplit(' ').next().and_then(|t| t.parse().ok()) {
                out.push((l.to_string(), ts));
            }
        }
    }
    out
}

/// The station's configured coordinates moved 10 cm up: the mount broadcasts them, and the
/// check receiver's fixes, 10 cm high against its SINEX coordinates, raise the wrong-fix event
/// within 60 s of data. A mount that carries no observations raises the no-corrections event;
/// a GLONASS-only mount (float only) the fix-rate event once its window of data is seen. All
/// show on `/healthz` and on the status page (headless Chromium: the monitor panel with the fix
/// state and a plot with points, the events), and the station and caster go on.
#[test]
fn wrong_coordinates_and_missing_corrections_are_events() {
    let dir = temp_dir("monitor-events");
    let caster = free_port();
    let health = free_port();
    let station = raised(STR2, 0.10);
    let known = raised(STR1, STR1_ECC_U);
    let check = |name: &str| {
        format!(
            "[monitor.source]\nkind = \"file\"\nname = \"{name}-rx\"\npath = \"{}\"\nspeed = {SPEED}\n",
            common::data_file(STR17).display()
        )
    };
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = {sx}, y = {sy}, z = {sz} }}
antenna = "LEIAR25.R3      NONE"
atx = "{atx}"

[[source]]
kind = "file"
name = "rx"
path = "{base}"
speed = {SPEED}

[health]
listen = "127.0.0.1:{health}"

[[caster]]
listen = "127.0.0.1:{caster}"
[[caster.mount]]
name = "STR2_MSM4"
messages = "1006(10),1008(10),1019,1020,1042,1044,1045,1046,1230(10),1074(1),1084(1),1094(1),1124(1)"
[[caster.mount]]
name = "ARP_ONLY"
messages = "1006(10)"
[[caster.mount]]
name = "GLO_ONLY"
messages = "1006(10),1008(10),1020,1230(10),1084(1)"

[[monitor]]
name = "MOVED"
mount = "STR2_MSM4"
position = {{ x = {kx}, y = {ky}, z = {kz} }}
max_wait_s = 20
{moved}
[[monitor]]
name = "SILENT"
mount = "ARP_ONLY"
position = {{ x = {kx}, y = {ky}, z = {kz} }}
{silent}
[[monitor]]
name = "LOWFIX"
mount = "GLO_ONLY"
position = {{ x = {kx}, y = {ky}, z = {kz} }}
max_wait_s = 20
fix_window = "30s"
min_fix_percent = 90
{lowfix}"#,
        d = dir.display(),
        sx = station[0],
        sy = station[1],
        sz = station[2],
        kx = known[0],
        ky = known[1],
        kz = known[2],
        base = common::data_file(STR24).display(),
        atx = common::data_file(ATX).display(),
        moved = check("MOVED"),
        silent = check("SILENT"),
        lowfix = check("LOWFIX"),
    );
    let _daemon = run_daemon(&dir, &config, caster);
    let t0 = Instant::now();
    let part = |body: &str, name: &str| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == "monitor" && p["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    let said = |p: &serde_json::Value, what: &str| {
        p["ok"] == false && p["last_error"].as_str().is_some_and(|e| e.contains(what))
    };
    let mut seen = [false; 3];
    loop {
        let (_, body) = curl(&[&format!("http://127.0.0.1:{health}/healthz")]);
        let moved = part(&body, "MOVED");
        let up_m = moved["last_error"]
            .as_str()
            .and_then(|e| e.split("U ").nth(1))
            .and_then(|u| u.split(' ').next())
            .and_then(|u| u.parse::<f64>().ok())
            .unwrap_or(0.0);
        if !seen[0] && said(&moved, "known coordinates") {
            assert!(
                (up_m - 0.10).abs() < 0.02,
                "the 10 cm seen as {up_m} m: {body}"
            );
            seen[0] = true;
        }
        seen[1] |= said(&part(&body, "SILENT"), "no corrections from mount ARP_ONLY");
        seen[2] |= said(
            &part(&body, "LOWFIX"),
            "of the check epochs over the last 30 s",
        );
        if seen.iter().all(|s| *s) {
            assert!(body.contains("\"kind\":\"caster\""), "{body}");
            let rx = body
                .contains("{\"kind\":\"source\",\"last_error\":null,\"name\":\"rx\",\"ok\":true");
            assert!(rx, "the station's source goes on: {body}");
            break;
        }
        // 60 s of data at SPEED, and the 30 s of silence, with room for a loaded machine.
        assert!(
            t0.elapsed() < Duration::from_secs_f64(60.0 / SPEED + 45.0),
            "events seen (wrong fix, no corrections, fix rate): {seen:?} after {:?}: {body}\n{}",
            t0.elapsed(),
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    for kind in ["wrong_fix", "no_corrections", "fix_rate"] {
        assert!(log.contains(kind), "{kind}: {log}");
    }

    // The latency in data time: from the first point of the data to the wrong-fix event.
    let lines = series_lines(&dir);
    let start = lines.iter().map(|l| l.1).min().expect("no series points");
    let event = lines
        .iter()
        .find(|(l, _)| l.starts_with("event,") && l.contains("kind=wrong_fix"))
        .map(|l| l.1)
        .expect("no wrong_fix event point");
    let latency_s = (event - start) as f64 / 1e9;
    eprintln!("monitor: the 10 cm shift raised wrong_fix {latency_s:.0} s of data after its start");
    assert!(latency_s <= 60.0, "wrong_fix after {latency_s} s of data");

    // The status page: the monitor panel with each monitor's fix state, a plot of MOVED's
    // error with points, and the events.
    let url = format!("http://127.0.0.1:{health}/");
    let (dom, console) = chromium(&dir.join("profile"), &["--dump-dom"], &url);
    assert_no_console_errors(&[&console]);
    let panel = &dom[dom.find("id=\"monitor-panel\"").expect("no monitor panel")..];
    let panel = &panel[..panel.find("id=\"plot-monitor\"").unwrap_or(panel.len())];
    assert!(
        !dom.contains("id=\"monitor-row\" hidden"),
        "monitor panel hidden"
    );
    assert!(
        panel.contains("data-k=\"monitors.0.fix\">fixed<"),
        "MOVED's fix state: {panel}"
    );
    for name in ["MOVED", "SILENT", "LOWFIX"] {
        assert!(panel.contains(&format!(">{name}<")), "{name}: {panel}");
    }
    let plot = &dom[dom.find("id=\"plot-monitor\"").unwrap()..];
    let plot = &plot[..plot.find("</svg>").unwrap_or(plot.len())];
    let points: Vec<usize> = plot
        .split("data-points=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next()?.parse().ok())
        .collect();
    assert!(
        points.len() == 3 && points.iter().all(|n| *n > 0),
        "E/N/U of MOVED plotted: {points:?} {plot}"
    );
    for kind in ["wrong_fix", "no_corrections", "fix_rate"] {
        assert!(
            dom.contains(&format!(">{kind}<")),
            "{kind} not among the events"
        );
    }
}
