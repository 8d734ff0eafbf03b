//! `corsd decode [--json] FILE|-`: every frame of a recorded stream, one line each.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use crate::framing::{Frame, FrameKind, Framer};
use crate::messages::{nmea, rtcm3, ubx};

#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Print one JSON object per frame (`{"type":1074,...}` for RTCM, `{"type":"GGA","talker":"GN",...}`
    /// for NMEA, `{"type":"UBX",...}` for UBX) instead of one text line.
    #[arg(long)]
    pub json: bool,
    /// The recording to read; `-` reads standard input.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,
}

/// What a decode run saw, printed on stderr at the end.
#[derive(Debug, Default)]
struct Summary {
    frames: BTreeMap<String, u64>,
    decode_errors: BTreeMap<String, u64>,
    first_error: BTreeMap<String, String>,
}

impl Summary {
    fn frame(&mut self, key: String) {
        *self.frames.entry(key).or_default() += 1;
    }
    fn error(&mut self, kind: &str, what: String) {
        *self.decode_errors.entry(kind.to_string()).or_default() += 1;
        self.first_error.entry(kind.to_string()).or_insert(what);
    }
}

pub fn run(args: &DecodeArgs) -> Result<()> {
    let mut input: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(
            File::open(&args.input)
                .with_context(|| format!("cannot open {}", args.input.display()))?,
        )
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut framer = Framer::new();
    let mut summary = Summary::default();
    let mut buf = vec![0u8; 1 << 16];
    let mut closed = false;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", args.input.display()));
            }
        };
        framer.push(&buf[..n]);
        closed = drain(&mut framer, &mut out, &mut summary, args.json)?;
        if closed {
            break;
        }
    }
    if !closed {
        framer.finish();
        drain(&mut framer, &mut out, &mut summary, args.json)?;
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    print_summary(&framer, &summary);
    Ok(())
}

/// Emit every complete frame; returns true when the reader of our output has gone away.
fn drain(
    framer: &mut Framer,
    out: &mut impl Write,
    summary: &mut Summary,
    json: bool,
) -> Result<bool> {
    while let Some(frame) = framer.next_frame() {
        let line = render(&frame, summary, json);
        if let Err(e) = writeln!(out, "{line}") {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(true);
            }
            return Err(e.into());
        }
    }
    Ok(false)
}

fn render(frame: &Frame<'_>, summary: &mut Summary, json: bool) -> String {
    let (mut obj, text) = match frame.kind {
        FrameKind::Rtcm3 => rtcm_object(frame, summary),
        FrameKind::Nmea => nmea_object(frame, summary),
        FrameKind::Ubx => ubx_object(frame, summary),
    };
    if json {
        Value::Object(std::mem::take(&mut obj)).to_string()
    } else {
        text
    }
}

fn rtcm_object(frame: &Frame<'_>, summary: &mut Summary) -> (Map<String, Value>, String) {
    let payload = frame.payload();
    let number = rtcm3::message_number(payload).unwrap_or(0);
    summary.frame(number.to_string());
    let mut obj = Map::new();
    obj.insert("type".into(), json!(number));
    match rtcm3::decode(payload) {
        Ok(msg) => {
            if let Ok(Value::Object(fields)) = serde_json::to_value(&msg) {
                for (k, v) in fields {
                    if k != "type" {
                        obj.insert(k, v);
                    }
                }
            }
            let text = format!(
                "RTCM3 {number:<4} {:>4} B  {}",
                frame.bytes.len(),
                brief_rtcm(&msg)
            );
            (obj, text)
        }
        Err(e) => {
            summary.error(&format!("rtcm3 {}", e.kind()), e.to_string());
            obj.insert("error".into(), json!(e.to_string()));
            let text = format!("RTCM3 {number:<4} {:>4} B  error: {e}", frame.bytes.len());
            (obj, text)
        }
    }
}

/// A few words on what a message carries, for the text output.
fn brief_rtcm(msg: &rtcm3::Message) -> String {
    match msg {
        rtcm3::Message::Raw(_) => return "not decoded (kept as raw payload)".to_string(),
        rtcm3::Message::Msm(m) => return m.brief(),
        rtcm3::Message::StationArp(a) => {
            return format!(
                "station {} ARP {:.4} {:.4} {:.4}",
                a.station, a.x_m, a.y_m, a.z_m
            );
        }
        _ => {}
    }
    let v = serde_json::to_string(msg).unwrap_or_default();
    if v.len() > 120 {
        format!("{}…", &v[..v.floor_char_boundary(120)])
    } else {
        v
    }
}

fn nmea_object(frame: &Frame<'_>, summary: &mut Summary) -> (Map<String, Value>, String) {
    let text_line = String::from_utf8_lossy(frame.bytes).trim_end().to_string();
    let mut obj = Map::new();
    match nmea::parse(frame.bytes) {
        Ok(s) => {
            summary.frame(s.kind_name());
            if let Ok(Value::Object(fields)) = serde_json::to_value(&s) {
                obj = fields;
            }
            (obj, format!("NMEA  {text_line}"))
        }
        Err(e) => {
            summary.frame("NMEA (undecoded)".into());
            summary.error(&format!("nmea {}", e), e.to_string());
            obj.insert("type".into(), json!("NMEA"));
            obj.insert("error".into(), json!(e.to_string()));
            obj.insert("sentence".into(), json!(text_line));
            (obj, format!("NMEA  {text_line}  error: {e}"))
        }
    }
}

fn ubx_object(frame: &Frame<'_>, summary: &mut Summary) -> (Map<String, Value>, String) {
    let b = frame.bytes;
    let (class, id) = (
        b.get(2).copied().unwrap_or(0),
        b.get(3).copied().unwrap_or(0),
    );
    let name = ubx::message_name(class, id);
    summary.frame(format!("UBX {name}"));
    let len = frame.payload().len();
    let mut obj = Map::new();
    obj.insert("type".into(), json!("UBX"));
    obj.insert("name".into(), json!(name));
    obj.insert("class".into(), json!(class));
    obj.insert("id".into(), json!(id));
    obj.insert("length".into(), json!(len));
    let mut text = format!("UBX   {name:<12} {len:>4} B");
    match ubx::decode_frame(b) {
        Ok(ubx::Ubx::Other(_)) => text.push_str("  not decoded"),
        Ok(m) => {
            if let Ok(Value::Object(fields)) = serde_json::to_value(&m) {
                obj.extend(fields);
            }
            let v = serde_json::to_string(&m).unwrap_or_default();
            text.push_str("  ");
            text.push_str(&v[..v.floor_char_boundary(120)]);
        }
        Err(e) => {
            summary.error(&format!("ubx {}", e.kind()), e.to_string());
            obj.insert("error".into(), json!(e.to_string()));
            text.push_str(&format!("  error: {e}"));
        }
    }
    (obj, text)
}

fn print_summary(framer: &Framer, summary: &Summary) {
    let stats = framer.stats();
    let mut err = io::stderr().lock();
    let total: u64 = summary.frames.values().sum();
    let _ = writeln!(err, "frames: {total}");
    for (k, n) in &summary.frames {
        let _ = writeln!(err, "  {k:<18} {n}");
    }
    let _ = writeln!(
        err,
        "framer: {}",
        serde_json::to_string(stats).unwrap_or_default()
    );
    if !summary.decode_errors.is_empty() {
        let _ = writeln!(err, "decode errors:");
        for (k, n) in &summary.decode_errors {
            let first = summary.first_error.get(k).map(String::as_str).unwrap_or("");
            let _ = writeln!(err, "  {k:<18} {n}  (first: {first})");
        }
    }
}
