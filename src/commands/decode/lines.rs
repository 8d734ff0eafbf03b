//! One output line per frame, text or JSON, written into the caller's buffer.
//!
//! Nothing here allocates once its scratch space has grown: numbers and names are written byte by
//! byte, JSON goes through [`SortedJson`], and the text of an error or of a sentence that is not
//! UTF-8 is formatted into a kept `String`.

use std::fmt::{self, Write as _};
use std::io::{self, Write as _};

use super::json::{SortedJson, push_str, push_u64};
use super::summary::Summary;
use crate::framing::{Frame, FrameKind};
use crate::messages::rtcm3::msm::{Msm, signal_code};
use crate::messages::{nmea, rtcm3};

/// Messages other than MSM and ARP show their JSON in text mode, cut at this many bytes.
const BRIEF_JSON_BYTES: usize = 120;

#[derive(Debug)]
pub struct Lines {
    json: bool,
    sorted: SortedJson,
    /// Scratch for formatted errors and for sentences that are not valid UTF-8.
    text: String,
}

impl Lines {
    pub fn new(json: bool) -> Self {
        Lines {
            json,
            sorted: SortedJson::new(),
            text: String::new(),
        }
    }

    /// Append the line of one frame (with its newline) and count the frame.
    pub fn frame(&mut self, frame: &Frame<'_>, summary: &mut Summary, out: &mut Vec<u8>) {
        match frame.kind {
            FrameKind::Rtcm3 => self.rtcm(frame, summary, out),
            FrameKind::Nmea => self.nmea(frame, summary, out),
            FrameKind::Ubx => self.ubx(frame, summary, out),
        }
        out.push(b'\n');
    }

    fn rtcm(&mut self, frame: &Frame<'_>, summary: &mut Summary, out: &mut Vec<u8>) {
        let payload = frame.payload();
        let number = rtcm3::message_number(payload).unwrap_or(0);
        summary.rtcm(number);
        let decoded = rtcm3::decode(payload);
        if let Err(e) = &decoded {
            summary.error(format_args!("rtcm3 {}", e.kind()), e);
        }
        match (&decoded, self.json) {
            (Ok(msg), true) => self.sorted.write_tagged(out, number, msg),
            (Err(e), true) => {
                out.extend_from_slice(b"{\"error\":");
                self.push_json_display(out, e);
                out.extend_from_slice(b",\"type\":");
                push_u64(out, number.into());
                out.push(b'}');
            }
            (_, false) => {
                // `RTCM3 {number:<4} {len:>4} B  `
                out.extend_from_slice(b"RTCM3 ");
                push_padded(out, number.into(), 4, Align::Left);
                out.push(b' ');
                push_padded(out, frame.bytes.len() as u64, 4, Align::Right);
                out.extend_from_slice(b" B  ");
                match &decoded {
                    Ok(msg) => brief(out, msg),
                    Err(e) => {
                        out.extend_from_slice(b"error: ");
                        push_display(out, e);
                    }
                }
            }
        }
    }

    fn nmea(&mut self, frame: &Frame<'_>, summary: &mut Summary, out: &mut Vec<u8>) {
        let parsed = nmea::parse(frame.bytes);
        match &parsed {
            Ok(s) => summary.nmea(&s.kind),
            Err(e) => {
                summary.nmea_undecoded();
                summary.error(format_args!("nmea {e}"), e);
            }
        }
        match (parsed, self.json) {
            (Ok(s), true) => self.sorted.write_object(out, &s),
            (Ok(_), false) => {
                out.extend_from_slice(b"NMEA  ");
                out.extend_from_slice(lossy_trimmed(frame.bytes, &mut self.text).as_bytes());
            }
            (Err(e), true) => {
                out.extend_from_slice(b"{\"error\":");
                self.push_json_display(out, &e);
                out.extend_from_slice(b",\"sentence\":");
                // A `&str` always serialises.
                let _ = push_str(out, lossy_trimmed(frame.bytes, &mut self.text));
                out.extend_from_slice(b",\"type\":\"NMEA\"}");
            }
            (Err(e), false) => {
                out.extend_from_slice(b"NMEA  ");
                out.extend_from_slice(lossy_trimmed(frame.bytes, &mut self.text).as_bytes());
                out.extend_from_slice(b"  error: ");
                push_display(out, &e);
            }
        }
    }

    fn ubx(&mut self, frame: &Frame<'_>, summary: &mut Summary, out: &mut Vec<u8>) {
        let b = frame.bytes;
        let (class, id) = (
            b.get(2).copied().unwrap_or(0),
            b.get(3).copied().unwrap_or(0),
        );
        summary.ubx(class, id);
        let len = frame.payload().len() as u64;
        if self.json {
            out.extend_from_slice(b"{\"class\":");
            push_u64(out, class.into());
            out.extend_from_slice(b",\"id\":");
            push_u64(out, id.into());
            out.extend_from_slice(b",\"length\":");
            push_u64(out, len);
            out.extend_from_slice(b",\"type\":\"UBX\"}");
        } else {
            // `UBX   {class:02X}-{id:02X} {len:>4} B payload`
            out.extend_from_slice(b"UBX   ");
            push_hex2(out, class);
            out.push(b'-');
            push_hex2(out, id);
            out.push(b' ');
            push_padded(out, len, 4, Align::Right);
            out.extend_from_slice(b" B payload");
        }
    }

    /// A displayed value as a JSON string.
    fn push_json_display(&mut self, out: &mut Vec<u8>, v: &dyn fmt::Display) {
        self.text.clear();
        // Writing into a String cannot fail.
        let _ = write!(self.text, "{v}");
        // A `&str` always serialises.
        let _ = push_str(out, &self.text);
    }
}

/// A few words on what a message carries, for the text output.
fn brief(out: &mut Vec<u8>, msg: &rtcm3::Message) {
    match msg {
        rtcm3::Message::Raw(_) => out.extend_from_slice(b"not decoded (kept as raw payload)"),
        rtcm3::Message::Msm(m) => msm_brief(out, m),
        rtcm3::Message::StationArp(a) => {
            // Formatting into a Vec cannot fail.
            let _ = write!(
                out,
                "station {} ARP {:.4} {:.4} {:.4}",
                a.station, a.x_m, a.y_m, a.z_m
            );
        }
        _ => json_prefix(out, msg),
    }
}

/// The same line as [`Msm::brief`], written in place.
fn msm_brief(out: &mut Vec<u8>, m: &Msm) {
    out.extend_from_slice(b"MSM");
    push_u64(out, m.msm.into());
    out.push(b' ');
    push_display(out, &format_args!("{:?}", m.system));
    out.extend_from_slice(b" epoch ");
    push_u64(out, m.epoch_raw.into());
    out.extend_from_slice(b" sats ");
    let mut letter = [0; 4];
    let letter = m.system.letter().encode_utf8(&mut letter).as_bytes();
    for (i, s) in m.sats.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(letter);
        if s.id < 10 {
            out.push(b'0');
        }
        push_u64(out, s.id.into());
    }
    out.extend_from_slice(b" signals ");
    let ids = (1..=32u8).filter(|id| m.sig_mask & (1 << (32 - id)) != 0);
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(signal_code(m.system, id).unwrap_or("?").as_bytes());
    }
    if m.multiple {
        out.extend_from_slice(b" (more follow)");
    }
}

/// The message's JSON (serde_json's field order), cut to [`BRIEF_JSON_BYTES`] at a character
/// boundary with `…` after it.
fn json_prefix(out: &mut Vec<u8>, msg: &rtcm3::Message) {
    let start = out.len();
    let mut capped = Capped {
        out: &mut *out,
        room: BRIEF_JSON_BYTES + 1,
        full: false,
    };
    let res = serde_json::to_writer(&mut capped, msg);
    let full = capped.full;
    if res.is_err() {
        // As before: a message that does not serialise shows nothing.
        out.truncate(start);
    } else if full {
        // More than BRIEF_JSON_BYTES were written; cut at the last character boundary.
        let mut cut = start + BRIEF_JSON_BYTES;
        while cut > start && (out[cut] & 0xC0) == 0x80 {
            cut -= 1;
        }
        out.truncate(cut);
        out.extend_from_slice("…".as_bytes());
    }
}

/// A writer that keeps the first `room` bytes and counts the rest away. (It does not stop the
/// serialiser with an error: serde_json boxes every error, an allocation per line.)
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    room: usize,
    full: bool,
}

impl io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.room);
        self.out.extend_from_slice(&buf[..n]);
        self.room -= n;
        self.full |= self.room == 0;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The sentence as text, invalid UTF-8 replaced, trailing whitespace (CR LF) cut.
fn lossy_trimmed<'a>(bytes: &'a [u8], scratch: &'a mut String) -> &'a str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.trim_end(),
        Err(_) => {
            scratch.clear();
            for chunk in bytes.utf8_chunks() {
                scratch.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    scratch.push(char::REPLACEMENT_CHARACTER);
                }
            }
            scratch.trim_end()
        }
    }
}

fn push_display(out: &mut Vec<u8>, v: &dyn fmt::Display) {
    // Formatting into a Vec cannot fail.
    let _ = write!(out, "{v}");
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// A number padded with spaces to `width`, as `{:<width}` / `{:>width}` print it.
fn push_padded(out: &mut Vec<u8>, v: u64, width: usize, align: Align) {
    let digits = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let pad = width.saturating_sub(digits);
    if let Align::Right = align {
        out.resize(out.len() + pad, b' ');
    }
    push_u64(out, v);
    if let Align::Left = align {
        out.resize(out.len() + pad, b' ');
    }
}

fn push_hex2(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0xF)]);
}
