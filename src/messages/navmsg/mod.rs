//! Broadcast navigation messages as the satellites send them, decoded into ephemerides.
//!
//! A raw receiver (u-blox RXM-SFRBX, and in the same form Septentrio, Unicore or Trimble raw
//! navigation bits) hands over the words of the signal-in-space message. This module checks
//! each unit with the code its interface document defines, assembles the units of one issue of
//! data per satellite, and emits a record when the set is complete and consistent:
//!
//! | system | unit | check | set | file |
//! |---|---|---|---|---|
//! | GPS, QZSS LNAV (L1 C/A) | subframe of 10 × 30-bit words | (32,26) Hamming parity of every word (IS-GPS-200 20.3.5) | subframes 1–3, IODE = IODE = IODC mod 256 | [`lnav`] |
//! | Galileo I/NAV (E1-B, E5b-I) | even + odd page pair | CRC-24Q over 196 bits (Galileo OS SIS ICD 4.3.2) | word types 1–4 of one IODnav, and 5 | [`inav`] |
//! | BeiDou D1 (MEO/IGSO, B1I/B2I) | subframe of 10 × 30-bit words | BCH(15,11) on each of 19 code words (BDS-SIS-ICD-B1I 5.1.3) | subframes 1–3 of one frame, toc = toe | [`bds`] |
//! | BeiDou D2 (GEO) | subframe 1 page | as D1 | pages 1, 3–10 of one cycle, toc = toe | [`bds`] |
//! | GLONASS (L1/L2 OF) | 85-bit string | Hamming (85,77) check bits (GLONASS ICD 4.7) | strings 1–4 of one frame | [`glonass`] |
//!
//! Every unit that fails its check is counted and dropped; nothing else is lost.
//!
//! Why here and not in `gnss`: the messages are bit-level formats with data-field tables like
//! RTCM's (they reuse [`crate::messages::bits`]), and the result is the engine's
//! [`Ephemeris`]; `gnss` stays free of wire formats.
//!
//! The data fields are read from the message with its parity bits taken out (24 data bits per
//! LNAV word, 22 per BeiDou word after the first's 26): fields that the ICDs split across words
//! are then contiguous, and each is written once below with its position, width and scale.

pub mod bds;
pub mod glonass;
pub mod inav;
pub mod lnav;

use serde::Serialize;

use crate::gnss::nav::{Ephemeris, OrbitParams, kepler_constants};
use crate::gnss::orbit::Kepler;
use crate::gnss::time::Gpst;
use crate::gnss::{Gnss, SatMap};
use crate::messages::bits::{Bits, Enc};

/// Why a unit of a navigation message was dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NavMsgError {
    /// An LNAV word whose six parity bits do not match (word 1–10).
    #[error("{sys:?} {prn}: LNAV word {word} fails its parity check")]
    Parity { sys: Gnss, prn: u8, word: usize },
    /// A subframe that does not start with its system's preamble.
    #[error("{sys:?} {prn}: no preamble")]
    Preamble { sys: Gnss, prn: u8 },
    /// A Galileo page pair whose CRC-24Q does not match.
    #[error("Galileo {prn}: I/NAV page CRC mismatch")]
    Crc { prn: u8 },
    /// A Galileo page pair out of order (the even part must come first).
    #[error("Galileo {prn}: I/NAV page parts out of order")]
    PageOrder { prn: u8 },
    /// A BeiDou word with an uncorrected BCH(15,11) code word (word 1–10).
    #[error("BeiDou {prn}: word {word} fails its BCH check")]
    Bch { prn: u8, word: usize },
    /// A GLONASS string whose Hamming check bits show an error.
    #[error("GLONASS {slot}: string fails its Hamming check")]
    Hamming { slot: u8 },
    /// A unit shorter than its message needs.
    #[error("{sys:?} {prn}: {got} words, {want} needed")]
    Words {
        sys: Gnss,
        prn: u8,
        got: usize,
        want: usize,
    },
}

impl NavMsgError {
    /// Navigation errors never end a stream: the next unit is independent.
    pub fn can_continue(&self) -> bool {
        true
    }

    /// A short, stable name of the error kind, for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            NavMsgError::Parity { .. } => "parity",
            NavMsgError::Preamble { .. } => "preamble",
            NavMsgError::Crc { .. } => "crc",
            NavMsgError::PageOrder { .. } => "page_order",
            NavMsgError::Bch { .. } => "bch",
            NavMsgError::Hamming { .. } => "hamming",
            NavMsgError::Words { .. } => "words",
        }
    }
}

/// One unit of a navigation message as a receiver delivers it, protocol-independent.
#[derive(Clone, Debug, PartialEq)]
pub enum NavUnit {
    /// GPS or QZSS LNAV subframe: 10 words, each D1…D30 in bits 29…0 with the previous word's
    /// D29* and D30* in bits 31 and 30 (0 for the first word; the data bits as transmitted).
    Lnav {
        sys: Gnss,
        prn: u8,
        words: [u32; 10],
    },
    /// Galileo I/NAV page pair: the even part's 120 bits left-aligned in bytes 0–15, the odd
    /// part's in bytes 16–31.
    Inav { prn: u8, page: [u8; 32] },
    /// BeiDou D1 (or D2 for a GEO satellite) subframe: 10 de-interleaved 30-bit words in bits
    /// 29…0, each word's information bits first and its parity bits last.
    Bds { prn: u8, words: [u32; 10] },
    /// GLONASS string: bits 85…1 left-aligned in 11 bytes; `frame` identifies the 30-s frame
    /// it belongs to; `channel` is the FDMA channel the receiver tracks it on.
    Glonass {
        slot: u8,
        channel: Option<i8>,
        string: [u8; 11],
        frame: u32,
    },
}

/// A complete, consistent ephemeris with every field its message carries.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum NavRecord {
    Lnav(lnav::LnavEph),
    Inav(inav::InavEph),
    Bds(bds::BdsEph),
    Glonass(glonass::GloEph),
}

impl NavRecord {
    pub fn sys(&self) -> Gnss {
        match self {
            NavRecord::Lnav(e) => e.sys,
            NavRecord::Inav(_) => Gnss::Galileo,
            NavRecord::Bds(_) => Gnss::Beidou,
            NavRecord::Glonass(_) => Gnss::Glonass,
        }
    }

    pub fn prn(&self) -> u8 {
        match self {
            NavRecord::Lnav(e) => e.prn,
            NavRecord::Inav(e) => e.prn,
            NavRecord::Bds(e) => e.prn,
            NavRecord::Glonass(e) => e.slot,
        }
    }

    /// The engine's view; `near` resolves what the message leaves open (the GPS week modulo
    /// 1024, the GLONASS day).
    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        match self {
            NavRecord::Lnav(e) => e.to_ephemeris(near),
            NavRecord::Inav(e) => e.to_ephemeris(),
            NavRecord::Bds(e) => e.to_ephemeris(),
            NavRecord::Glonass(e) => e.to_ephemeris(near),
        }
    }
}

/// What the decoder saw, per kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NavStats {
    /// Units that passed their check.
    pub units: u64,
    /// Units dropped, by [`NavMsgError::kind`].
    pub errors: std::collections::BTreeMap<&'static str, u64>,
    /// Records emitted.
    pub records: u64,
    /// Complete sets whose parts disagreed (issue of data, frame, toc ≠ toe): not emitted.
    pub inconsistent: u64,
}

/// The per-satellite assembly of every system.
#[derive(Debug, Default)]
pub struct NavDecoder {
    lnav: SatMap<(Gnss, u8), lnav::Assembly>,
    inav: SatMap<u8, inav::Assembly>,
    bds: SatMap<u8, bds::Assembly>,
    glonass: SatMap<u8, glonass::Assembly>,
    /// The latest GPS and QZSS ionosphere and UTC parameters (LNAV subframe 4 page 18).
    pub iono_utc: SatMap<Gnss, lnav::LnavIonoUtc>,
    pub stats: NavStats,
}

impl NavDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take one unit; returns a record when it completes a new consistent set.
    pub fn push(&mut self, unit: &NavUnit) -> Result<Option<NavRecord>, NavMsgError> {
        let done = match unit {
            NavUnit::Lnav { sys, prn, words } => {
                let sf = lnav::Subframe::check(*sys, *prn, words);
                let sf = self.count(sf)?;
                if let Some(p) = lnav::LnavIonoUtc::of(*sys, &sf) {
                    self.iono_utc.insert(*sys, p);
                }
                let a = self.lnav.entry((*sys, *prn)).or_default();
                a.push(*sys, *prn, sf).map(|r| r.map(NavRecord::Lnav))
            }
            NavUnit::Inav { prn, page } => {
                let w = self.count(inav::Word::check(*prn, page))?;
                let Some(w) = w else {
                    return Ok(None);
                };
                let a = self.inav.entry(*prn).or_default();
                a.push(*prn, w).map(|r| r.map(NavRecord::Inav))
            }
            NavUnit::Bds { prn, words } => {
                let sf = self.count(bds::Subframe::check(*prn, words))?;
                let a = self.bds.entry(*prn).or_default();
                a.push(*prn, sf).map(|r| r.map(NavRecord::Bds))
            }
            NavUnit::Glonass {
                slot,
                channel,
                string,
                frame,
            } => {
                let s = self.count(glonass::check(*slot, string))?;
                let a = self.glonass.entry(*slot).or_default();
                a.push(*slot, *channel, s, *frame)
                    .map(|r| r.map(NavRecord::Glonass))
            }
        };
        match done {
            Ok(Some(r)) => {
                self.stats.records += 1;
                Ok(Some(r))
            }
            Ok(None) => Ok(None),
            Err(Inconsistent) => {
                self.stats.inconsistent += 1;
                Ok(None)
            }
        }
    }

    /// Count a unit refused before it reached the decoder (a receiver's framing of it).
    pub fn reject(&mut self, e: &NavMsgError) {
        *self.stats.errors.entry(e.kind()).or_default() += 1;
    }

    fn count<T>(&mut self, r: Result<T, NavMsgError>) -> Result<T, NavMsgError> {
        match &r {
            Ok(_) => self.stats.units += 1,
            Err(e) => *self.stats.errors.entry(e.kind()).or_default() += 1,
        }
        r
    }
}

/// A complete set whose parts disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Inconsistent;

/// One data field of a navigation message: its parts in the parity-free data (position and
/// width, most significant part first), how the joined bits encode the number, and the scale
/// to SI units.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    parts: [(u16, u8); 3],
    n: usize,
    enc: Enc,
    scale: f64,
}

impl Field {
    pub(crate) const fn u(pos: u16, width: u8, scale: f64) -> Field {
        Field::split(&[(pos, width)], Enc::U, scale)
    }
    pub(crate) const fn i(pos: u16, width: u8, scale: f64) -> Field {
        Field::split(&[(pos, width)], Enc::I, scale)
    }
    pub(crate) const fn sm(pos: u16, width: u8, scale: f64) -> Field {
        Field::split(&[(pos, width)], Enc::Sm, scale)
    }
    /// A field in up to three parts.
    pub(crate) const fn split(parts: &[(u16, u8)], enc: Enc, scale: f64) -> Field {
        let mut p = [(0, 0); 3];
        let mut k = 0;
        while k < parts.len() && k < 3 {
            p[k] = parts[k];
            k += 1;
        }
        Field {
            parts: p,
            n: k,
            enc,
            scale,
        }
    }

    pub(crate) fn width(&self) -> u32 {
        self.parts[..self.n].iter().map(|p| u32::from(p.1)).sum()
    }

    /// The last bit the field reads, plus one.
    #[cfg(test)]
    pub(crate) fn end(&self) -> usize {
        self.parts[..self.n]
            .iter()
            .map(|&(p, w)| p as usize + w as usize)
            .max()
            .unwrap_or(0)
    }

    /// The joined bits, unsigned.
    pub(crate) fn bits(&self, data: &[u8]) -> u64 {
        self.parts[..self.n].iter().fold(0u64, |acc, &(pos, w)| {
            // Every table is checked to lie inside its data block (see the `fields_fit` tests),
            // so the read cannot run short; 0 would be the value if it did.
            let v = Bits::new(data)
                .skip(pos as usize)
                .and_then(|(b, _)| b.take(u32::from(w)))
                .map(|(_, v)| v)
                .unwrap_or(0);
            (acc << w) | v
        })
    }

    /// The integer, with its sign applied.
    pub(crate) fn raw(&self, data: &[u8]) -> i64 {
        let v = self.bits(data);
        let w = self.width();
        match self.enc {
            Enc::U => v as i64,
            Enc::I => {
                let shift = 64 - w;
                ((v << shift) as i64) >> shift
            }
            Enc::Sm => {
                let mag = (v & ((1u64 << (w - 1)) - 1)) as i64;
                if (v >> (w - 1)) & 1 == 1 { -mag } else { mag }
            }
        }
    }

    /// The value in SI units.
    pub(crate) fn val(&self, data: &[u8]) -> f64 {
        self.raw(data) as f64 * self.scale
    }
}

/// Semicircles to radians with a power-of-two semicircle step.
pub(crate) const fn sc(k: i32) -> f64 {
    crate::messages::bits::p2(k) * std::f64::consts::PI
}

/// `t` moved by whole weeks to the one nearest `near` (a week field that lags at rollover).
pub(crate) fn nearest_week(near: Gpst, t: Gpst) -> Gpst {
    let k = (near.diff(t) / 604_800.0).round();
    t.add(k * 604_800.0)
}

/// The Keplerian elements of a decoded set (times `toe_s` and `toc_s`, clock terms named per
/// system).
macro_rules! kepler {
    ($m:expr, $af0:ident, $af1:ident, $af2:ident) => {
        crate::messages::kepler_elements!($m, toe_s, toc_s, $af0, $af1, $af2)
    };
}
pub(crate) use kepler;

/// The engine's Keplerian set: `toe` and `toc` as instants, the elements' times of week.
pub(crate) struct KeplerSet {
    pub sys: Gnss,
    pub prn: u8,
    pub toe: Gpst,
    pub toc: Gpst,
    pub k: Kepler,
    pub iode: u32,
    pub healthy: bool,
    pub accuracy_m: Option<f64>,
    pub tgd: [f64; 2],
    pub fit_half_s: f64,
}

impl KeplerSet {
    pub(crate) fn ephemeris(self) -> Ephemeris {
        Ephemeris {
            sys: self.sys,
            prn: self.prn,
            toe: self.toe,
            toc: self.toc,
            iode: self.iode,
            healthy: self.healthy,
            accuracy_m: self.accuracy_m,
            tgd: self.tgd,
            fit_half_s: self.fit_half_s,
            orbit: OrbitParams::Kepler {
                elements: self.k,
                constants: kepler_constants(self.sys),
                beidou_geo: self.sys == Gnss::Beidou && crate::gnss::is_beidou_geo(self.prn),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_fields_join_their_parts() {
        // 0b1011_0000 0b0000_0011: parts (0,4)=1011 and (14,2)=11 → 101111, signed −17.
        let data = [0b1011_0000, 0b0000_0011];
        let f = Field::split(&[(0, 4), (14, 2)], Enc::I, 1.0);
        assert_eq!(f.bits(&data), 0b10_1111);
        assert_eq!(f.raw(&data), -17);
        assert_eq!(f.end(), 16);
        assert_eq!(Field::sm(0, 4, 0.5).val(&data), -1.5);
        assert_eq!(Field::u(0, 4, 2.0).val(&data), 22.0);
    }
}
