//! `corsd decode` end to end: the real binary on the real recordings.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

fn corsd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_corsd"))
}

fn decode_json(rel: &str) -> (Vec<serde_json::Value>, String) {
    let out = corsd()
        .args(["decode", "--json"])
        .arg(common::data_file(rel))
        .output()
        .expect("run corsd decode");
    assert!(
        out.status.success(),
        "{rel}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout)
        .expect("JSON output is UTF-8")
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{rel}: bad JSON line {l}: {e}"))
        })
        .collect();
    (lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn count_types(lines: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in lines {
        let t = match &l["type"] {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => panic!("frame without a type: {other}"),
        };
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

#[test]
fn str24_frames_per_type_match_the_manifest() {
    let (lines, stderr) =
        decode_json("rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3");
    assert_eq!(lines.len(), 7934);
    let counts = count_types(&lines);
    for (t, n) in [
        ("1006", 131),
        ("1008", 131),
        ("1013", 132),
        ("1019", 363),
        ("1020", 242),
        ("1033", 131),
        ("1042", 42),
        ("1044", 4),
        ("1045", 34),
        ("1046", 34),
        ("1074", 1311),
        ("1084", 1312),
        ("1094", 1312),
        ("1114", 1312),
        ("1124", 1312),
        ("1230", 131),
    ] {
        assert_eq!(counts.get(t).copied(), Some(n), "type {t}");
    }
    assert!(
        lines.iter().all(|l| l.get("error").is_none()),
        "every frame decodes"
    );
    assert!(
        stderr.contains("frames: 7934"),
        "summary on stderr: {stderr}"
    );
}

#[test]
fn mixed_stream_gives_rtcm_nmea_and_ubx_lines() {
    let (lines, _) = decode_json("rtcm3/semuconsulting_pygnssutils/pygpsdata-rtcm3.log");
    let counts = count_types(&lines);
    assert_eq!(counts["1127"], 158);
    assert_eq!(counts["GGA"], 157);
    assert_eq!(counts["GSV"], 1114 + 628 + 628 + 720 + 157);
    assert_eq!(counts["UBX"], 174);
    let gga = lines
        .iter()
        .find(|l| l["type"] == "GGA")
        .expect("a GGA line");
    assert_eq!(gga["talker"], "GN");
}

#[test]
fn leading_partial_frame_is_counted_as_discarded() {
    let (lines, stderr) = decode_json("rtcm3/semuconsulting_pygnssutils/ntrip_encode_none.bin");
    assert_eq!(lines.len(), 292);
    assert!(
        stderr.contains("420"),
        "420 discarded bytes reported: {stderr}"
    );
}

#[test]
fn unreadable_input_exits_1_with_a_clear_message() {
    let out = corsd()
        .args(["decode", "/nonexistent/station.rtcm3"])
        .output()
        .expect("run corsd");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open /nonexistent/station.rtcm3"),
        "{err}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let out = corsd()
        .args(["decode", "--no-such-flag"])
        .output()
        .expect("run corsd");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stdin_is_read_with_dash() {
    let data = common::read_data("rtcm3/semuconsulting_pyrtcm/pygpsdata-NTRIP-USCL00CHL0.log");
    let mut child = corsd()
        .args(["decode", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn corsd");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&data)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 35);
}

/// Streaming memory stays flat: 256 MiB of frames through stdin, peak RSS well under 20 MB.
#[test]
fn streaming_memory_is_flat() {
    let data = common::read_data("rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3");
    let mut child = corsd()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn corsd");
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    let target = 256usize << 20;
    let mut sent = 0;
    while sent < target {
        stdin.write_all(&data).expect("write");
        sent += data.len();
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let hwm_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc status");
    assert!(
        hwm_kb < 20 * 1024,
        "peak RSS {hwm_kb} kB after {sent} bytes"
    );
}
