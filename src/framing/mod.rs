//! Resynchronising demultiplexer for RTCM3, NMEA 0183 and UBX in one byte stream.
//!
//! A receiver port or a recording mixes the three protocols, and links drop bytes. The framer
//! looks for a sync byte (`0xD3`, `$`/`!`, `0xB5 0x62`), asks the nom parser of that protocol
//! whether a whole, valid frame starts there, and:
//!
//! * returns the frame when it is complete and its checksum holds;
//! * waits (nom `Incomplete`) when the bytes so far could still become a valid frame — so any
//!   chunking of the input gives the same frames;
//! * otherwise counts the failure and resumes the search at the byte **after the sync byte**,
//!   not after the claimed length, so that a valid frame hidden under a bogus length is still
//!   found.
//!
//! Every byte outside a valid frame is counted as discarded. The buffer is compacted as frames
//! are consumed, so memory stays flat however long the stream.
//!
//! Limits: an NMEA sentence is at most [`NMEA_MAX_LEN`] bytes (the standard's 82 plus room for
//! receivers that exceed it, such as Unicore's 106-byte GSA); a UBX payload at most
//! [`UBX_MAX_PAYLOAD`] bytes — longer claims are treated as garbage so that noise cannot stall
//! the stream waiting for 64 KiB.

pub mod crc;
pub mod rtcm3;

use std::sync::Arc;

use nom::{Err, IResult, Needed};
use serde::Serialize;

pub use crc::{crc24q, nmea_checksum, ubx_checksum};
pub use rtcm3::message_number;

/// Longest NMEA sentence accepted, `$` to LF inclusive.
pub const NMEA_MAX_LEN: usize = 200;
/// Largest UBX payload accepted.
pub const UBX_MAX_PAYLOAD: usize = 8192;
/// Largest RTCM3 payload (10-bit length).
pub const RTCM3_MAX_PAYLOAD: usize = 1023;

/// The protocol of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FrameKind {
    Rtcm3,
    Nmea,
    Ubx,
}

/// A complete, checked frame: its whole bytes, header and checksum included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub kind: FrameKind,
    pub bytes: &'a [u8],
}

impl<'a> Frame<'a> {
    /// RTCM3: the message (between header and CRC). NMEA: between `$` and `*`. UBX: the payload.
    pub fn payload(&self) -> &'a [u8] {
        let b = self.bytes;
        match self.kind {
            FrameKind::Rtcm3 => &b[3..b.len() - 3],
            FrameKind::Nmea => {
                let star = b.iter().rposition(|&c| c == b'*').unwrap_or(b.len());
                &b[1..star.max(1)]
            }
            FrameKind::Ubx => &b[6..b.len() - 2],
        }
    }

    /// The RTCM3 message number, for RTCM3 frames with a payload of at least 2 bytes.
    pub fn rtcm_number(&self) -> Option<u16> {
        match self.kind {
            FrameKind::Rtcm3 => message_number(self.payload()),
            _ => None,
        }
    }
}

/// A checked frame as the station publishes it to every consumer of the raw stream (caster,
/// pushes, outputs, archive), shared without copying.
#[derive(Clone, Debug, PartialEq)]
pub struct RawFrame {
    pub kind: FrameKind,
    /// RTCM3 message number.
    pub number: Option<u16>,
    pub bytes: Arc<[u8]>,
    /// GNSS time of the epoch being assembled when the frame arrived (for archive rotation and
    /// message intervals), as GPS nanoseconds since 1980-01-06 without leap seconds: a plain
    /// integer, so that framing depends on no time type (`Gpst::from_gps_ns` reads it).
    pub data_time_ns: Option<i64>,
    /// Made by the station from what it received (RTCM3 from a u-blox receiver's raw
    /// measurements), not received: feeds send it, the raw archive leaves it out.
    pub made: bool,
}

/// Why no frame starts at a sync byte. None of these ends a stream: the search goes on at the
/// byte after the sync byte, so there is no "can the stream continue" question to ask.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The byte is not a sync byte of any protocol.
    #[error("no frame starts here")]
    NotSync,
    /// RTCM3 header whose 6 reserved bits are not zero: not a frame.
    #[error("RTCM3 header with reserved bits {bits:#04x}")]
    Reserved { bits: u8 },
    /// RTCM3 frame whose CRC-24Q does not match.
    #[error("RTCM3 CRC mismatch: computed {computed:06x}, frame carries {carried:06x}")]
    Crc { computed: u32, carried: u32 },
    /// `$`/`!` followed by a byte that no NMEA sentence contains.
    #[error("not an NMEA sentence (byte {byte:#04x})")]
    NmeaNotText { byte: u8 },
    /// Printable text longer than any sentence without a line end.
    #[error("NMEA sentence longer than {max} bytes")]
    NmeaTooLong { max: usize },
    /// A line that does not end in `*hh`.
    #[error("NMEA sentence without a checksum")]
    NmeaNoChecksum,
    /// A sentence whose XOR checksum does not match.
    #[error("NMEA checksum mismatch: computed {computed:02X}, sentence carries {carried:02X}")]
    NmeaChecksum { computed: u8, carried: u8 },
    /// A UBX header claiming more than [`UBX_MAX_PAYLOAD`] bytes.
    #[error("UBX length {len} above the {max}-byte limit")]
    UbxTooLong { len: usize, max: usize },
    /// A UBX frame whose Fletcher checksum does not match.
    #[error("UBX checksum mismatch")]
    UbxChecksum,
}

impl FrameError {
    /// Whether this was a frame with a bad checksum (counted as a bad frame) rather than a sync
    /// byte inside noise (counted only as discarded bytes). A text line without `*hh` is noise:
    /// comments, modem chatter and shell prompts look like that far more often than a receiver
    /// omits the checksum.
    pub fn is_bad_frame(&self) -> bool {
        matches!(
            self,
            FrameError::Crc { .. }
                | FrameError::NmeaChecksum { .. }
                | FrameError::NmeaTooLong { .. }
                | FrameError::UbxChecksum
        )
    }
}

type FResult<'a> = IResult<&'a [u8], Frame<'a>, FrameError>;

fn need(input: &[u8], n: usize) -> Result<(), Err<FrameError>> {
    if input.len() < n {
        Err(Err::Incomplete(Needed::new(n - input.len())))
    } else {
        Ok(())
    }
}

fn rtcm3(input: &[u8]) -> FResult<'_> {
    need(input, 3)?;
    let reserved = input[1] & 0xFC;
    if reserved != 0 {
        return Err(Err::Error(FrameError::Reserved { bits: reserved }));
    }
    // The preamble and the length are there (checked above): `frame_len` has its answer.
    let total = rtcm3::frame_len(input).unwrap_or(6);
    let len = total - 6;
    need(input, total)?;
    let computed = crc24q(&input[..len + 3]);
    let carried = u32::from_be_bytes([0, input[len + 3], input[len + 4], input[len + 5]]);
    if computed != carried {
        return Err(Err::Error(FrameError::Crc { computed, carried }));
    }
    Ok((
        &input[total..],
        Frame {
            kind: FrameKind::Rtcm3,
            bytes: &input[..total],
        },
    ))
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn nmea(input: &[u8]) -> FResult<'_> {
    let limit = input.len().min(NMEA_MAX_LEN);
    let mut lf = None;
    for (i, &b) in input[..limit].iter().enumerate().skip(1) {
        match b {
            b'\n' => {
                lf = Some(i);
                break;
            }
            // `$` and `!` only ever start a sentence: a second one means the first was noise (or
            // a receiver's doubled start character, as ST's Teseo writes).
            b'$' | b'!' => return Err(Err::Error(FrameError::NmeaNotText { byte: b })),
            b'\r' | 0x20..=0x7E => {}
            _ => return Err(Err::Error(FrameError::NmeaNotText { byte: b })),
        }
    }
    let Some(lf) = lf else {
        if input.len() >= NMEA_MAX_LEN {
            return Err(Err::Error(FrameError::NmeaTooLong { max: NMEA_MAX_LEN }));
        }
        return Err(Err::Incomplete(Needed::new(1)));
    };
    let line_end = if lf >= 1 && input[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    // `*hh` right before the line end.
    if line_end < 4 || input[line_end - 3] != b'*' {
        return Err(Err::Error(FrameError::NmeaNoChecksum));
    }
    let (Some(h), Some(l)) = (
        hex_digit(input[line_end - 2]),
        hex_digit(input[line_end - 1]),
    ) else {
        return Err(Err::Error(FrameError::NmeaNoChecksum));
    };
    let carried = (h << 4) | l;
    let computed = nmea_checksum(&input[1..line_end - 3]);
    if computed != carried {
        return Err(Err::Error(FrameError::NmeaChecksum { computed, carried }));
    }
    Ok((
        &input[lf + 1..],
        Frame {
            kind: FrameKind::Nmea,
            bytes: &input[..=lf],
        },
    ))
}

fn ubx(input: &[u8]) -> FResult<'_> {
    need(input, 2)?;
    if input[1] != 0x62 {
        return Err(Err::Error(FrameError::NotSync));
    }
    need(input, 6)?;
    let len = u16::from_le_bytes([input[4], input[5]]) as usize;
    if len > UBX_MAX_PAYLOAD {
        return Err(Err::Error(FrameError::UbxTooLong {
            len,
            max: UBX_MAX_PAYLOAD,
        }));
    }
    let total = len + 8;
    need(input, total)?;
    let (a, b) = ubx_checksum(&input[2..6 + len]);
    if (a, b) != (input[6 + len], input[7 + len]) {
        return Err(Err::Error(FrameError::UbxChecksum));
    }
    Ok((
        &input[total..],
        Frame {
            kind: FrameKind::Ubx,
            bytes: &input[..total],
        },
    ))
}

/// One streaming step: the frame that starts at `input[0]`, `Incomplete` when more bytes could
/// still make one, or the reason none starts there.
pub fn parse_frame(input: &[u8]) -> FResult<'_> {
    match input.first() {
        None => Err(Err::Incomplete(Needed::new(1))),
        Some(0xD3) => rtcm3(input),
        Some(b'$') | Some(b'!') => nmea(input),
        Some(0xB5) => ubx(input),
        Some(_) => Err(Err::Error(FrameError::NotSync)),
    }
}

/// Wrap an RTCM3 payload into a frame: preamble, 10-bit length, payload, CRC-24Q.
///
/// Payloads longer than 1023 bytes cannot be framed; they are cut at 1023 bytes (encoders split
/// large MSM epochs into several messages, so this does not happen with their output).
pub fn rtcm3_frame(payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(RTCM3_MAX_PAYLOAD)];
    let len = payload.len();
    let mut f = Vec::with_capacity(len + 6);
    f.push(0xD3);
    f.push((len >> 8) as u8 & 0x03);
    f.push(len as u8);
    f.extend_from_slice(payload);
    let crc = crc24q(&f);
    f.extend_from_slice(&crc.to_be_bytes()[1..]);
    f
}

/// Counters of what the framer saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FramerStats {
    /// Bytes pushed in.
    pub bytes: u64,
    pub rtcm3_frames: u64,
    pub nmea_frames: u64,
    pub ubx_frames: u64,
    /// RTCM3 frames whose CRC failed.
    pub rtcm3_crc_errors: u64,
    /// NMEA sentences with a bad or missing checksum, or too long.
    pub nmea_errors: u64,
    /// UBX frames whose checksum failed.
    pub ubx_checksum_errors: u64,
    /// Bytes outside any valid frame.
    pub discarded_bytes: u64,
}

impl FramerStats {
    pub fn frames(&self) -> u64 {
        self.rtcm3_frames + self.nmea_frames + self.ubx_frames
    }
    pub fn bad_frames(&self) -> u64 {
        self.rtcm3_crc_errors + self.nmea_errors + self.ubx_checksum_errors
    }
}

/// The incremental framer: push bytes in, take frames out.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    stats: FramerStats,
    /// The most recent framing error, for "log once per kind" by the caller.
    last_error: Option<FrameError>,
}

/// Compact the buffer once this many consumed bytes sit at its front.
const COMPACT_AT: usize = 64 * 1024;

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh framer (no buffered bytes) that goes on counting from `stats`: a new connection
    /// of the same source.
    pub fn with_stats(stats: FramerStats) -> Self {
        Framer {
            stats,
            ..Self::default()
        }
    }

    /// Append received bytes.
    pub fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && (self.pos == self.buf.len() || self.pos >= COMPACT_AT) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
        self.stats.bytes += data.len() as u64;
    }

    /// Mark the end of the input: what is left is drained by [`Framer::next_frame`], incomplete
    /// candidates counted as garbage and searched past.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Bytes held but not yet framed or discarded.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn stats(&self) -> &FramerStats {
        &self.stats
    }

    /// The last framing error seen (cleared when read).
    pub fn take_last_error(&mut self) -> Option<FrameError> {
        self.last_error.take()
    }

    /// The next complete frame, or `None` when more input is needed (or, after `finish`, when
    /// everything is consumed).
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        loop {
            let rest = &self.buf[self.pos..];
            let skip = rest
                .iter()
                .position(|&b| matches!(b, 0xD3 | b'$' | b'!' | 0xB5))
                .unwrap_or(rest.len());
            self.stats.discarded_bytes += skip as u64;
            self.pos += skip;
            if self.pos == self.buf.len() {
                return None;
            }
            match parse_frame(&self.buf[self.pos..]) {
                Ok((_, frame)) => {
                    let (kind, len) = (frame.kind, frame.bytes.len());
                    match kind {
                        FrameKind::Rtcm3 => self.stats.rtcm3_frames += 1,
                        FrameKind::Nmea => self.stats.nmea_frames += 1,
                        FrameKind::Ubx => self.stats.ubx_frames += 1,
                    }
                    let start = self.pos;
                    self.pos += len;
                    return Some(Frame {
                        kind,
                        bytes: &self.buf[start..start + len],
                    });
                }
                Err(Err::Incomplete(_)) if !self.eof => return None,
                Err(Err::Incomplete(_)) => {
                    // A frame cut off by the end of the input.
                    self.stats.discarded_bytes += 1;
                    self.pos += 1;
                }
                Err(Err::Error(e)) | Err(Err::Failure(e)) => {
                    match &e {
                        FrameError::Crc { .. } => self.stats.rtcm3_crc_errors += 1,
                        FrameError::UbxChecksum => self.stats.ubx_checksum_errors += 1,
                        e if e.is_bad_frame() => self.stats.nmea_errors += 1,
                        _ => {}
                    }
                    if e.is_bad_frame() {
                        self.last_error = Some(e);
                    }
                    self.stats.discarded_bytes += 1;
                    self.pos += 1;
                }
            }
        }
    }
}

/// All frames of a complete byte slice, with the framer's counters.
pub fn frames(data: &[u8]) -> (Vec<(FrameKind, Vec<u8>)>, FramerStats) {
    let mut f = Framer::new();
    f.push(data);
    f.finish();
    let mut out = Vec::new();
    while let Some(fr) = f.next_frame() {
        out.push((fr.kind, fr.bytes.to_vec()));
    }
    (out, f.stats().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip_and_resync_past_a_bogus_length() {
        let good = rtcm3_frame(&[0x3E, 0xD0, 1, 2, 3]);
        // A fake header claiming 40 bytes swallows the good frame; its CRC fails, and the
        // search restarts one byte later, finding the good frame.
        let mut data = vec![0xD3, 0x00, 40];
        data.extend_from_slice(&good);
        data.extend_from_slice(&[0u8; 40]);
        let (frames, stats) = frames(&data);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].1, good);
        assert_eq!(stats.rtcm3_crc_errors, 1);
        assert_eq!(stats.discarded_bytes, 3 + 40);
    }

    #[test]
    fn nmea_and_ubx_frames() {
        let s = b"junk$GPGGA,,,,,,0,00,99.99,,,,,,*48\r\n";
        let mut ubx = vec![0xB5, 0x62, 0x06, 0x01, 0x02, 0x00, 0xF0, 0x05];
        let (a, b) = ubx_checksum(&ubx[2..]);
        ubx.extend_from_slice(&[a, b]);
        let mut data = s.to_vec();
        data.extend_from_slice(&ubx);
        let (frames, stats) = frames(&data);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].0, FrameKind::Nmea);
        assert_eq!(frames[1].0, FrameKind::Ubx);
        assert_eq!(stats.discarded_bytes, 4);
        let f = Frame {
            kind: FrameKind::Nmea,
            bytes: &frames[0].1,
        };
        assert_eq!(f.payload(), b"GPGGA,,,,,,0,00,99.99,,,,,,");
    }

    #[test]
    fn byte_by_byte_gives_the_same_frames() {
        let mut data = b"$GPGGA,,,,,,0,00,99.99,,,,,,*48\r\n".to_vec();
        data.extend(rtcm3_frame(&[0x3E, 0xD0, 9]));
        data.extend([0xD3, 0x00]);
        let whole = frames(&data).0;
        let mut f = Framer::new();
        let mut got = Vec::new();
        for b in &data {
            f.push(std::slice::from_ref(b));
            while let Some(fr) = f.next_frame() {
                got.push((fr.kind, fr.bytes.to_vec()));
            }
        }
        f.finish();
        while let Some(fr) = f.next_frame() {
            got.push((fr.kind, fr.bytes.to_vec()));
        }
        assert_eq!(got, whole);
        assert_eq!(f.stats().discarded_bytes, 2);
    }
}
