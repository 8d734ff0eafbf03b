//! RTCM SC-104 version 2.3 DGNSS corrections, for GIS handhelds and other receivers that take
//! only code corrections: message types 1 (GPS pseudorange and range-rate corrections), 3
//! (reference station position) and 31 (GLONASS corrections).
//!
//! # Wire format
//!
//! A message is a run of 30-bit words: 24 data bits and 6 parity bits computed as for the GPS
//! navigation message (ICD-GPS-200 §20.3.5), chained through the last two parity bits of the
//! previous word, D29* and D30*: when D30* is 1 the word's data bits are sent inverted. The
//! first two words are the header: preamble `0x66`, message type, station ID; then the modified
//! Z-count (0.6 s units of the hour), a 3-bit sequence number, the number of data words and the
//! station health. On a serial line or NTRIP every byte carries six bits ("6 of 8"): the top
//! two bits are `01` and the six data bits are in transmission order from the least significant
//! bit up.
//!
//! # Times
//!
//! A correction holds at the instant of its Z-count, and the Z-count has a 0.6 s step, so each
//! epoch's corrections are carried back to the last 0.6 s mark with their own range-rate
//! correction. GPS messages count GPS time; type 31 counts GLONASS time, whose seconds of the
//! hour are those of UTC.
//!
//! # Values
//!
//! The range-rate correction is the least-squares slope of the satellite's corrections over the
//! last [`RRC_WINDOW_S`] seconds with the same issue of data (a jump when the ephemeris changes
//! must not become a rate). The UDRE class is the RMS of each correction's difference from its
//! prediction one epoch earlier (PRC + RRC·Δt): what a rover sees when it applies the
//! corrections a moment late, as it always does. Corrections beyond the coarse scale's range are
//! left out (counted).

use std::collections::{HashMap, VecDeque};

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::corrections::{CodeCorrection, EpochCorrections};
use crate::gnss::time::{Gpst, leap_seconds_at};

/// The 8-bit preamble of every message.
pub const PREAMBLE: u32 = 0x66;
/// The Z-count step (s).
pub const ZCOUNT_STEP_S: f64 = 0.6;
/// PRC and RRC steps for scale factor 0 and 1.
pub const PRC_STEP_M: [f64; 2] = [0.02, 0.32];
pub const RRC_STEP_MPS: [f64; 2] = [0.002, 0.032];
/// Reference station coordinates step (type 3).
pub const XYZ_STEP_M: f64 = 0.01;
/// Seconds of corrections the range-rate fit looks at.
pub const RRC_WINDOW_S: f64 = 20.0;
/// Type 3 is sent with the first epoch and then every this many seconds of data time.
pub const TYPE3_EVERY_S: f64 = 30.0;
/// Type 31's change-of-ephemeris bit stays set this long after a satellite's new set.
pub const GLONASS_CHANGE_S: f64 = 120.0;
/// Data words per message (5-bit field).
pub const MAX_DATA_WORDS: usize = 31;

/// The GPS word parity (ICD-GPS-200 20.3.5), which RTCM 2 shares with the LNAV message.
pub use crate::messages::navmsg::lnav::{check_word, parity, word};

/// Words as "6 of 8" bytes.
pub fn to_bytes(words: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(words.len() * 5);
    for w in words {
        for k in (0..5).rev() {
            let six = (w >> (6 * k)) & 0x3F;
            out.push(0x40 | reverse6(six as u8));
        }
    }
    out
}

fn reverse6(b: u8) -> u8 {
    (0..6).fold(0, |acc, i| acc | (((b >> i) & 1) << (5 - i)))
}

/// Bits, most significant first, packed into 24-bit data words.
#[derive(Default)]
struct DataBits {
    bits: Vec<bool>,
}

impl DataBits {
    fn put(&mut self, n: u32, v: u64) {
        for i in (0..n).rev() {
            self.bits.push((v >> i) & 1 == 1);
        }
    }
    fn put_i(&mut self, n: u32, v: i64) {
        self.put(n, v as u64 & ((1u64 << n) - 1));
    }
    /// Whole words, the last filled with alternating ones and zeros.
    fn words(mut self) -> Vec<u32> {
        let mut fill = true;
        while !self.bits.len().is_multiple_of(24) {
            self.bits.push(fill);
            fill = !fill;
        }
        self.bits
            .chunks(24)
            .map(|c| c.iter().fold(0u32, |a, &b| (a << 1) | b as u32))
            .collect()
    }
}

/// One satellite's correction as sent (types 1 and 31).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SatCorrection {
    /// PRN (GPS, 1–32) or slot (GLONASS, 1–24).
    pub id: u8,
    /// Scale factor bit: 0 fine, 1 coarse steps.
    pub coarse: bool,
    /// UDRE class 0–3 (≤ 1 m, 1–4 m, 4–8 m, > 8 m).
    pub udre: u8,
    pub prc_m: f64,
    pub rrc_mps: f64,
    /// GPS: IODE; GLONASS: tb (15-minute index of the day) of the ephemeris used.
    pub iod: u8,
    /// GLONASS: the change-of-ephemeris bit.
    pub change: bool,
}

/// A message's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub msg_type: u8,
    pub station: u16,
    /// Modified Z-count, 0.6 s units of the hour (0–5999).
    pub zcount: u16,
    pub seq: u8,
    /// Data words after the header.
    pub length: u8,
    pub health: u8,
}

/// A decoded or to-be-encoded message body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Type 1 (GPS) or 31 (GLONASS).
    Corrections(Vec<SatCorrection>),
    /// Type 3: reference station ECEF (m).
    Station([f64; 3]),
    /// Any other type: the data words.
    Other(Vec<u32>),
}

/// A whole message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub header: Header,
    pub body: Body,
}

fn body_words(msg_type: u8, body: &Body) -> Vec<u32> {
    let mut b = DataBits::default();
    match body {
        Body::Corrections(list) => {
            for c in list {
                let s = c.coarse as usize;
                b.put(1, c.coarse as u64);
                b.put(2, c.udre as u64 & 3);
                b.put(5, (c.id & 31) as u64);
                b.put_i(16, (c.prc_m / PRC_STEP_M[s]).round() as i64);
                b.put_i(8, (c.rrc_mps / RRC_STEP_MPS[s]).round() as i64);
                if msg_type == 31 {
                    b.put(1, c.change as u64);
                    b.put(7, (c.iod & 0x7F) as u64);
                } else {
                    b.put(8, c.iod as u64);
                }
            }
        }
        Body::Station(xyz) => {
            for v in xyz {
                b.put_i(32, (v / XYZ_STEP_M).round() as i64);
            }
        }
        Body::Other(words) => return words.clone(),
    }
    b.words()
}

/// Encode a message after the word `prev` (for D29*/D30*); returns the 30-bit words. The
/// header's length is taken from the body.
pub fn encode_words(header: &Header, body: &Body, prev: u32) -> Vec<u32> {
    let data = body_words(header.msg_type, body);
    let h1 = (PREAMBLE << 16)
        | ((header.msg_type as u32 & 0x3F) << 10)
        | (header.station as u32 & 0x3FF);
    let h2 = ((header.zcount as u32 % 6000) << 11)
        | ((header.seq as u32 & 7) << 8)
        | ((data.len().min(MAX_DATA_WORDS) as u32) << 3)
        | (header.health as u32 & 7);
    let mut out = Vec::with_capacity(data.len() + 2);
    let mut p = prev;
    for d in [h1, h2]
        .into_iter()
        .chain(data.into_iter().take(MAX_DATA_WORDS))
    {
        p = word(d, p);
        out.push(p);
    }
    out
}

/// Reads "6 of 8" bytes: finds the preamble, checks every word's parity, and returns each
/// whole message.
///
/// A receiver that joins a stream between messages does not know the two bits before the
/// first header, so the very first word is tried with each of them (only one can give the
/// preamble). Before the first whole message any lock is tentative: a preamble found inside
/// data bits fails on a later word and is counted in `false_locks`, not as a transmission
/// error. After that, `parity_errors` counts words that failed (the search resumes after them).
#[derive(Debug, Default)]
pub struct Decoder {
    /// The last 32 bits received.
    reg: u64,
    nbits: u32,
    /// Bits received in all, up to 32.
    seen: u32,
    /// Words of the message being read (data after parity check).
    words: Vec<u32>,
    want: Option<usize>,
    /// The last whole word, for D29*/D30*.
    prev: u32,
    /// A whole message has been read, so the word boundaries are known.
    synced: bool,
    pub parity_errors: u64,
    pub false_locks: u64,
    pub skipped_bytes: u64,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes; returns the messages completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Message> {
        let mut out = Vec::new();
        for &c in bytes {
            if c & 0xC0 != 0x40 {
                self.skipped_bytes += 1;
                continue;
            }
            let six = reverse6(c & 0x3F) as u64;
            for i in (0..6).rev() {
                self.reg = ((self.reg << 1) | ((six >> i) & 1)) & ((1 << 32) - 1);
                self.nbits += 1;
                self.seen = (self.seen + 1).min(32);
                self.bit(&mut out);
            }
        }
        out
    }

    fn bit(&mut self, out: &mut Vec<Message>) {
        if self.words.is_empty() {
            // Hunting: the last 30 bits (with the two before them as D29*/D30*) must be a
            // header word with the preamble.
            if self.nbits < 30 {
                return;
            }
            let w = (self.reg & 0x3FFF_FFFF) as u32;
            let before: &[u32] = if self.seen == 30 {
                &[0, 1, 2, 3]
            } else {
                &[((self.reg >> 30) & 3) as u32]
            };
            if let Some(d) = before
                .iter()
                .filter_map(|&p| check_word(w, p))
                .find(|d| d >> 16 == PREAMBLE)
            {
                self.words.push(d);
                self.prev = w;
                self.nbits = 0;
            }
            return;
        }
        if self.nbits < 30 {
            return;
        }
        self.nbits = 0;
        let w = (self.reg & 0x3FFF_FFFF) as u32;
        let Some(d) = check_word(w, self.prev) else {
            if self.synced {
                self.parity_errors += 1;
                self.synced = false;
            } else {
                self.false_locks += 1;
            }
            self.words.clear();
            self.want = None;
            // Hunt again from the next bit on.
            self.nbits = 30;
            return;
        };
        self.prev = w;
        self.words.push(d);
        if self.words.len() == 2 {
            self.want = Some(2 + ((d >> 3) & 0x1F) as usize);
        }
        if self.want.is_some_and(|n| self.words.len() >= n) {
            let words = std::mem::take(&mut self.words);
            self.want = None;
            self.synced = true;
            out.push(parse(&words));
            // The next header starts right after, with this word's last bits as D29*/D30*.
            self.nbits = 0;
        }
    }
}

fn parse(words: &[u32]) -> Message {
    let (h1, h2) = (words[0], words[1]);
    let header = Header {
        msg_type: ((h1 >> 10) & 0x3F) as u8,
        station: (h1 & 0x3FF) as u16,
        zcount: ((h2 >> 11) & 0x1FFF) as u16,
        seq: ((h2 >> 8) & 7) as u8,
        length: ((h2 >> 3) & 0x1F) as u8,
        health: (h2 & 7) as u8,
    };
    let data = &words[2..];
    let bits: Vec<bool> = data
        .iter()
        .flat_map(|w| (0..24).rev().map(move |i| (w >> i) & 1 == 1))
        .collect();
    let take = |at: &mut usize, n: usize| -> u64 {
        let v = bits[*at..*at + n]
            .iter()
            .fold(0u64, |a, &b| (a << 1) | b as u64);
        *at += n;
        v
    };
    let signed = |v: u64, n: u32| -> i64 { ((v << (64 - n)) as i64) >> (64 - n) };
    let body = match header.msg_type {
        1 | 9 | 31 => {
            let mut list = Vec::new();
            let mut at = 0;
            while at + 40 <= bits.len() {
                let coarse = take(&mut at, 1) == 1;
                let udre = take(&mut at, 2) as u8;
                let id = take(&mut at, 5) as u8;
                let prc = signed(take(&mut at, 16), 16);
                let rrc = signed(take(&mut at, 8), 8);
                let (change, iod) = if header.msg_type == 31 {
                    (take(&mut at, 1) == 1, take(&mut at, 7) as u8)
                } else {
                    (false, take(&mut at, 8) as u8)
                };
                let s = coarse as usize;
                list.push(SatCorrection {
                    id: if id == 0 && header.msg_type != 31 {
                        32
                    } else {
                        id
                    },
                    coarse,
                    udre,
                    prc_m: prc as f64 * PRC_STEP_M[s],
                    rrc_mps: rrc as f64 * RRC_STEP_MPS[s],
                    iod,
                    change,
                });
            }
            Body::Corrections(list)
        }
        3 if bits.len() >= 96 => {
            let mut at = 0;
            let mut xyz = [0.0; 3];
            for v in &mut xyz {
                *v = signed(take(&mut at, 32), 32) as f64 * XYZ_STEP_M;
            }
            Body::Station(xyz)
        }
        _ => Body::Other(data.to_vec()),
    };
    Message { header, body }
}

#[derive(Debug, Default)]
struct Track {
    iod: u8,
    /// (time, prc) with the current iod.
    samples: VecDeque<(Gpst, f64)>,
    /// Mean square of the prediction differences, and how many went in.
    ms: f64,
    n: u32,
    /// Last prediction: (time, prc, rrc).
    last: Option<(Gpst, f64, f64)>,
    changed_at: Option<Gpst>,
}

impl Track {
    fn rrc(&self) -> f64 {
        let n = self.samples.len();
        if n < 3 {
            return 0.0;
        }
        let t0 = self.samples[0].0;
        let (mut st, mut sp, mut stt, mut stp) = (0.0, 0.0, 0.0, 0.0);
        for (t, p) in &self.samples {
            let x = t.diff(t0);
            st += x;
            sp += p;
            stt += x * x;
            stp += x * p;
        }
        let nf = n as f64;
        let den = nf * stt - st * st;
        if den.abs() < 1e-9 {
            0.0
        } else {
            (nf * stp - st * sp) / den
        }
    }

    fn udre(&self) -> u8 {
        if self.n < 5 {
            // Not enough history to tell: the class of an ordinary code correction.
            return 1;
        }
        match self.ms.sqrt() {
            s if s <= 1.0 => 0,
            s if s <= 4.0 => 1,
            s if s <= 8.0 => 2,
            _ => 3,
        }
    }
}

/// Counters of the RTCM 2 output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rtcm2Stats {
    pub messages: u64,
    /// Corrections too large even for the coarse scale (left out).
    pub out_of_range: u64,
}

/// Turns the engine's per-epoch corrections into RTCM 2.3 bytes.
#[derive(Debug)]
pub struct Rtcm2Encoder {
    pub station_id: u16,
    seq: u8,
    prev: u32,
    tracks: HashMap<(Gnss, u8), Track>,
    last_type3: Option<Gpst>,
    pub stats: Rtcm2Stats,
}

/// The instant of the last Z-count mark at or before `t` (GPST), counting in a scale `offset_s`
/// seconds behind GPST, and that Z-count.
fn zcount_mark(t: Gpst, offset_s: f64) -> (Gpst, u16) {
    let local = t.add(-offset_s);
    let soh = local.secs().rem_euclid(3600) as f64 + local.frac();
    // A hair of slack so an epoch exactly on a mark is not put on the previous one.
    let k = ((soh + 1e-6) / ZCOUNT_STEP_S).floor();
    let mark = t.add(k * ZCOUNT_STEP_S - soh);
    (mark, (k as u16).min(5999))
}

/// Scale factor and values for a correction, or `None` when even the coarse steps cannot hold it.
fn scaled(prc: f64, rrc: f64) -> Option<(bool, f64, f64)> {
    for (s, coarse) in [(0usize, false), (1, true)] {
        let p = (prc / PRC_STEP_M[s]).round();
        let r = (rrc / RRC_STEP_MPS[s]).round();
        // −32768 and −128 are the "do not use" values.
        if (-32767.0..=32767.0).contains(&p) && (-127.0..=127.0).contains(&r) {
            return Some((coarse, p * PRC_STEP_M[s], r * RRC_STEP_MPS[s]));
        }
    }
    None
}

impl Rtcm2Encoder {
    pub fn new(station_id: u16) -> Self {
        Rtcm2Encoder {
            station_id: station_id & 0x3FF,
            seq: 0,
            prev: 0,
            tracks: HashMap::new(),
            last_type3: None,
            stats: Rtcm2Stats::default(),
        }
    }

    fn message(&mut self, msg_type: u8, zcount: u16, body: &Body, out: &mut Vec<u8>) {
        let header = Header {
            msg_type,
            station: self.station_id,
            zcount,
            seq: self.seq,
            length: 0,
            health: 0,
        };
        self.seq = (self.seq + 1) & 7;
        let words = encode_words(&header, body, self.prev);
        if let Some(&w) = words.last() {
            self.prev = w;
        }
        self.stats.messages += 1;
        out.extend(to_bytes(&words));
    }

    /// The RTCM 2.3 bytes of the corrections a station published for one epoch.
    pub fn encode(&mut self, c: &EpochCorrections) -> Vec<u8> {
        self.epoch(c.time, &c.sats, Some(&c.station))
    }

    /// The RTCM 2.3 bytes of one epoch: type 3 when due, type 1 for GPS and 31 for GLONASS.
    pub fn epoch(
        &mut self,
        t: Gpst,
        corrections: &[CodeCorrection],
        station: Option<&Vector3<f64>>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        // Keep each satellite's history; drop satellites no longer corrected.
        let present: std::collections::HashSet<(Gnss, u8)> =
            corrections.iter().map(|c| (c.sys, c.prn)).collect();
        self.tracks.retain(|k, _| present.contains(k));
        let mut per_sys: HashMap<Gnss, Vec<(CodeCorrection, f64, u8, bool)>> = HashMap::new();
        for c in corrections {
            let tr = self.tracks.entry((c.sys, c.prn)).or_default();
            if tr.iod != c.iod || tr.samples.is_empty() {
                if !tr.samples.is_empty() {
                    tr.changed_at = Some(t);
                }
                tr.iod = c.iod;
                tr.samples.clear();
                tr.last = None;
            }
            if let Some((t0, p0, r0)) = tr.last {
                let e = c.prc_m - (p0 + r0 * t.diff(t0));
                // A running mean square that forgets over about twenty epochs.
                tr.n += 1;
                let a = 1.0 / (tr.n.min(20) as f64);
                tr.ms += a * (e * e - tr.ms);
            }
            tr.samples.push_back((t, c.prc_m));
            while tr
                .samples
                .front()
                .is_some_and(|(s, _)| t.diff(*s) > RRC_WINDOW_S)
            {
                tr.samples.pop_front();
            }
            let rrc = tr.rrc();
            tr.last = Some((t, c.prc_m, rrc));
            let change = tr
                .changed_at
                .is_some_and(|at| t.diff(at) < GLONASS_CHANGE_S);
            per_sys
                .entry(c.sys)
                .or_default()
                .push((*c, rrc, tr.udre(), change));
        }
        let gps_offset = 0.0;
        if let Some(st) = station
            && self
                .last_type3
                .is_none_or(|l| t.diff(l) >= TYPE3_EVERY_S || t.diff(l) < 0.0)
        {
            self.last_type3 = Some(t);
            let (_, z) = zcount_mark(t, gps_offset);
            self.message(3, z, &Body::Station([st.x, st.y, st.z]), &mut out);
        }
        // GLONASS time's seconds of the hour are UTC's: GPST minus the leap seconds.
        let glo_offset = leap_seconds_at(t) as f64;
        for (sys, msg_type, offset) in [
            (Gnss::Gps, 1u8, gps_offset),
            (Gnss::Glonass, 31, glo_offset),
        ] {
            let Some(mut list) = per_sys.remove(&sys) else {
                continue;
            };
            list.sort_by_key(|x| x.0.prn);
            let (mark, z) = zcount_mark(t, offset);
            let dt = mark.diff(t);
            let mut sats = Vec::new();
            for (c, rrc, udre, change) in list {
                if !(1..=32).contains(&c.prn) {
                    continue;
                }
                // The correction at the Z-count's instant.
                let Some((coarse, prc, rrc)) = scaled(c.prc_m + rrc * dt, rrc) else {
                    self.stats.out_of_range += 1;
                    continue;
                };
                sats.push(SatCorrection {
                    id: c.prn,
                    coarse,
                    udre,
                    prc_m: prc,
                    rrc_mps: rrc,
                    iod: c.iod,
                    change: msg_type == 31 && change,
                });
            }
            // 31 words hold 18 corrections of 40 bits.
            for chunk in sats.chunks(MAX_DATA_WORDS * 24 / 40) {
                self.message(msg_type, z, &Body::Corrections(chunk.to_vec()), &mut out);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parity_of_known_words() {
        // All zeros after a word ending in 00: nothing to invert, parity zero.
        assert_eq!(word(0, 0), 0);
        // All ones: D25–D28 and D30 sum an even number of data bits, D29 sums fifteen.
        assert_eq!(word(0xFF_FFFF, 0), 0x3FFF_FFC3);
        assert_eq!(parity(0xFF_FFFF, 0), 0b000011);
        // D29* enters D25, D27 and D30; D30* enters D26, D28, D29 and inverts the data.
        assert_eq!(parity(0, 0b10), 0b101001);
        assert_eq!(parity(0, 0b01), 0b010110);
        assert_eq!(word(0, 0b01), (0xFF_FFFF << 6) | 0b010110);
        // The header of a type 1 message from station 0: preamble 0x66 and type 1.
        let d = (0x66 << 16) | (1 << 10);
        let w = word(d, 0);
        assert_eq!(w >> 6, d);
        assert_eq!(check_word(w, 0), Some(d));
    }

    #[test]
    fn every_single_bit_error_is_caught() {
        for prev in 0..4 {
            for d in [0u32, 0xFF_FFFF, 0x66_0400, 0x12_3456, 0xAB_CDEF] {
                let w = word(d, prev);
                assert_eq!(check_word(w, prev), Some(d));
                for b in 0..30 {
                    assert_eq!(check_word(w ^ (1 << b), prev), None, "bit {b}");
                }
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut dec = Decoder::new();
        let mut x: u32 = 12345;
        for _ in 0..200_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let _ = dec.push(&[0x40 | (x >> 16) as u8 & 0x3F, (x >> 8) as u8]);
        }
    }

    #[test]
    fn six_of_eight_bytes() {
        // 30 bits 100000 000000 … : the first bit goes to the least significant bit of a byte.
        let b = to_bytes(&[1 << 29]);
        assert_eq!(b, vec![0x41, 0x40, 0x40, 0x40, 0x40]);
    }

    #[test]
    fn messages_round_trip_through_the_decoder() {
        let mut enc = Rtcm2Encoder::new(517);
        let t = Gpst::from_week_tow(2010, 1234.0);
        let mut bytes = Vec::new();
        for k in 0..10 {
            let t = t.add(k as f64);
            let cs: Vec<CodeCorrection> = (1..=20)
                .map(|prn| CodeCorrection {
                    sys: if prn > 12 { Gnss::Glonass } else { Gnss::Gps },
                    prn,
                    prc_m: prn as f64 * 37.7 - 300.0
                        + 0.1 * k as f64
                        + if prn == 5 { 900.0 } else { 0.0 },
                    iod: prn * 3,
                })
                .collect();
            bytes.extend(enc.epoch(
                t,
                &cs,
                Some(&Vector3::new(-4467103.2326, 2683039.4771, -3666948.7128)),
            ));
        }
        // Bytes that are not "6 of 8" before the stream: skipped.
        let mut noisy = vec![0x00, 0xFF, 0x80, 0xD3];
        noisy.extend_from_slice(&bytes);
        let mut dec = Decoder::new();
        let msgs: Vec<Message> = noisy.chunks(7).flat_map(|c| dec.push(c)).collect();
        assert_eq!(dec.parity_errors, 0);
        assert_eq!(dec.skipped_bytes, 4);
        assert_eq!(msgs.len() as u64, enc.stats.messages);
        let station = msgs.iter().find(|m| m.header.msg_type == 3).unwrap();
        let Body::Station(xyz) = station.body else {
            panic!()
        };
        assert!((xyz[0] + 4467103.2326).abs() <= 0.005);
        let last1 = msgs.iter().rev().find(|m| m.header.msg_type == 1).unwrap();
        assert_eq!(last1.header.station, 517);
        let Body::Corrections(list) = &last1.body else {
            panic!()
        };
        assert_eq!(list.len(), 12);
        let five = list.iter().find(|c| c.id == 5).unwrap();
        assert!(five.coarse, "{five:?}");
        assert!((five.prc_m - (5.0 * 37.7 - 300.0 + 0.9 + 900.0)).abs() < 0.32);
        assert!((five.rrc_mps - 0.1).abs() <= 0.032);
        let one = list.iter().find(|c| c.id == 1).unwrap();
        assert!(!one.coarse);
        assert_eq!(one.iod, 3);
        // The Z-count is the 0.6 s mark at or before 1234 s: 1234 s into the hour is 2056.67.
        assert_eq!(msgs[0].header.zcount, 2056);
        let glo = msgs.iter().find(|m| m.header.msg_type == 31).unwrap();
        let Body::Corrections(g) = &glo.body else {
            panic!()
        };
        assert_eq!(g.len(), 8);
        assert_eq!(g[0].iod, (13 * 3) & 0x7F);
        // Sequence numbers count modulo 8.
        for w in msgs.windows(2) {
            assert_eq!(w[1].header.seq, (w[0].header.seq + 1) & 7);
        }
    }

    /// Ten epochs of the encoder, each epoch's bytes apart.
    fn ten_epochs() -> Vec<Vec<u8>> {
        let mut enc = Rtcm2Encoder::new(7);
        let t = Gpst::from_week_tow(2010, 600.0);
        (0..10)
            .map(|k| {
                let cs: Vec<CodeCorrection> = (1..=14)
                    .map(|prn| CodeCorrection {
                        sys: if prn > 10 { Gnss::Glonass } else { Gnss::Gps },
                        prn,
                        prc_m: prn as f64 * 11.3 - 70.0 + 0.3 * k as f64,
                        iod: prn,
                    })
                    .collect();
                enc.epoch(
                    t.add(k as f64),
                    &cs,
                    Some(&Vector3::new(-941_700.0, 5_967_000.0, 1_955_900.0)),
                )
            })
            .collect()
    }

    #[test]
    fn a_receiver_joining_at_any_epoch_reads_every_message_of_it() {
        let epochs = ten_epochs();
        for from in 0..epochs.len() {
            let mut dec = Decoder::new();
            let want = epochs[from..]
                .iter()
                .map(|e| {
                    let mut d = Decoder::new();
                    d.push(e).len()
                })
                .sum::<usize>();
            let got: usize = epochs[from..].iter().map(|e| dec.push(e).len()).sum();
            // Whatever the bits before the first header were, it is found at once.
            assert_eq!(got, want, "joined at epoch {from}");
            assert_eq!((dec.parity_errors, dec.false_locks), (0, 0));
        }
    }

    #[test]
    fn joining_inside_a_message_is_no_transmission_error() {
        let epochs = ten_epochs();
        let bytes: Vec<u8> = epochs.concat();
        let total = Decoder::new().push(&bytes).len();
        for from in (1..bytes.len() / 2).step_by(7) {
            let mut dec = Decoder::new();
            let got = dec.push(&bytes[from..]).len();
            assert_eq!(dec.parity_errors, 0, "joined at byte {from}");
            // The messages of the epochs that begin after the join are all read, but for
            // one whose header a false lock in the data before it may hide.
            let (mut start, mut whole) = (0, 0);
            for e in &epochs {
                if start >= from {
                    whole += Decoder::new().push(e).len();
                }
                start += e.len();
            }
            assert!(got + 1 >= whole, "joined at byte {from}: {got} of {whole}");
        }
        // A word spoilt after the decoder has read whole messages is a parity error.
        let mut spoilt = bytes.clone();
        spoilt[bytes.len() / 2] ^= 0x04;
        let mut dec = Decoder::new();
        let got = dec.push(&spoilt).len();
        assert_eq!(dec.parity_errors, 1);
        assert!(got < total && got + 2 >= total, "{got} of {total}");
    }
}
