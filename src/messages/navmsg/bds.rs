//! BeiDou D1 (MEO/IGSO) and D2 (GEO) navigation messages on B1I/B2I (BDS-SIS-ICD-B1I 3.0,
//! 5.2 and 5.3).
//!
//! A subframe is 10 words of 30 bits. Word 1 is the 11-bit preamble 0x712 and 4 bits of
//! revision, sent as they are, then 11 information bits protected by a BCH(15,11) code (4
//! parity bits). Words 2–10 carry two BCH(15,11) code words each (interleaved on air; here
//! de-interleaved: 22 information bits, then the 4 + 4 parity bits). The generator is
//! x⁴ + x + 1. A code word with a non-zero syndrome is refused rather than corrected: a
//! corrector turns each double error into a wrong word, and the same data come again within a
//! minute.
//!
//! D1 MEO/IGSO satellites send the ephemeris in subframes 1–3 of each 30-s frame (6 s apart).
//! D2 GEO satellites send it in pages 1–10 of subframe 1, one page per 3-s frame, page 2
//! excepted (it carries nothing of the ephemeris). Positions below count the information bits
//! of the set laid end to end: subframe (or page) `n` starts at bit 224·(n − 1), and inside it
//! word 1 gives bits 0–25 and word `k` ≥ 2 bits 26 + 22·(k − 2) onwards.

use serde::Serialize;

use super::{Field, Inconsistent, KeplerSet, NavMsgError, kepler, nearest_week, sc};
use crate::gnss::nav::{Ephemeris, ura_m};
use crate::gnss::time::Gpst;
use crate::gnss::{Gnss, is_beidou_geo};
use crate::messages::bits::{Enc, p2};

/// Information bits of one subframe.
const SUBFRAME_BITS: u16 = 224;
const PREAMBLE: u32 = 0x712;

/// Bit `pos` of subframe (or page) `n`.
const fn at(n: u16, pos: u16) -> u16 {
    (n - 1) * SUBFRAME_BITS + pos
}

const fn u(n: u16, pos: u16, width: u8, scale: f64) -> Field {
    Field::u(at(n, pos), width, scale)
}
const fn i(n: u16, pos: u16, width: u8, scale: f64) -> Field {
    Field::i(at(n, pos), width, scale)
}
/// A signed field whose most significant part is in subframe (page) `n1`, the rest in `n2`.
const fn split(n1: u16, p1: u16, w1: u8, n2: u16, p2_: u16, w2: u8, scale: f64) -> Field {
    Field::split(&[(at(n1, p1), w1), (at(n2, p2_), w2)], Enc::I, scale)
}

const FRA_ID: Field = Field::u(15, 3, 1.0);
const SOW: Field = Field::u(18, 20, 1.0);
/// D2: page number of subframe 1.
const PAGE: Field = Field::u(38, 4, 1.0);

/// The fields of one message format.
struct Layout {
    sat_h1: Field,
    aodc: Field,
    urai: Field,
    week: Field,
    toc: Field,
    tgd1: Field,
    tgd2: Field,
    a0: Field,
    a1: Field,
    a2: Field,
    aode: Field,
    delta_n: Field,
    cuc: Field,
    m0: Field,
    e: Field,
    cus: Field,
    crc: Field,
    crs: Field,
    sqrt_a: Field,
    toe: Field,
    i0: Field,
    cic: Field,
    omega_dot: Field,
    cis: Field,
    idot: Field,
    omega0: Field,
    omega: Field,
}

const TGD: f64 = 1e-10;

const D1: Layout = Layout {
    sat_h1: u(1, 38, 1, 1.0),
    aodc: u(1, 39, 5, 1.0),
    urai: u(1, 44, 4, 1.0),
    week: u(1, 48, 13, 1.0),
    toc: u(1, 61, 17, 8.0),
    tgd1: i(1, 78, 10, TGD),
    tgd2: i(1, 88, 10, TGD),
    a2: i(1, 162, 11, p2(-66)),
    a0: i(1, 173, 24, p2(-33)),
    a1: i(1, 197, 22, p2(-50)),
    aode: u(1, 219, 5, 1.0),
    delta_n: i(2, 38, 16, sc(-43)),
    cuc: i(2, 54, 18, p2(-31)),
    m0: i(2, 72, 32, sc(-31)),
    e: Field::u(at(2, 104), 32, p2(-33)),
    cus: i(2, 136, 18, p2(-31)),
    crc: i(2, 154, 18, p2(-6)),
    crs: i(2, 172, 18, p2(-6)),
    sqrt_a: u(2, 190, 32, p2(-19)),
    toe: Field::split(&[(at(2, 222), 2), (at(3, 38), 15)], Enc::U, 8.0),
    i0: i(3, 53, 32, sc(-31)),
    cic: i(3, 85, 18, p2(-31)),
    omega_dot: i(3, 103, 24, sc(-43)),
    cis: i(3, 127, 18, p2(-31)),
    idot: i(3, 145, 14, sc(-43)),
    omega0: i(3, 159, 32, sc(-31)),
    omega: i(3, 191, 32, sc(-31)),
};

const D2: Layout = Layout {
    sat_h1: u(1, 42, 1, 1.0),
    aodc: u(1, 43, 5, 1.0),
    urai: u(1, 48, 4, 1.0),
    week: u(1, 52, 13, 1.0),
    toc: u(1, 65, 17, 8.0),
    tgd1: i(1, 82, 10, TGD),
    tgd2: i(1, 92, 10, TGD),
    a0: i(3, 80, 24, p2(-33)),
    a1: split(3, 104, 4, 4, 42, 18, p2(-50)),
    a2: i(4, 60, 11, p2(-66)),
    aode: u(4, 71, 5, 1.0),
    delta_n: i(4, 76, 16, sc(-43)),
    cuc: split(4, 92, 14, 5, 42, 4, p2(-31)),
    m0: i(5, 46, 32, sc(-31)),
    cus: i(5, 78, 18, p2(-31)),
    e: Field::split(&[(at(5, 96), 10), (at(6, 42), 22)], Enc::U, p2(-33)),
    sqrt_a: u(6, 64, 32, p2(-19)),
    cic: split(6, 96, 10, 7, 42, 8, p2(-31)),
    cis: i(7, 50, 18, p2(-31)),
    toe: u(7, 68, 17, 8.0),
    i0: split(7, 85, 21, 8, 42, 11, sc(-31)),
    crc: i(8, 53, 18, p2(-6)),
    crs: i(8, 71, 18, p2(-6)),
    omega_dot: split(8, 89, 19, 9, 42, 5, sc(-43)),
    omega0: i(9, 47, 32, sc(-31)),
    omega: split(9, 79, 27, 10, 42, 5, sc(-31)),
    idot: i(10, 47, 14, sc(-43)),
};

/// D1 subframe 1: Klobuchar α0–α3 (s, s/sc, s/sc², s/sc³) and β0–β3 (s … s/sc³).
const IONO: [Field; 8] = [
    i(1, 98, 8, p2(-30)),
    i(1, 106, 8, p2(-27)),
    i(1, 114, 8, p2(-24)),
    i(1, 122, 8, p2(-24)),
    i(1, 130, 8, p2(11)),
    i(1, 138, 8, p2(14)),
    i(1, 146, 8, p2(16)),
    i(1, 154, 8, p2(16)),
];

/// The remainder of a 15-bit code word (information first) divided by x⁴ + x + 1.
fn bch_syndrome(cw: u32) -> u32 {
    let mut r = cw & 0x7FFF;
    for k in (4..15).rev() {
        if (r >> k) & 1 == 1 {
            r ^= 0b1_0011 << (k - 4);
        }
    }
    r
}

/// The four parity bits of 11 information bits.
pub fn bch_parity(info: u32) -> u32 {
    bch_syndrome((info & 0x7FF) << 4)
}

/// A subframe whose code words all check, as 224 information bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subframe {
    /// Subframe ID (1–5).
    pub fra_id: u8,
    /// Seconds of the BDT week at the subframe's start.
    pub sow: u32,
    data: [u8; 28],
}

impl Subframe {
    pub fn check(prn: u8, words: &[u32; 10]) -> Result<Subframe, NavMsgError> {
        let w1 = words[0] & 0x3FFF_FFFF;
        if w1 >> 19 != PREAMBLE {
            return Err(NavMsgError::Preamble {
                sys: Gnss::Beidou,
                prn,
            });
        }
        if bch_syndrome(w1) != 0 {
            return Err(NavMsgError::Bch { prn, word: 1 });
        }
        // Word 1's 26 bits before its parity, then 22 information bits of each further word.
        let mut acc: u128 = u128::from(w1 >> 4);
        let mut data = [0u8; 28];
        let mut filled = 26;
        let mut out = 0;
        for (k, &w) in words.iter().enumerate().skip(1) {
            let w = w & 0x3FFF_FFFF;
            let first = ((w >> 19) << 4) | ((w >> 4) & 0xF);
            let second = (((w >> 8) & 0x7FF) << 4) | (w & 0xF);
            if bch_syndrome(first) != 0 || bch_syndrome(second) != 0 {
                return Err(NavMsgError::Bch { prn, word: k + 1 });
            }
            acc = (acc << 22) | u128::from(w >> 8);
            filled += 22;
            while filled >= 8 {
                filled -= 8;
                data[out] = (acc >> filled) as u8;
                out += 1;
            }
        }
        Ok(Subframe {
            fra_id: FRA_ID.bits(&data) as u8,
            sow: SOW.bits(&data) as u32,
            data,
        })
    }

    /// D2 subframe 1: the page number (1–10).
    pub fn page(&self) -> u8 {
        PAGE.bits(&self.data) as u8
    }
}

/// A D1 or D2 ephemeris, every field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BdsEph {
    pub prn: u8,
    /// Sent in D2 (a GEO satellite) rather than D1.
    pub d2: bool,
    /// BDT seconds of week of the first subframe (page) of the set.
    pub sow: u32,
    /// BDT week.
    pub week: u16,
    /// Autonomous health: 0 good.
    pub sat_h1: u8,
    pub aodc: u8,
    pub urai: u8,
    pub toc_s: f64,
    pub tgd1_s: f64,
    pub tgd2_s: f64,
    pub a0: f64,
    pub a1: f64,
    pub a2: f64,
    pub aode: u8,
    pub delta_n: f64,
    pub cuc: f64,
    pub m0: f64,
    pub e: f64,
    pub cus: f64,
    pub crc: f64,
    pub crs: f64,
    pub sqrt_a: f64,
    pub toe_s: f64,
    pub i0: f64,
    pub cic: f64,
    pub omega_dot: f64,
    pub cis: f64,
    pub idot: f64,
    pub omega0: f64,
    pub omega: f64,
    /// D1 only: Klobuchar α0–α3, β0–β3.
    pub klobuchar: Option<[f64; 8]>,
}

impl BdsEph {
    fn from_data(prn: u8, d2: bool, sow: u32, data: &[u8]) -> Self {
        let l = if d2 { &D2 } else { &D1 };
        BdsEph {
            prn,
            d2,
            sow,
            week: l.week.raw(data) as u16,
            sat_h1: l.sat_h1.raw(data) as u8,
            aodc: l.aodc.raw(data) as u8,
            urai: l.urai.raw(data) as u8,
            toc_s: l.toc.val(data),
            tgd1_s: l.tgd1.val(data),
            tgd2_s: l.tgd2.val(data),
            a0: l.a0.val(data),
            a1: l.a1.val(data),
            a2: l.a2.val(data),
            aode: l.aode.raw(data) as u8,
            delta_n: l.delta_n.val(data),
            cuc: l.cuc.val(data),
            m0: l.m0.val(data),
            e: l.e.val(data),
            cus: l.cus.val(data),
            crc: l.crc.val(data),
            crs: l.crs.val(data),
            sqrt_a: l.sqrt_a.val(data),
            toe_s: l.toe.val(data),
            i0: l.i0.val(data),
            cic: l.cic.val(data),
            omega_dot: l.omega_dot.val(data),
            cis: l.cis.val(data),
            idot: l.idot.val(data),
            omega0: l.omega0.val(data),
            omega: l.omega.val(data),
            klobuchar: (!d2).then(|| IONO.map(|f| f.val(data))),
        }
    }

    pub fn to_ephemeris(&self) -> Ephemeris {
        let week = i64::from(self.week);
        let sent = Gpst::from_bdt(week, f64::from(self.sow));
        let toe = nearest_week(sent, Gpst::from_bdt(week, self.toe_s));
        let toc = nearest_week(toe, Gpst::from_bdt(week, self.toc_s));
        KeplerSet {
            sys: Gnss::Beidou,
            prn: self.prn,
            toe,
            toc,
            k: kepler!(self, a0, a1, a2),
            iode: u32::from(self.aode),
            healthy: self.sat_h1 == 0,
            accuracy_m: ura_m(self.urai),
            tgd: [self.tgd1_s, self.tgd2_s],
            fit_half_s: 2.0 * 3600.0,
        }
        .ephemeris()
    }
}

/// The subframes (D1) or subframe-1 pages (D2) of one satellite, latest first come.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    /// D1: subframes 1–3; D2: pages 1–10.
    parts: [Option<Subframe>; 10],
    /// (AODE, toe) of the last set emitted.
    last: Option<(u64, u64)>,
}

impl Assembly {
    /// Keep a subframe; a set is emitted when its parts come from one frame (D1: subframes
    /// 1–3, 6 s apart) or one page cycle (D2: pages 1 and 3–10, page `p` 3·(p − 1) s after
    /// page 1) and was not emitted before. toc ≠ toe inside one such set is inconsistent.
    pub(crate) fn push(&mut self, prn: u8, sf: Subframe) -> Result<Option<BdsEph>, Inconsistent> {
        let d2 = is_beidou_geo(prn);
        let (slot, parts, step): (usize, &[usize], u32) = if d2 {
            if sf.fra_id != 1 || !(1..=10).contains(&sf.page()) {
                return Ok(None);
            }
            (usize::from(sf.page() - 1), &[0, 2, 3, 4, 5, 6, 7, 8, 9], 3)
        } else {
            if !(1..=3).contains(&sf.fra_id) {
                return Ok(None);
            }
            (usize::from(sf.fra_id - 1), &[0, 1, 2], 6)
        };
        self.parts[slot] = Some(sf);
        let Some(first) = self.parts[0].as_ref().map(|s| s.sow) else {
            return Ok(None);
        };
        let mut data = vec![0u8; 28 * 10];
        for &p in parts {
            match &self.parts[p] {
                Some(s) if s.sow == first + step * p as u32 => {
                    data[28 * p..28 * p + 28].copy_from_slice(&s.data);
                }
                _ => return Ok(None),
            }
        }
        let l = if d2 { &D2 } else { &D1 };
        let (toc, toe) = (l.toc.bits(&data), l.toe.bits(&data));
        if toc != toe {
            return Err(Inconsistent);
        }
        let key = (l.aode.bits(&data), toe);
        if self.last == Some(key) {
            return Ok(None);
        }
        self.last = Some(key);
        Ok(Some(BdsEph::from_data(prn, d2, first, &data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fit() {
        for l in [&D1, &D2] {
            let n = if std::ptr::eq(l, &D1) { 3 } else { 10 };
            for f in [
                l.sat_h1,
                l.aodc,
                l.urai,
                l.week,
                l.toc,
                l.tgd1,
                l.tgd2,
                l.a0,
                l.a1,
                l.a2,
                l.aode,
                l.delta_n,
                l.cuc,
                l.m0,
                l.e,
                l.cus,
                l.crc,
                l.crs,
                l.sqrt_a,
                l.toe,
                l.i0,
                l.cic,
                l.omega_dot,
                l.cis,
                l.idot,
                l.omega0,
                l.omega,
            ] {
                assert!(f.end() <= usize::from(SUBFRAME_BITS) * n);
            }
        }
        for f in IONO {
            assert!(f.end() <= usize::from(SUBFRAME_BITS));
        }
    }

    #[test]
    fn bch_detects_every_single_error() {
        for info in [0u32, 0x7FF, 0x5A5, 0x123] {
            let cw = (info << 4) | bch_parity(info);
            assert_eq!(bch_syndrome(cw), 0);
            for b in 0..15 {
                assert_ne!(bch_syndrome(cw ^ (1 << b)), 0, "bit {b}");
            }
        }
    }
}
