//! A part that cannot start ends `corsd run` at once: exit 1 within [`PROMPT`], and a message
//! naming the part and the address or path it could not use (issue 19, item 5). Before, a port
//! in use was waited on for five seconds and then the daemon hung without its parts; a directory
//! that could not be written, or a serial device that was not there, was only found later, or
//! never.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::servers::{corsd, free_port, temp_dir};

/// How long a failed start may take, from spawn to exit.
const PROMPT: Duration = Duration::from_secs(3);
/// How long the test waits before calling it a hang (and killing the daemon).
const HANG: Duration = Duration::from_secs(10);

/// The station and the simulated receiver every test shares; `extra` adds the part under test.
fn config(dir: &Path, health: &str, extra: &str) -> String {
    format!(
        r#"data_dir = "{d}"

[station]
name = "TEST"
position = {{ x = -1327313.145, y = 5921985.503, z = 1955881.955 }}

[health]
listen = "{health}"

[[source]]
kind = "simulate"
name = "sim"

{extra}
"#,
        d = dir.display()
    )
}

/// Run `corsd run -c` on `text`; returns (exit code, time to exit, stderr). A daemon still running
/// after [`HANG`] fails the test.
fn start(name: &str, text: &str) -> (i32, Duration, String) {
    let dir = temp_dir(&format!("start-{name}"));
    let cfg = dir.join("corsd.toml");
    std::fs::write(&cfg, text).unwrap();
    let log = dir.join("log");
    let t0 = Instant::now();
    let mut child = corsd()
        .args(["run", "-c"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{name}: corsd run still running after {HANG:?} with a part that cannot start; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = t0.elapsed();
    (
        status.code().unwrap_or(-1),
        took,
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

/// Exit 1, promptly, and the last line of stderr names `part` and `at`.
fn assert_fails(name: &str, text: &str, part: &str, at: &str) -> String {
    let (code, took, log) = start(name, text);
    assert_eq!(code, 1, "{name}: exit code {code}; log:\n{log}");
    assert!(took < PROMPT, "{name}: took {took:?} to fail; log:\n{log}");
    let msg = log
        .lines()
        .filter(|l| l.starts_with("corsd: cannot start") || l.starts_with("  "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        msg.contains(part) && msg.contains(at),
        "{name}: the message should name {part:?} and {at:?}; log:\n{log}"
    );
    // Nothing started: no source, no "running" banner.
    assert!(!log.contains("running"), "{name}: {log}");
    msg
}

/// A path under a regular file: no one, root included, can make a directory there.
fn under_a_file(name: &str) -> PathBuf {
    let dir = temp_dir(&format!("start-file-{name}"));
    let file = dir.join("plain-file");
    std::fs::write(&file, "not a directory\n").unwrap();
    file.join(name)
}

fn health() -> String {
    format!("127.0.0.1:{}", free_port())
}

#[test]
fn caster_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    let dir = temp_dir("start-caster-d");
    let extra = format!("[[caster]]\nlisten = \"{at}\"\n[[caster.mount]]\nname = \"TEST\"\n");
    assert_fails(
        "caster",
        &config(&dir, &health(), &extra),
        "NTRIP caster",
        &at,
    );
}

#[test]
fn health_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    let dir = temp_dir("start-health-d");
    let msg = assert_fails("health", &config(&dir, &at, ""), "health endpoint", &at);
    assert!(msg.contains("the port is taken"), "{msg}");
}

#[test]
fn output_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    let dir = temp_dir("start-output-d");
    let extra =
        format!("[[output]]\nkind = \"tcp-server\"\nname = \"radio-lan\"\nlisten = \"{at}\"\n");
    assert_fails(
        "output",
        &config(&dir, &health(), &extra),
        "output radio-lan",
        &at,
    );
}

#[test]
fn source_ports_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    let dir = temp_dir("start-tcpsrc-d");
    let extra = format!("[[source]]\nkind = \"tcp-server\"\nname = \"rx-in\"\nlisten = \"{at}\"\n");
    assert_fails(
        "tcp-server source",
        &config(&dir, &health(), &extra),
        "source rx-in",
        &at,
    );
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    let extra = format!("[[source]]\nkind = \"udp\"\nname = \"rx-udp\"\nlisten = \"{at}\"\n");
    assert_fails(
        "udp source",
        &config(&dir, &health(), &extra),
        "source rx-udp",
        &at,
    );
}

#[test]
fn archive_directory_cannot_be_written() {
    let bad = under_a_file("archive");
    let dir = temp_dir("start-archive-d");
    let extra = format!("[archive]\ndir = \"{}\"\n", bad.display());
    let msg = assert_fails(
        "archive",
        &config(&dir, &health(), &extra),
        "archive",
        &bad.display().to_string(),
    );
    assert!(msg.contains("cannot create the directory"), "{msg}");
}

#[test]
fn spool_directory_cannot_be_written() {
    let bad = under_a_file("spool");
    let dir = temp_dir("start-spool-d");
    let extra = format!(
        "[influx]\nurl = \"http://127.0.0.1:{}\"\napi = \"v2\"\norg = \"o\"\nbucket = \"b\"\nspool_dir = \"{}\"\n",
        free_port(),
        bad.display()
    );
    assert_fails(
        "spool",
        &config(&dir, &health(), &extra),
        "spool",
        &bad.display().to_string(),
    );
}

#[test]
fn series_directory_cannot_be_written() {
    let bad = under_a_file("series");
    let dir = temp_dir("start-series-d");
    let extra = format!("[files]\ndir = \"{}\"\n", bad.display());
    assert_fails(
        "series files",
        &config(&dir, &health(), &extra),
        "time-series files",
        &bad.display().to_string(),
    );
}

#[test]
fn serial_devices_that_do_not_exist() {
    let dir = temp_dir("start-serial-d");
    let missing = dir.join("ttyUSB-not-plugged");
    let extra = format!(
        "[[source]]\nkind = \"serial\"\nname = \"receiver\"\npath = \"{}\"\n",
        missing.display()
    );
    let msg = assert_fails(
        "serial source",
        &config(&dir, &health(), &extra),
        "source receiver",
        &missing.display().to_string(),
    );
    assert!(msg.contains("no such device"), "{msg}");
    let extra = format!(
        "[[output]]\nkind = \"serial\"\nname = \"radio\"\npath = \"{}\"\nbaud = 38400\n",
        missing.display()
    );
    assert_fails(
        "serial output",
        &config(&dir, &health(), &extra),
        "output radio",
        &missing.display().to_string(),
    );
    // A regular file is not a serial port either.
    let file = dir.join("not-a-port");
    std::fs::write(&file, "").unwrap();
    let extra = format!(
        "[[source]]\nkind = \"serial\"\nname = \"receiver\"\npath = \"{}\"\n",
        file.display()
    );
    let msg = assert_fails(
        "serial source on a file",
        &config(&dir, &health(), &extra),
        "source receiver",
        &file.display().to_string(),
    );
    assert!(msg.contains("not a serial device"), "{msg}");
}

#[test]
fn every_failing_part_is_named_at_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    let bad = under_a_file("archive");
    let dir = temp_dir("start-all-d");
    let extra = format!(
        "[archive]\ndir = \"{}\"\n[[caster]]\nlisten = \"{at}\"\n[[caster.mount]]\nname = \"TEST\"\n",
        bad.display()
    );
    let msg = assert_fails(
        "two parts",
        &config(&dir, &health(), &extra),
        "NTRIP caster",
        &at,
    );
    assert!(msg.contains("2 parts failed"), "{msg}");
    assert!(
        msg.contains(&format!("archive at {}", bad.display())),
        "{msg}"
    );
}
