//! The live status page, opened in headless Chromium (Debian's package) against a running
//! daemon: its script runs without console errors; every value it shows is the one
//! `/status.json` holds; its SVG plots of the last hour have points; message rates match the
//! stream; QZSS satellites carry their RINEX names; the sky marks BeiDou GEO/IGSO/MEO; a rover
//! (RTKLIB `str2str` sending GGA) is on the map; the screenshot is a real picture.
//!
//! See: issue 19 item 4.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::{
    Daemon, assert_no_console_errors, chromium, curl, free_port, png_size, require, run_daemon,
    start_demo, temp_dir,
};
use serde_json::Value;

/// The demo sends these once a second (BeiDou MSM4 comes as two messages per epoch).
const ONE_HZ: [&str; 4] = ["1074", "1084", "1094", "1114"];
/// A rate over a minute of a 1 Hz stream sampled each second: within this of 1.0 Hz.
const RATE_TOLERANCE_HZ: f64 = 0.1;
/// The plots of the last hour, as the page names their panels.
const PLOTS: [&str; 6] = [
    "offset",
    "used",
    "cn0",
    "latency",
    "completeness",
    "clients",
];

fn json(url: &str) -> Value {
    let (code, body) = curl(&[url]);
    assert_eq!(code, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
}

/// The value at a dotted path (`sources.0.rates.1074`).
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| match v {
        Value::Array(a) => k
            .parse::<usize>()
            .ok()
            .and_then(|i| a.get(i))
            .unwrap_or(&Value::Null),
        _ => v.get(k).unwrap_or(&Value::Null),
    })
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every element the page marked with the `/status.json` path of what it shows: (path, text).
fn shown(dom: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find("data-k=\"") {
        rest = &rest[i + 8..];
        let Some(end) = rest.find('"') else { break };
        let key = rest[..end].to_string();
        let Some(open) = rest.find('>') else { break };
        let text = &rest[open + 1..];
        let close = text.find('<').unwrap_or(text.len());
        out.push((key, unescape(&text[..close])));
        rest = &text[close..];
    }
    out
}

/// What the page shows equals what the daemon says, to the digits shown.
fn assert_shown_equals(dom: &str, status: &Value) -> usize {
    let cells = shown(dom);
    for (key, text) in &cells {
        let v = at(status, key);
        match v {
            Value::Null => assert_eq!(text, "—", "{key}"),
            Value::Number(n) => {
                let n = n.as_f64().unwrap();
                let digits = text.split_once('.').map_or(0, |(_, f)| f.len());
                let shown: f64 = text
                    .replace(',', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{key}: {text:?} is not a number"));
                let tol = 0.5 * 10f64.powi(-(digits as i32)) + 1e-9;
                assert!(
                    (shown - n).abs() <= tol,
                    "{key}: page {text}, status.json {n}"
                );
            }
            Value::String(s) => assert_eq!(text, s, "{key}"),
            other => panic!("{key}: the page shows {text:?} for {other}"),
        }
    }
    cells.len()
}

/// The DOM of one plot panel.
fn panel<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"plot-{id}\""))
        .unwrap_or_else(|| panic!("no plot {id} on the page"));
    let rest = &dom[start..];
    let end = rest[10..].find("id=\"plot-").map_or(rest.len(), |e| e + 10);
    &rest[..end]
}

/// The number of points of each `<path>` in `html` with a `data-points` count, checked against
/// the path's own `d` (one `M` or `L` per point).
fn path_points(html: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for p in html.split("<path").skip(1) {
        let tag = &p[..p.find('>').unwrap_or(p.len())];
        let Some(n) = tag
            .split("data-points=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let d = tag
            .split(" d=\"")
            .nth(1)
            .unwrap_or("")
            .split('"')
            .next()
            .unwrap_or("");
        let in_d = d.matches(['M', 'L']).count();
        assert_eq!(in_d, n, "path with {n} points draws {in_d}: {tag}");
        out.push(n);
    }
    out
}

fn assert_plots_have_points(dom: &str, min: usize) {
    for id in PLOTS {
        let pts = path_points(panel(dom, id));
        assert!(
            pts.iter().any(|&n| n >= min),
            "plot {id}: paths with {pts:?} points, want one with ≥ {min}"
        );
    }
}

/// RTKLIB's `str2str` as a rover of `mount`: it sends a GGA of (lat, lon, h) every second.
fn rover(caster: &str, mount: &str, lat: f64, lon: f64) -> Child {
    Command::new(require("str2str", "rtklib"))
        .arg("-in")
        .arg(format!("ntrip://{caster}/{mount}"))
        .args([
            "-p",
            &lat.to_string(),
            &lon.to_string(),
            "180",
            "-n",
            "1000",
        ])
        .arg("-out")
        .arg("file:///dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn demo_status_page_in_headless_chromium() {
    let dir = temp_dir("status-page");
    let (mut child, health, caster) = start_demo(&dir);
    let mut crew = None;
    let t0 = Instant::now();
    // Long enough for the satellites' paths (two 30 s satellite epochs after the ephemerides
    // came), three 10 s stream points and a minute of rates: what an operator sees after a
    // minute.
    let status = loop {
        if crew.is_none() && std::net::TcpStream::connect(&caster).is_ok() {
            crew = Some(rover(&caster, "VTE1", 17.99, 102.62));
        }
        assert!(
            t0.elapsed() < Duration::from_secs(150),
            "the demo did not fill its history:\n{}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        // Until the daemon listens, nothing answers.
        let (code, body) = curl(&[&format!("http://{health}/status.json")]);
        let s: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if code != 200 {
            std::thread::sleep(Duration::from_millis(300));
            continue;
        }
        let sats = s["sky"]["sats"].as_array().map_or(0, Vec::len);
        let hist = json(&format!("http://{health}/history.json"));
        let used = hist["hour"]["groups"][1]["series"][0]["v"]
            .as_array()
            .map_or(0, |v| v.iter().filter(|x| !x.is_null()).count());
        let tracks = hist["tracks"].as_array().map_or(0, Vec::len);
        if t0.elapsed() > Duration::from_secs(32)
            && sats > 8
            && used >= 2
            && tracks > 8
            && s["rovers"].as_array().is_some_and(|r| !r.is_empty())
        {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(150),
            "the demo did not fill its history: {s}\n{hist}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // A 1 Hz stream is 1 Hz, from the daemon's own count (the page only shows it).
    let rates = &status["sources"][0]["rates"];
    let mut one_hz = 0;
    for t in ONE_HZ {
        if let Some(r) = rates[t].as_f64() {
            assert!((r - 1.0).abs() <= RATE_TOLERANCE_HZ, "{t}: {r} Hz: {rates}");
            one_hz += 1;
        }
    }
    assert!(one_hz >= 4, "MSM types at 1 Hz: {rates}");
    // QZSS by its RINEX name (J01…), never by its PRN (J193…).
    let sky = status["sky"]["sats"].as_array().unwrap();
    let names: Vec<&str> = sky.iter().map(|s| s["sat"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.starts_with('J')), "{names:?}");
    assert!(names.iter().all(|n| n.len() == 3), "{names:?}");
    for s in status["sources"][0]["sky"].as_array().unwrap() {
        assert_eq!(s["sat"].as_str().unwrap().len(), 3, "{s}");
    }
    // BeiDou's three orbits are told apart.
    for orbit in ["GEO", "IGSO", "MEO"] {
        assert!(
            sky.iter().any(|s| s["orbit"] == orbit),
            "no BeiDou {orbit}: {sky:?}"
        );
    }

    let url = format!("http://{health}/");
    let (dom, console) = chromium(&dir.join("profile-dom"), &["--dump-dom"], &url);
    let after = json(&format!("http://{health}/status.json"));
    let shot = dir.join("status.png");
    let (_, console2) = chromium(
        &dir.join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1600,1200",
        ],
        &url,
    );
    if let Some(mut c) = crew {
        let _ = c.kill();
        let _ = c.wait();
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert_no_console_errors(&[&console, &console2]);
    assert!(dom.contains("corsd station VTE1"), "{dom}");
    assert!(
        dom.contains("updated ") && dom.contains("every 2 s"),
        "{dom}"
    );
    assert!(
        dom.contains("<td data-k=\"sources.0.state\" class=\"ok\">streaming</td>")
            || dom.contains("<td class=\"ok\" data-k=\"sources.0.state\">streaming</td>"),
        "{dom}"
    );
    // The page's rates are the daemon's: between what it said just before and just after.
    let cells = shown(&dom);
    for t in ONE_HZ {
        let key = format!("sources.0.rates.{t}");
        if let Some((_, text)) = cells.iter().find(|(k, _)| *k == key) {
            let r: f64 = text.parse().unwrap_or_else(|_| panic!("{key}: {text}"));
            let (a, b) = (at(&status, &key).as_f64(), at(&after, &key).as_f64());
            let (lo, hi) = (
                a.unwrap_or(r).min(b.unwrap_or(r)),
                a.unwrap_or(r).max(b.unwrap_or(r)),
            );
            assert!(
                r >= lo - 0.005 && r <= hi + 0.005,
                "{key}: page {r}, status.json {a:?} … {b:?}"
            );
            assert!((r - 1.0).abs() <= RATE_TOLERANCE_HZ, "{key}: page {r}");
        }
    }
    assert!(
        cells.iter().any(|(k, _)| k == "sources.0.rates.1074"),
        "{cells:?}"
    );
    // Every plot of the last hour has a line, and the sky has the satellites' paths.
    assert_plots_have_points(&dom, 2);
    let sky_dom = &dom[dom.find("id=\"sky\"").unwrap()..dom.find("id=\"map\"").unwrap()];
    assert!(sky_dom.matches("class=\"sat\"").count() > 8, "{sky_dom}");
    assert!(
        path_points(sky_dom).iter().any(|&n| n >= 2),
        "sky paths: {sky_dom}"
    );
    assert!(sky_dom.contains("<rect"), "BeiDou GEO squares: {sky_dom}");
    let labels: Vec<String> = cells
        .iter()
        .filter(|(k, _)| k.starts_with("sky.sats."))
        .map(|(_, t)| t.clone())
        .collect();
    assert!(labels.iter().any(|l| l.starts_with('J')), "{labels:?}");
    assert!(labels.iter().all(|l| l.len() == 3), "{labels:?}");
    // The rover is on the map, where its GGA put it (1.6 km north-west of the station).
    let map_dom = &dom[dom.find("id=\"map\"").unwrap()..];
    assert!(map_dom.contains("class=\"rover\""), "{map_dom}");
    let r = &status["rovers"][0];
    let (e, n) = (
        r["east_m"].as_f64().unwrap(),
        r["north_m"].as_f64().unwrap(),
    );
    assert!(e < 0.0 && n > 0.0 && e.hypot(n) < 5_000.0, "{r}");
    assert!(dom.contains("NTRIP caster clients"), "{dom}");
    let ((w, h), len) = png_size(&shot);
    assert_eq!((w, h), (1600, 1200));
    assert!(len > 40_000, "{len} bytes: a blank page?");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A recording replayed to its end: nothing moves any more, so every value the page shows must
/// be exactly the one in `/status.json`.
#[test]
fn the_page_shows_what_status_json_says() {
    let dir = temp_dir("status-equal");
    let health = format!("127.0.0.1:{}", free_port());
    let file = common::data_file("rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3");
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}
[[source]]
kind = "file"
name = "rx"
path = "{file}"
speed = 0.0
[health]
listen = "{health}"
"#,
        d = dir.display(),
        file = file.display()
    );
    let port: u16 = health.rsplit(':').next().unwrap().parse().unwrap();
    let daemon: Daemon = run_daemon(&dir, &config, port);
    let t0 = Instant::now();
    let status = loop {
        let s = json(&format!("http://{health}/status.json"));
        if s["sources"][0]["state"] == "finished" {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "not replayed: {s}\n{}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(
        status["sources"][0]["solutions"].as_u64().unwrap() > 1000,
        "{status}"
    );
    let url = format!("http://{health}/");
    let (dom, console) = chromium(&dir.join("profile"), &["--dump-dom"], &url);
    let again = json(&format!("http://{health}/status.json"));
    drop(daemon);
    assert_no_console_errors(&[&console]);
    assert_eq!(status["sources"], again["sources"], "the daemon moved on");
    let checked = assert_shown_equals(&dom, &again);
    // Streams, offsets, the message inventory and the sky, all checked.
    assert!(checked > 40, "{checked} values: {dom}");
    let keys: Vec<String> = shown(&dom).into_iter().map(|(k, _)| k).collect();
    for k in [
        "sources.0.bytes",
        "sources.0.epochs_received",
        "sources.0.offset_enu.2",
        "sources.0.messages.1074",
        "sky.sats.0.sat",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} not on the page: {keys:?}");
    }
    // The hour of data time is drawn: position offsets every 5 s, the satellites every 30 s.
    let offsets = path_points(panel(&dom, "offset"));
    assert_eq!(offsets.len(), 3, "{offsets:?}");
    assert!(offsets.iter().all(|&n| n >= 100), "{offsets:?}");
    assert!(path_points(panel(&dom, "used")).iter().any(|&n| n >= 20));
    let _ = std::fs::remove_dir_all(&dir);
}
