//! GPS and QZSS LNAV (L1 C/A) subframes 1–3 (IS-GPS-200 20.3.2–20.3.5, IS-QZSS-PNT 5.2).
//!
//! Each 30-bit word carries 24 data bits and 6 parity bits computed from them and from the
//! last two parity bits of the previous word (D29*, D30*); when D30* is set the data bits go
//! out complemented. Word 1 (TLM) starts with the preamble 0x8B; word 2 (HOW) holds the time
//! of week of the next subframe's start and the subframe ID.
//!
//! Bit positions below count the parity-free data: word `k` (1-based) is bits `24(k−1)` to
//! `24k − 1`.

use serde::Serialize;

use super::{Field, Inconsistent, KeplerSet, NavMsgError, kepler, nearest_week, sc};
use crate::gnss::Gnss;
use crate::gnss::atmosphere::Klobuchar;
use crate::gnss::nav::{Ephemeris, ura_m};
use crate::gnss::time::Gpst;
use crate::messages::bits::p2;

/// The data bits d1…d24 (d1 = bit 23) that enter each parity bit D25…D30, and whether D29*
/// (true) or D30* (false) enters it too. RTCM 2 uses the same words and parity.
const PARITY: [(u32, bool); 6] = [
    (
        mask(&[1, 2, 3, 5, 6, 10, 11, 12, 13, 14, 17, 18, 20, 23]),
        true,
    ),
    (
        mask(&[2, 3, 4, 6, 7, 11, 12, 13, 14, 15, 18, 19, 21, 24]),
        false,
    ),
    (
        mask(&[1, 3, 4, 5, 7, 8, 12, 13, 14, 15, 16, 19, 20, 22]),
        true,
    ),
    (
        mask(&[2, 4, 5, 6, 8, 9, 13, 14, 15, 16, 17, 20, 21, 23]),
        false,
    ),
    (
        mask(&[1, 3, 5, 6, 7, 9, 10, 14, 15, 16, 17, 18, 21, 22, 24]),
        false,
    ),
    (mask(&[3, 5, 6, 8, 9, 10, 11, 13, 15, 19, 22, 23, 24]), true),
];

const fn mask(bits: &[u32]) -> u32 {
    let mut m = 0;
    let mut k = 0;
    while k < bits.len() {
        m |= 1 << (24 - bits[k]);
        k += 1;
    }
    m
}

/// The 6 parity bits of 24 data bits `d` (as sent before any inversion) after a word whose
/// last two bits were D29* and D30* (`prev & 3`).
pub fn parity(d: u32, prev: u32) -> u32 {
    let (d29s, d30s) = ((prev >> 1) & 1, prev & 1);
    PARITY.iter().fold(0, |acc, &(m, uses_d29)| {
        let star = if uses_d29 { d29s } else { d30s };
        (acc << 1) | (((d & m).count_ones() & 1) ^ star)
    })
}

/// The 30-bit word for 24 data bits after `prev`: data complemented when D30* is set, then
/// parity.
pub fn word(d: u32, prev: u32) -> u32 {
    let d = d & 0xFF_FFFF;
    let sent = if prev & 1 == 1 { !d & 0xFF_FFFF } else { d };
    (sent << 6) | parity(d, prev)
}

/// The 24 data bits of a received 30-bit word after `prev`, or `None` when its parity fails.
pub fn check_word(w: u32, prev: u32) -> Option<u32> {
    let sent = (w >> 6) & 0xFF_FFFF;
    let d = if prev & 1 == 1 {
        !sent & 0xFF_FFFF
    } else {
        sent
    };
    (parity(d, prev) == w & 0x3F).then_some(d)
}

/// The 24 source data bits of a u-blox LNAV word (D29*, D30* in bits 31, 30; D1…D30 in bits
/// 29…0), or `None` when its parity fails.
pub fn word_data(w: u32) -> Option<u32> {
    check_word(w & 0x3FFF_FFFF, w >> 30)
}

const PREAMBLE: Field = Field::u(0, 8, 1.0);
const HOW_TOW: Field = Field::u(24, 17, 6.0);
const SUBFRAME_ID: Field = Field::u(43, 3, 1.0);

// Subframe 1.
const WEEK: Field = Field::u(48, 10, 1.0);
const CODE_ON_L2: Field = Field::u(58, 2, 1.0);
const URA: Field = Field::u(60, 4, 1.0);
const HEALTH: Field = Field::u(64, 6, 1.0);
const IODC: Field = Field::split(&[(70, 2), (168, 8)], crate::messages::bits::Enc::U, 1.0);
const L2P_FLAG: Field = Field::u(72, 1, 1.0);
/// TGD (s); −128 means "not available" in QZSS.
const TGD: Field = Field::i(160, 8, p2(-31));
const TOC: Field = Field::u(176, 16, 16.0);
const AF2: Field = Field::i(192, 8, p2(-55));
const AF1: Field = Field::i(200, 16, p2(-43));
const AF0: Field = Field::i(216, 22, p2(-31));
// Subframe 2.
const IODE2: Field = Field::u(48, 8, 1.0);
const CRS: Field = Field::i(56, 16, p2(-5));
const DELTA_N: Field = Field::i(72, 16, sc(-43));
const M0: Field = Field::i(88, 32, sc(-31));
const CUC: Field = Field::i(120, 16, p2(-29));
const E: Field = Field::u(136, 32, p2(-33));
const CUS: Field = Field::i(168, 16, p2(-29));
const SQRT_A: Field = Field::u(184, 32, p2(-19));
const TOE: Field = Field::u(216, 16, 16.0);
const FIT: Field = Field::u(232, 1, 1.0);
const AODO: Field = Field::u(233, 5, 900.0);
// Subframe 3.
const CIC: Field = Field::i(48, 16, p2(-29));
const OMEGA0: Field = Field::i(64, 32, sc(-31));
const CIS: Field = Field::i(96, 16, p2(-29));
const I0: Field = Field::i(112, 32, sc(-31));
const CRC: Field = Field::i(144, 16, p2(-5));
const OMEGA: Field = Field::i(160, 32, sc(-31));
const OMEGA_DOT: Field = Field::i(192, 24, sc(-43));
const IODE3: Field = Field::u(216, 8, 1.0);
const IDOT: Field = Field::i(224, 14, sc(-43));

// Subframe 4, page 18 (SV ID 56): ionosphere and UTC.
const SV_ID: Field = Field::u(50, 6, 1.0);
const ALPHA: [Field; 4] = [
    Field::i(56, 8, p2(-30)),
    Field::i(64, 8, p2(-27)),
    Field::i(72, 8, p2(-24)),
    Field::i(80, 8, p2(-24)),
];
const BETA: [Field; 4] = [
    Field::i(88, 8, p2(11)),
    Field::i(96, 8, p2(14)),
    Field::i(104, 8, p2(16)),
    Field::i(112, 8, p2(16)),
];
const A1: Field = Field::i(120, 24, p2(-50));
const A0: Field = Field::i(144, 32, p2(-30));
const TOT: Field = Field::u(176, 8, 4096.0);
const WNT: Field = Field::u(184, 8, 1.0);
const DT_LS: Field = Field::i(192, 8, 1.0);
const WN_LSF: Field = Field::u(200, 8, 1.0);
const DN: Field = Field::u(208, 8, 1.0);
const DT_LSF: Field = Field::i(216, 8, 1.0);

/// Subframe 4 page 18: the broadcast ionosphere (Klobuchar) and the GPS−UTC parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LnavIonoUtc {
    pub sys: Gnss,
    /// α0…α3 (s, s/sc, s/sc², s/sc³) and β0…β3 (s … s/sc³).
    pub klobuchar: Klobuchar,
    /// GPS−UTC: A0 (s), A1 (s/s), reference time of week (s) and week modulo 256.
    pub a0: f64,
    pub a1: f64,
    pub tot_s: f64,
    pub wnt: u8,
    /// Leap seconds now and at the announced change (week mod 256, day 1–7).
    pub dt_ls: i8,
    pub wn_lsf: u8,
    pub dn: u8,
    pub dt_lsf: i8,
}

impl LnavIonoUtc {
    /// Page 18 of a subframe 4, when this is one.
    pub fn of(sys: Gnss, sf: &Subframe) -> Option<LnavIonoUtc> {
        let d = &sf.data;
        (sf.id == 4 && SV_ID.bits(d) == 56).then(|| LnavIonoUtc {
            sys,
            klobuchar: Klobuchar {
                alpha: ALPHA.map(|f| f.val(d)),
                beta: BETA.map(|f| f.val(d)),
            },
            a0: A0.val(d),
            a1: A1.val(d),
            tot_s: TOT.val(d),
            wnt: WNT.raw(d) as u8,
            dt_ls: DT_LS.raw(d) as i8,
            wn_lsf: WN_LSF.raw(d) as u8,
            dn: DN.raw(d) as u8,
            dt_lsf: DT_LSF.raw(d) as i8,
        })
    }
}

/// A subframe whose ten words passed their parity check, as 240 data bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subframe {
    /// Subframe ID (1–5).
    pub id: u8,
    data: [u8; 30],
}

impl Subframe {
    /// Check the parity of every word and the preamble.
    pub fn check(sys: Gnss, prn: u8, words: &[u32; 10]) -> Result<Subframe, NavMsgError> {
        let mut data = [0u8; 30];
        for (k, &w) in words.iter().enumerate() {
            let d = word_data(w).ok_or(NavMsgError::Parity {
                sys,
                prn,
                word: k + 1,
            })?;
            data[3 * k..3 * k + 3].copy_from_slice(&d.to_be_bytes()[1..]);
        }
        if PREAMBLE.bits(&data) != 0x8B {
            return Err(NavMsgError::Preamble { sys, prn });
        }
        Ok(Subframe {
            id: SUBFRAME_ID.bits(&data) as u8,
            data,
        })
    }

    /// Time of week (s) of the next subframe's start, from the HOW.
    pub fn how_tow_s(&self) -> f64 {
        HOW_TOW.val(&self.data)
    }
}

/// Subframes 1–3 of one issue of data, every field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LnavEph {
    pub sys: Gnss,
    pub prn: u8,
    /// Week number modulo 1024.
    pub week: u16,
    /// Subframe 1's HOW time of week (s).
    pub how_tow_s: f64,
    pub code_on_l2: u8,
    pub ura_index: u8,
    pub health: u8,
    pub iodc: u16,
    pub l2p_flag: bool,
    /// None when the satellite sends "not available" (QZSS: −128).
    pub tgd_s: Option<f64>,
    pub toc_s: f64,
    pub af0: f64,
    pub af1: f64,
    pub af2: f64,
    pub iode: u8,
    pub crs: f64,
    pub delta_n: f64,
    pub m0: f64,
    pub cuc: f64,
    pub e: f64,
    pub cus: f64,
    pub sqrt_a: f64,
    pub toe_s: f64,
    /// Curve-fit interval flag: false 4 h, true longer.
    pub fit_flag: bool,
    /// Age of data offset (s).
    pub aodo_s: f64,
    pub cic: f64,
    pub omega0: f64,
    pub cis: f64,
    pub i0: f64,
    pub crc: f64,
    pub omega: f64,
    pub omega_dot: f64,
    pub idot: f64,
}

impl LnavEph {
    fn from_subframes(sys: Gnss, prn: u8, s1: &Subframe, s2: &Subframe, s3: &Subframe) -> Self {
        let (a, b, c) = (&s1.data, &s2.data, &s3.data);
        let tgd = TGD.raw(a);
        LnavEph {
            sys,
            prn,
            week: WEEK.raw(a) as u16,
            how_tow_s: s1.how_tow_s(),
            code_on_l2: CODE_ON_L2.raw(a) as u8,
            ura_index: URA.raw(a) as u8,
            health: HEALTH.raw(a) as u8,
            iodc: IODC.raw(a) as u16,
            l2p_flag: L2P_FLAG.raw(a) == 1,
            tgd_s: (sys != Gnss::Qzss || tgd != -128).then(|| TGD.val(a)),
            toc_s: TOC.val(a),
            af0: AF0.val(a),
            af1: AF1.val(a),
            af2: AF2.val(a),
            iode: IODE2.raw(b) as u8,
            crs: CRS.val(b),
            delta_n: DELTA_N.val(b),
            m0: M0.val(b),
            cuc: CUC.val(b),
            e: E.val(b),
            cus: CUS.val(b),
            sqrt_a: SQRT_A.val(b),
            toe_s: TOE.val(b),
            fit_flag: FIT.raw(b) == 1,
            aodo_s: AODO.val(b),
            cic: CIC.val(c),
            omega0: OMEGA0.val(c),
            cis: CIS.val(c),
            i0: I0.val(c),
            crc: CRC.val(c),
            omega: OMEGA.val(c),
            omega_dot: OMEGA_DOT.val(c),
            idot: IDOT.val(c),
        }
    }

    /// The full GPS week of the transmission, the 10-bit week resolved against `near`.
    pub fn full_week(&self, near: Gpst) -> i64 {
        near.full_gps_week(i64::from(self.week), 1024)
    }

    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        let sent = Gpst::from_week_tow(self.full_week(near), self.how_tow_s);
        // toe and toc may lie in the week after (or before) the transmission's.
        let toe = nearest_week(sent, Gpst::from_week_tow(sent.week(), self.toe_s));
        let toc = nearest_week(toe, Gpst::from_week_tow(toe.week(), self.toc_s));
        KeplerSet {
            sys: self.sys,
            prn: self.prn,
            toe,
            toc,
            k: kepler!(self, af0, af1, af2),
            iode: u32::from(self.iode),
            healthy: self.health == 0,
            accuracy_m: ura_m(self.ura_index),
            tgd: [self.tgd_s.unwrap_or(0.0), 0.0],
            fit_half_s: if self.fit_flag { 3.0 } else { 2.0 } * 3600.0,
        }
        .ephemeris()
    }
}

/// The latest subframes 1–3 of one satellite.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    sf: [Option<Subframe>; 3],
    /// (IODC, toe) of the last set emitted.
    last: Option<(u16, u64)>,
}

impl Assembly {
    /// Keep a subframe; a set is emitted when subframes 1–3 carry the same issue of data
    /// (IODE of 2 and 3 equal to the low 8 bits of IODC) and it was not emitted before. A set
    /// whose parts disagree is the normal state while a new issue comes in, not an error.
    pub(crate) fn push(
        &mut self,
        sys: Gnss,
        prn: u8,
        sf: Subframe,
    ) -> Result<Option<LnavEph>, Inconsistent> {
        let slot = match sf.id {
            1..=3 => usize::from(sf.id - 1),
            _ => return Ok(None),
        };
        self.sf[slot] = Some(sf);
        let [Some(s1), Some(s2), Some(s3)] = &self.sf else {
            return Ok(None);
        };
        let iodc = IODC.bits(&s1.data) as u16;
        let (iode2, iode3) = (IODE2.bits(&s2.data), IODE3.bits(&s3.data));
        if iode2 != iode3 || iode2 != u64::from(iodc & 0xFF) {
            return Ok(None);
        }
        let key = (iodc, TOE.bits(&s2.data));
        if self.last == Some(key) {
            return Ok(None);
        }
        self.last = Some(key);
        Ok(Some(LnavEph::from_subframes(sys, prn, s1, s2, s3)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fit() {
        for f in [
            PREAMBLE,
            HOW_TOW,
            SUBFRAME_ID,
            WEEK,
            CODE_ON_L2,
            URA,
            HEALTH,
            IODC,
            L2P_FLAG,
            TGD,
            TOC,
            AF2,
            AF1,
            AF0,
            IODE2,
            CRS,
            DELTA_N,
            M0,
            CUC,
            E,
            CUS,
            SQRT_A,
            TOE,
            FIT,
            AODO,
            CIC,
            OMEGA0,
            CIS,
            I0,
            CRC,
            OMEGA,
            OMEGA_DOT,
            IODE3,
            IDOT,
        ] {
            assert!(f.end() <= 240);
        }
    }

    #[test]
    fn parity_round_trips_and_catches_any_single_bit() {
        let mut prev = 0;
        for data in [0x8B_0000u32, 0x12_3456, 0xFF_FFFF, 0, 0xA5_5A5A] {
            let w = word(data, prev);
            let full = (prev << 30) | w;
            assert_eq!(word_data(full), Some(data));
            for b in 0..30 {
                assert_eq!(word_data(full ^ (1 << b)), None, "bit {b}");
            }
            prev = w & 3;
        }
    }
}
