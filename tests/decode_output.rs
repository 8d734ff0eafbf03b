//! `corsd decode` prints exactly what its format says, byte for byte, on every real recording.
//!
//! The command writes its lines straight into a buffer; the reference here builds each line the
//! plain way, through `serde_json::Value` (objects with sorted keys, serde_json's number
//! formatting) and `format!`, from the library's own message types. Both must agree on every
//! line of text and JSON, and on the per-type counts of the summary.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use corsd::framing::{self, FrameKind};
use corsd::messages::{nmea, rtcm3};
use serde_json::{Map, Value, json};

fn frame_payload(kind: FrameKind, b: &[u8]) -> &[u8] {
    framing::Frame { kind, bytes: b }.payload()
}

/// The text of a message as the command describes it.
fn brief(msg: &rtcm3::Message) -> String {
    match msg {
        rtcm3::Message::Raw(_) => "not decoded (kept as raw payload)".to_string(),
        rtcm3::Message::Msm(m) => m.brief(),
        rtcm3::Message::StationArp(a) => format!(
            "station {} ARP {:.4} {:.4} {:.4}",
            a.station, a.x_m, a.y_m, a.z_m
        ),
        _ => {
            let v = serde_json::to_string(msg).expect("messages serialise");
            if v.len() > 120 {
                format!("{}…", &v[..v.floor_char_boundary(120)])
            } else {
                v
            }
        }
    }
}

/// One frame's line and its summary key.
fn reference(kind: FrameKind, bytes: &[u8], json: bool) -> (String, String) {
    match kind {
        FrameKind::Rtcm3 => {
            let payload = frame_payload(kind, bytes);
            let number = rtcm3::message_number(payload).unwrap_or(0);
            let line = match rtcm3::decode(payload) {
                Ok(msg) if json => {
                    let mut obj = Map::new();
                    obj.insert("type".into(), json!(number));
                    if let Ok(Value::Object(fields)) = serde_json::to_value(&msg) {
                        obj.extend(fields.into_iter().filter(|(k, _)| k != "type"));
                    }
                    Value::Object(obj).to_string()
                }
                Ok(msg) => format!("RTCM3 {number:<4} {:>4} B  {}", bytes.len(), brief(&msg)),
                Err(e) if json => json!({"type": number, "error": e.to_string()}).to_string(),
                Err(e) => format!("RTCM3 {number:<4} {:>4} B  error: {e}", bytes.len()),
            };
            (line, number.to_string())
        }
        FrameKind::Nmea => {
            let text = String::from_utf8_lossy(bytes).trim_end().to_string();
            match nmea::parse(bytes) {
                Ok(s) => {
                    let line = if json {
                        match serde_json::to_value(&s) {
                            Ok(v @ Value::Object(_)) => v.to_string(),
                            _ => "{}".to_string(),
                        }
                    } else {
                        format!("NMEA  {text}")
                    };
                    (line, s.kind.clone())
                }
                Err(e) => {
                    let line = if json {
                        json!({"type": "NMEA", "error": e.to_string(), "sentence": text})
                            .to_string()
                    } else {
                        format!("NMEA  {text}  error: {e}")
                    };
                    (line, "NMEA (undecoded)".to_string())
                }
            }
        }
        FrameKind::Ubx => {
            let (class, id) = (bytes[2], bytes[3]);
            let len = frame_payload(kind, bytes).len();
            let line = if json {
                json!({"type": "UBX", "class": class, "id": id, "length": len}).to_string()
            } else {
                format!("UBX   {class:02X}-{id:02X} {len:>4} B payload")
            };
            (line, format!("UBX {class:02X}-{id:02X}"))
        }
    }
}

fn check(rel: &str) {
    let data = common::read_data(rel);
    let (frames, _) = framing::frames(&data);
    for json in [false, true] {
        let mut args = vec!["decode"];
        if json {
            args.push("--json");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_corsd"))
            .args(&args)
            .arg(common::data_file(rel))
            .output()
            .expect("run corsd decode");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{rel}: {stderr}");
        let stdout = String::from_utf8(out.stdout).expect("output is UTF-8");
        let got: Vec<&str> = stdout.lines().collect();
        assert_eq!(got.len(), frames.len(), "{rel} json={json}: lines");
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (i, ((kind, bytes), line)) in frames.iter().zip(&got).enumerate() {
            let (want, key) = reference(*kind, bytes, json);
            assert_eq!(*line, want, "{rel} json={json}: line {}", i + 1);
            *counts.entry(key).or_default() += 1;
        }
        let mut summary = format!("frames: {}\n", frames.len());
        for (k, n) in &counts {
            summary += &format!("  {k:<18} {n}\n");
        }
        assert!(
            stderr.starts_with(&summary),
            "{rel} json={json}: summary\n{stderr}\nwanted it to start with\n{summary}"
        );
    }
}

#[test]
fn rtcm_recordings_print_the_reference_lines() {
    for rel in common::RTCM_FILES {
        check(rel);
    }
}

#[test]
fn nmea_logs_print_the_reference_lines() {
    for rel in common::NMEA_FILES {
        check(rel);
    }
}
