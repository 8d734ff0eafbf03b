//! `corsd run` as an operator meets it: the demo station with no configuration, `check-config`
//! answers, and SIGHUP reloading a changed configuration (or keeping the old one when the new
//! one is wrong).

mod common;

use std::time::{Duration, Instant};

use common::servers::{corsd, curl, free_port, spawn_run, start_demo, temp_dir};

fn wait(what: &str, secs: u64, cond: impl FnMut() -> bool) {
    wait_log(what, secs, None, cond)
}

/// Like `wait`, with the daemon's log in the failure message.
fn wait_log(what: &str, secs: u64, log: Option<&std::path::Path>, mut cond: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        if t0.elapsed() >= Duration::from_secs(secs) {
            let log = log
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            panic!("{what}\n--- corsd log ---\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn term(child: &mut std::process::Child) -> std::process::ExitStatus {
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap()
}

#[test]
fn demo_station_runs_without_configuration() {
    let dir = temp_dir("demo");
    let (mut child, health, caster) = start_demo(&dir);
    let metric = |name: &str| -> f64 {
        let (_, body) = curl(&[&format!("http://{health}/metrics")]);
        body.lines()
            .find(|l| l.starts_with(&format!("corsd_{name}{{")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    wait("demo positions", 20, || {
        metric("source_solutions_total") >= 3.0
    });
    let (code, body) = curl(&[&format!("http://{health}/healthz")]);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"caster_clients\":0"), "{body}");
    assert!(metric("archive_frames_total") > 0.0);
    // The status page: one self-contained file that polls /status.json, which carries the sky.
    let (code, page) = curl(&[&format!("http://{health}/")]);
    assert_eq!(code, 200);
    assert!(page.contains("corsd station VTE1") && page.contains("fetch(\"/status.json\""));
    // No outside assets: it must work at a station without internet.
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    let (_, status) = curl(&[&format!("http://{health}/status.json")]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    let sky = v["sources"][0]["sky"].as_array().expect("sky");
    assert!(sky.len() >= 5, "{status}");
    assert!(sky.iter().all(|s| {
        s["el_deg"]
            .as_f64()
            .is_some_and(|e| (0.0..=90.0).contains(&e))
    }));
    // The demo's caster serves the simulated station.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&caster).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /VTE1 HTTP/1.0\r\nUser-Agent: NTRIP test\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while got.len() < 2000 {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        assert!(
            got.starts_with(b"ICY 200 OK\r\n"),
            "{}",
            String::from_utf8_lossy(&got)
        );
        let (frames, stats) = corsd::framing::frames(&got[12..]);
        assert!(!frames.is_empty() && stats.rtcm3_crc_errors == 0);
        // And RTCM 2.3 DGNSS corrections for GIS handhelds on VTE1_RTCM2.
        let mut s = std::net::TcpStream::connect(&caster).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /VTE1_RTCM2 HTTP/1.0\r\nUser-Agent: NTRIP test\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let t0 = std::time::Instant::now();
        let mut dec = corsd::feeds::rtcm2::Decoder::new();
        let mut types = Vec::new();
        while types.iter().filter(|t| **t == 1).count() < 3
            && t0.elapsed() < Duration::from_secs(15)
        {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if got.len() > 12 {
                assert!(got.starts_with(b"ICY 200 OK\r\n"));
                types.extend(dec.push(&got[12..]).iter().map(|m| m.header.msg_type));
                got.truncate(12);
            }
        }
        // Type 1 every epoch (type 3 comes every 30 s of data time).
        assert!(types.iter().filter(|t| **t == 1).count() >= 3, "{types:?}");
        assert_eq!(dec.parity_errors, 0);
    }
    let status = term(&mut child);
    let log = std::fs::read_to_string(dir.join("log")).unwrap();
    assert!(status.success(), "{log}");
    assert!(
        log.contains("demo station VTE1") && log.contains("/healthz"),
        "{log}"
    );
    // The time series and the archive are on disk after a clean stop.
    let series: String = std::fs::read_dir(dir.join("series"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        series.contains("station_position,solution=spp_if,station=VTE1"),
        "{series}"
    );
    let archived = walk(&dir.join("archive"));
    assert!(
        archived
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".rtcm3")),
        "{archived:?}"
    );
    // The hour in progress is written as RINEX at the stop, and reads back.
    let rnx = archived
        .iter()
        .find(|p| p.to_string_lossy().ends_with("_01H_01S_MO.rnx"))
        .unwrap_or_else(|| panic!("no hourly RINEX in {archived:?}"));
    assert!(
        rnx.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("VTE100LAO_R_"),
        "{rnx:?}"
    );
    let (epochs, _) = corsd::rinex::read_obs(&std::fs::read_to_string(rnx).unwrap()).unwrap();
    assert!(epochs.len() >= 3, "{} epochs", epochs.len());
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

const CONFIG: &str = r#"
[station]
name = "VTE1"

[[source]]
kind = "simulate"
name = "first"
"#;

#[test]
fn check_config_names_file_line_and_key() {
    let dir = temp_dir("check");
    let good = dir.join("corsd.toml");
    std::fs::write(&good, format!("data_dir = \"{}\"\n{CONFIG}", dir.display())).unwrap();
    let out = corsd()
        .args(["check-config", "-c"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The example in the repository is valid.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/corsd.example.toml");
    let out = corsd()
        .args(["check-config", "-c", example])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        CONFIG.replace("name = \"first\"", "name = \"first\"\nbaud_rate = 9600"),
    )
    .unwrap();
    let out = corsd()
        .args(["check-config", "-c"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml:8: baud_rate: unknown field `baud_rate`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A mountpoint declared for u-blox F9P rovers with a message set they cannot use is refused,
/// each broken rule named, at the line of the `profile` key.
#[test]
fn f9p_profile_names_every_broken_rule() {
    let dir = temp_dir("f9p");
    let cfg = dir.join("f9p.toml");
    let mount = |messages: &str| {
        format!(
            "data_dir = \"{}\"\n{CONFIG}[[caster]]\nlisten = \"127.0.0.1:0\"\n[[caster.mount]]\nname = \"CREW\"\nmessages = \"{messages}\"\nprofile = \"f9p\"\n",
            dir.display()
        )
    };
    std::fs::write(&cfg, mount("1006(10),1230(10),1074(1),1084(1),1124(1)")).unwrap();
    let out = corsd()
        .args(["check-config", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = mount("1074(1),1077(1),1084(5)");
    std::fs::write(&cfg, &text).unwrap();
    let out = corsd()
        .args(["check-config", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().position(|l| l.starts_with("profile")).unwrap() + 1;
    assert!(
        err.contains(&format!(
            "f9p.toml:{line}: caster.mount[0].profile: mount CREW:"
        )),
        "{err}"
    );
    for rule in ["1005 or 1006", "one type per GNSS", "one rate", "1230"] {
        assert!(err.contains(rule), "{rule}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sighup_reloads_and_keeps_running_on_a_bad_config() {
    let dir = temp_dir("hup");
    let health = format!("127.0.0.1:{}", free_port());
    let cfg = dir.join("corsd.toml");
    let write = |text: &str| {
        std::fs::write(
            &cfg,
            format!(
                "data_dir = \"{}\"\n[health]\nlisten = \"{health}\"\n{text}",
                dir.display()
            ),
        )
        .unwrap()
    };
    write(CONFIG);
    let mut child = spawn_run(&cfg, &dir);
    let source_name = || {
        let (_, body) = curl(&[&format!("http://{health}/status.json")]);
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["sources"][0]["name"].as_str().map(str::to_string))
    };
    wait("first config", 30, || {
        source_name().as_deref() == Some("first")
    });
    write(&CONFIG.replace("first", "second"));
    let hup = |c: &std::process::Child| {
        std::process::Command::new("kill")
            .args(["-HUP", &c.id().to_string()])
            .status()
            .unwrap();
    };
    hup(&child);
    wait_log("reloaded config", 30, Some(&dir.join("log")), || {
        source_name().as_deref() == Some("second")
    });
    write(&CONFIG.replace("kind = \"simulate\"", "kind = \"teleport\""));
    hup(&child);
    std::thread::sleep(Duration::from_secs(2));
    let log = std::fs::read_to_string(dir.join("log")).unwrap();
    assert!(
        log.contains("invalid; running on with the previous one"),
        "{log}"
    );
    wait_log("still the good config", 30, Some(&dir.join("log")), || {
        source_name().as_deref() == Some("second")
    });
    assert!(term(&mut child).success());
    let _ = std::fs::remove_dir_all(&dir);
}
