//! Sources against real peers on 127.0.0.1: a serial port made by `socat` (a pty pair) that
//! vanishes and comes back, RTKLIB `str2str` as an NTRIP v1 caster, and a caster that accepts a
//! connection and then sends nothing (it must be retried with growing delays, not in a loop).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::{corsd, curl, free_port, require, socat_pair, temp_dir};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

struct Daemon {
    child: Child,
    health: String,
    log: std::path::PathBuf,
}

impl Daemon {
    fn start(dir: &std::path::Path, sources: &str) -> Daemon {
        let health = format!("127.0.0.1:{}", free_port());
        let config = dir.join("corsd.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"{}\"\n[station]\nname = \"STR2\"\nposition = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}\n[health]\nlisten = \"{health}\"\n{sources}",
                dir.display()
            ),
        )
        .unwrap();
        let log = dir.join("corsd.log");
        let child = corsd()
            .args(["run", "-c"])
            .arg(&config)
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let d = Daemon { child, health, log };
        let t0 = Instant::now();
        while curl(&[&format!("http://{}/healthz", d.health)]).0 == 0 {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "no health endpoint: {}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn status(&self) -> serde_json::Value {
        let (_, body) = curl(&[&format!("http://{}/status.json", self.health)]);
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["sources"][0].clone()
    }

    /// Wait until `cond` holds on the source's status, or fail with the log.
    fn wait_for(
        &self,
        what: &str,
        secs: u64,
        cond: impl Fn(&serde_json::Value) -> bool,
    ) -> Duration {
        let t0 = Instant::now();
        loop {
            let s = self.status();
            if cond(&s) {
                return t0.elapsed();
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "{what}: {s}\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Write the recording into the receiver end of the pty at about 10 kB/s for `secs` seconds.
fn feed(path: &std::path::Path, data: &[u8], from: usize, secs: u64) -> usize {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let mut at = from;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) && at < data.len() {
        let end = (at + 1000).min(data.len());
        if f.write_all(&data[at..end]).is_err() {
            break;
        }
        at = end;
        std::thread::sleep(Duration::from_millis(100));
    }
    at
}

#[test]
fn serial_port_that_vanishes_is_detected_and_reopened() {
    let dir = temp_dir("serial");
    let data = common::read_data(STR24);
    let (mut socat, _, _) = socat_pair(&dir, "ttyA", "ttyB");
    let d = Daemon::start(
        &dir,
        &format!(
            "[[source]]\nkind = \"serial\"\nname = \"rx\"\npath = \"{}\"\nbaud = 115200\nwatchdog = \"3s\"\n",
            dir.join("ttyB").display()
        ),
    );
    d.wait_for("serial open", 10, |s| s["state"] == "streaming");
    let at = feed(&dir.join("ttyA"), &data, 0, 4);
    let frames = d.wait_for("frames through the pty", 10, |s| {
        s["frames"].as_u64().unwrap_or(0) > 20
    });
    let _ = frames;
    // The port vanishes (USB receiver unplugged): found within the watchdog time.
    let _ = Command::new("kill")
        .args(["-TERM", &socat.id().to_string()])
        .status();
    socat.wait().unwrap();
    let lost = d.wait_for("disconnect detected", 10, |s| s["state"] != "streaming");
    assert!(lost <= Duration::from_secs(4), "detected after {lost:?}");
    let before = d.status()["frames"].as_u64().unwrap();
    // It comes back under the same name: reopened, and data flows again.
    let (mut socat, _, _) = socat_pair(&dir, "ttyA", "ttyB");
    d.wait_for("port reopened", 30, |s| {
        s["state"] == "streaming" && s["reconnects"].as_u64().unwrap_or(0) >= 1
    });
    feed(&dir.join("ttyA"), &data, at, 4);
    d.wait_for("frames after the reopen", 10, |s| {
        s["frames"].as_u64().unwrap_or(0) > before + 20
    });
    let s = d.status();
    assert_eq!(s["bad_frames"].as_u64(), Some(0), "{s}");
    // The outage and the recovery are in the time series as events.
    let series = common::servers::read_series(&dir.join("series"));
    assert!(
        series.contains("event,kind=outage,source=rx,station=STR2"),
        "{series}"
    );
    assert!(
        series.contains("event,kind=recovery,source=rx,station=STR2"),
        "{series}"
    );
    let _ = socat.kill();
    let _ = socat.wait();
    drop(d);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ntrip_v1_from_str2str_caster() {
    let dir = temp_dir("ntrip");
    let port = free_port();
    let str2str = require("str2str", "rtklib");
    // str2str reads the recording from its standard input, paced here (its caster drops what
    // arrives while no client is connected).
    let mut caster = Command::new(str2str)
        .arg("-in")
        .arg("file://#rtcm3")
        .arg("-out")
        .arg(format!("ntripc://crew:secret@:{port}/STR2"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = caster.stdin.take().unwrap();
    let data = common::read_data(STR24);
    std::thread::spawn(move || {
        for c in data.chunks(1000) {
            if input.write_all(c).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    std::fs::write(dir.join("pw"), "secret\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let d = Daemon::start(
        &dir,
        &format!(
            "[[source]]\nkind = \"ntrip\"\nname = \"caster\"\nurl = \"ntrip://127.0.0.1:{port}/STR2\"\nversion = 1\nuser = \"crew\"\npassword_file = \"pw\"\ngga = \"auto\"\n"
        ),
    );
    d.wait_for("frames from str2str", 30, |s| {
        s["frames"].as_u64().unwrap_or(0) > 200
    });
    let s = d.status();
    assert_eq!(s["state"], "streaming", "{s}");
    assert_eq!(s["bad_frames"].as_u64(), Some(0), "{s}");
    assert!(s["messages"]["1074"].as_u64().unwrap_or(0) > 0, "{s}");
    // The password never reaches the log.
    assert!(!d.log_text().contains("secret"), "password in the log");
    drop(d);
    let _ = caster.kill();
    let _ = caster.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_caster_that_sends_nothing_is_retried_with_growing_delays() {
    let dir = temp_dir("stall");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let acc = accepts.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            let Ok(mut s) = s else { break };
            acc.lock().unwrap().push(Instant::now());
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"ICY 200 OK\r\n");
            // ... and then nothing, holding the connection open.
            held.push(s);
        }
    });
    let d = Daemon::start(
        &dir,
        &format!(
            "[[source]]\nkind = \"ntrip\"\nname = \"silent\"\nurl = \"ntrip://127.0.0.1:{port}/X\"\nversion = 1\nwatchdog = \"2s\"\n"
        ),
    );
    std::thread::sleep(Duration::from_secs(40));
    let s = d.status();
    let times = accepts.lock().unwrap().clone();
    // A fixed 2 s loop would have made 20 connections; backoff (1, 2, 4, 8, 16 s, jittered 50–100 %)
    // on top of the 2 s watchdog makes at most 7.
    assert!(
        times.len() >= 3 && times.len() <= 7,
        "{} connections: {s}",
        times.len()
    );
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    assert!(
        gaps.last().unwrap() > gaps.first().unwrap(),
        "gaps do not grow: {gaps:?}"
    );
    assert!(d.log_text().contains("stalled"), "{}", d.log_text());
    assert_eq!(
        s["connect_attempts"].as_u64(),
        Some(times.len() as u64),
        "{s}"
    );
    drop(d);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ntrip_v2_from_pygnssutils_caster() {
    let dir = temp_dir("ntrip2");
    // The receiver: a TCP server sending the recording, paced, to gnssserver's socket input.
    let rx = TcpListener::bind("127.0.0.1:0").unwrap();
    let rx_port = rx.local_addr().unwrap().port();
    let data = common::read_data(STR24);
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = rx.accept() {
            for c in data.chunks(1000) {
                if s.write_all(c).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    });
    let gnssserver = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/gnssserver");
    assert!(
        gnssserver.is_file(),
        "pygnssutils is not installed: run scripts/test.sh --install"
    );
    let port = free_port();
    let mut caster = Command::new(gnssserver)
        .args([
            "-S",
            &format!("127.0.0.1:{rx_port}"),
            "-O",
            &port.to_string(),
            "-H",
            "127.0.0.1",
        ])
        .args([
            "-N",
            "1",
            "--ntripversion",
            "2.0",
            "--ntripuser",
            "crew",
            "--ntrippassword",
            "secret",
        ])
        .args(["--format", "2", "--verbosity", "-1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "gnssserver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::write(dir.join("pw"), "secret\n").unwrap();
    // pygnssutils 1.3.1 runs its v2 status line into the next header ("HTTP/1.1 200 OKNtrip-…")
    // and does not chunk: the client reads the status code and takes the body as it comes.
    let d = Daemon::start(
        &dir,
        &format!(
            "[[source]]\nkind = \"ntrip\"\nname = \"caster\"\nurl = \"ntrip://127.0.0.1:{port}/pygnssutils\"\nversion = 2\nuser = \"crew\"\npassword_file = \"pw\"\n"
        ),
    );
    d.wait_for("frames from pygnssutils", 40, |s| {
        s["frames"].as_u64().unwrap_or(0) > 100
    });
    let s = d.status();
    assert_eq!(s["bad_frames"].as_u64(), Some(0), "{s}");
    drop(d);
    let _ = caster.kill();
    let _ = caster.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
