//! Galileo I/NAV word types 1–5 (Galileo OS SIS ICD 4.3).
//!
//! A nominal page is an even part (even/odd bit 0, page type, 112 data bits, 6 tail bits) and
//! an odd part (even/odd bit 1, page type, 16 data bits, 64 reserved bits, CRC-24Q, 8 reserved
//! bits, 6 tail bits). The CRC covers the even part without its tail and the odd part up to the
//! CRC: 114 + 82 bits. The page's word is the even part's 112 data bits followed by the odd
//! part's 16: 6 bits of word type, then the word's fields. Alert pages (page type 1) carry no
//! ephemeris and are passed over.

use serde::Serialize;

use super::{Field, Inconsistent, KeplerSet, NavMsgError, kepler, nearest_week, sc};
use crate::framing::crc24q;
use crate::gnss::Gnss;
use crate::gnss::nav::{Ephemeris, sisa_m};
use crate::gnss::time::Gpst;
use crate::messages::bits::{BitWriter, Bits, p2};

const WORD_TYPE: Field = Field::u(0, 6, 1.0);
const IODNAV: Field = Field::u(6, 10, 1.0);
// Word type 1.
const TOE: Field = Field::u(16, 14, 60.0);
const M0: Field = Field::i(30, 32, sc(-31));
const E: Field = Field::u(62, 32, p2(-33));
const SQRT_A: Field = Field::u(94, 32, p2(-19));
// Word type 2.
const OMEGA0: Field = Field::i(16, 32, sc(-31));
const I0: Field = Field::i(48, 32, sc(-31));
const OMEGA: Field = Field::i(80, 32, sc(-31));
const IDOT: Field = Field::i(112, 14, sc(-43));
// Word type 3.
const OMEGA_DOT: Field = Field::i(16, 24, sc(-43));
const DELTA_N: Field = Field::i(40, 16, sc(-43));
const CUC: Field = Field::i(56, 16, p2(-29));
const CUS: Field = Field::i(72, 16, p2(-29));
const CRC: Field = Field::i(88, 16, p2(-5));
const CRS: Field = Field::i(104, 16, p2(-5));
const SISA: Field = Field::u(120, 8, 1.0);
// Word type 4.
const SVID: Field = Field::u(16, 6, 1.0);
const CIC: Field = Field::i(22, 16, p2(-29));
const CIS: Field = Field::i(38, 16, p2(-29));
const TOC: Field = Field::u(54, 14, 60.0);
const AF0: Field = Field::i(68, 31, p2(-34));
const AF1: Field = Field::i(99, 21, p2(-46));
const AF2: Field = Field::i(120, 6, p2(-59));
// Word type 5.
const AI0: Field = Field::u(6, 11, p2(-2));
const AI1: Field = Field::i(17, 11, p2(-8));
const AI2: Field = Field::i(28, 14, p2(-15));
const BGD_E1E5A: Field = Field::i(47, 10, p2(-32));
const BGD_E1E5B: Field = Field::i(57, 10, p2(-32));
const E5B_HS: Field = Field::u(67, 2, 1.0);
const E1B_HS: Field = Field::u(69, 2, 1.0);
const E5B_DVS: Field = Field::u(71, 1, 1.0);
const E1B_DVS: Field = Field::u(72, 1, 1.0);
const WN: Field = Field::u(73, 12, 1.0);
const TOW: Field = Field::u(85, 20, 1.0);

/// Append bits `from .. from + n` of `src` to `w`.
fn copy_bits(w: &mut BitWriter, src: &[u8], from: usize, n: usize) {
    let Ok((mut at, _)) = Bits::new(src).skip(from) else {
        return;
    };
    let mut left = n;
    while left > 0 {
        let k = left.min(32);
        let Ok((next, v)) = at.take(k as u32) else {
            return;
        };
        w.put(k as u32, v);
        at = next;
        left -= k;
    }
}

/// The 128-bit word of a nominal page whose CRC holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word {
    pub word_type: u8,
    data: [u8; 16],
}

impl Word {
    /// Check a page pair; `Ok(None)` for an alert page.
    pub fn check(prn: u8, page: &[u8; 32]) -> Result<Option<Word>, NavMsgError> {
        let (even, odd) = page.split_at(16);
        if even[0] & 0x80 != 0 || odd[0] & 0x80 == 0 {
            return Err(NavMsgError::PageOrder { prn });
        }
        if even[0] & 0x40 != 0 || odd[0] & 0x40 != 0 {
            return Ok(None);
        }
        // 4 zero bits make the 196 covered bits whole bytes without changing the CRC.
        let mut covered = BitWriter::with_capacity(25);
        covered.put(4, 0);
        copy_bits(&mut covered, even, 0, 114);
        copy_bits(&mut covered, odd, 0, 82);
        let carried = Field::u(82, 24, 1.0).bits(odd) as u32;
        if crc24q(&covered.finish()) != carried {
            return Err(NavMsgError::Crc { prn });
        }
        let mut word = BitWriter::with_capacity(16);
        copy_bits(&mut word, even, 2, 112);
        copy_bits(&mut word, odd, 2, 16);
        // 112 + 16 bits from two 16-byte parts: always 16 bytes.
        let bytes = word.finish();
        let mut data = [0u8; 16];
        let n = bytes.len().min(16);
        data[..n].copy_from_slice(&bytes[..n]);
        Ok(Some(Word {
            word_type: WORD_TYPE.bits(&data) as u8,
            data,
        }))
    }
}

/// Word types 1–5 of one IODnav, every field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InavEph {
    pub prn: u8,
    pub iodnav: u16,
    pub toe_s: f64,
    pub m0: f64,
    pub e: f64,
    pub sqrt_a: f64,
    pub omega0: f64,
    pub i0: f64,
    pub omega: f64,
    pub idot: f64,
    pub omega_dot: f64,
    pub delta_n: f64,
    pub cuc: f64,
    pub cus: f64,
    pub crc: f64,
    pub crs: f64,
    pub sisa: u8,
    pub cic: f64,
    pub cis: f64,
    pub toc_s: f64,
    pub af0: f64,
    pub af1: f64,
    pub af2: f64,
    /// Effective ionisation level coefficients (sfu, sfu/deg, sfu/deg²).
    pub ai: [f64; 3],
    pub bgd_e1e5a_s: f64,
    pub bgd_e1e5b_s: f64,
    pub e5b_hs: u8,
    pub e1b_hs: u8,
    pub e5b_dvs: bool,
    pub e1b_dvs: bool,
    /// GST week and time of week of word type 5.
    pub week: u16,
    pub tow_s: f64,
}

impl InavEph {
    fn from_words(prn: u8, w: &[[u8; 16]; 5]) -> Self {
        let [w1, w2, w3, w4, w5] = w;
        InavEph {
            prn,
            iodnav: IODNAV.raw(w1) as u16,
            toe_s: TOE.val(w1),
            m0: M0.val(w1),
            e: E.val(w1),
            sqrt_a: SQRT_A.val(w1),
            omega0: OMEGA0.val(w2),
            i0: I0.val(w2),
            omega: OMEGA.val(w2),
            idot: IDOT.val(w2),
            omega_dot: OMEGA_DOT.val(w3),
            delta_n: DELTA_N.val(w3),
            cuc: CUC.val(w3),
            cus: CUS.val(w3),
            crc: CRC.val(w3),
            crs: CRS.val(w3),
            sisa: SISA.raw(w3) as u8,
            cic: CIC.val(w4),
            cis: CIS.val(w4),
            toc_s: TOC.val(w4),
            af0: AF0.val(w4),
            af1: AF1.val(w4),
            af2: AF2.val(w4),
            ai: [AI0.val(w5), AI1.val(w5), AI2.val(w5)],
            bgd_e1e5a_s: BGD_E1E5A.val(w5),
            bgd_e1e5b_s: BGD_E1E5B.val(w5),
            e5b_hs: E5B_HS.raw(w5) as u8,
            e1b_hs: E1B_HS.raw(w5) as u8,
            e5b_dvs: E5B_DVS.raw(w5) == 1,
            e1b_dvs: E1B_DVS.raw(w5) == 1,
            week: WN.raw(w5) as u16,
            tow_s: TOW.val(w5),
        }
    }

    /// The health word as RINEX 3 writes it for I/NAV: E1-B DVS bit 0, E1-B HS bits 1–2,
    /// E5b DVS bit 6, E5b HS bits 7–8.
    pub fn rinex_health(&self) -> u16 {
        u16::from(self.e1b_dvs)
            | u16::from(self.e1b_hs) << 1
            | u16::from(self.e5b_dvs) << 6
            | u16::from(self.e5b_hs) << 7
    }

    pub fn to_ephemeris(&self) -> Ephemeris {
        let sent = Gpst::from_gst(i64::from(self.week), self.tow_s);
        let toe = nearest_week(sent, Gpst::from_gst(i64::from(self.week), self.toe_s));
        let toc = nearest_week(toe, Gpst::from_gst(i64::from(self.week), self.toc_s));
        KeplerSet {
            sys: Gnss::Galileo,
            prn: self.prn,
            toe,
            toc,
            k: kepler!(self, af0, af1, af2),
            iode: u32::from(self.iodnav),
            healthy: self.e1b_hs == 0 && self.e5b_hs == 0 && !self.e1b_dvs && !self.e5b_dvs,
            accuracy_m: sisa_m(self.sisa),
            tgd: [self.bgd_e1e5a_s, self.bgd_e1e5b_s],
            fit_half_s: 4.0 * 3600.0,
        }
        .ephemeris()
    }
}

/// The latest word types 1–5 of one satellite.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    words: [Option<[u8; 16]>; 5],
    /// (IODnav, toe) of the last set emitted.
    last: Option<(u64, u64)>,
}

impl Assembly {
    /// Keep a word; a set is emitted when word types 1–4 carry one IODnav, a word type 5 was
    /// seen, word type 4 names this satellite, and the set was not emitted before.
    pub(crate) fn push(&mut self, prn: u8, w: Word) -> Result<Option<InavEph>, Inconsistent> {
        let slot = match w.word_type {
            1..=5 => usize::from(w.word_type - 1),
            _ => return Ok(None),
        };
        self.words[slot] = Some(w.data);
        let [Some(w1), Some(w2), Some(w3), Some(w4), Some(w5)] = self.words else {
            return Ok(None);
        };
        let iod = IODNAV.bits(&w1);
        if [&w2, &w3, &w4].iter().any(|w| IODNAV.bits(*w) != iod) {
            return Ok(None);
        }
        if SVID.bits(&w4) != u64::from(prn) {
            return Err(Inconsistent);
        }
        let key = (iod, TOE.bits(&w1));
        if self.last == Some(key) {
            return Ok(None);
        }
        self.last = Some(key);
        Ok(Some(InavEph::from_words(prn, &[w1, w2, w3, w4, w5])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fit() {
        for f in [
            WORD_TYPE, IODNAV, TOE, M0, E, SQRT_A, OMEGA0, I0, OMEGA, IDOT, OMEGA_DOT, DELTA_N,
            CUC, CUS, CRC, CRS, SISA, SVID, CIC, CIS, TOC, AF0, AF1, AF2, AI0, AI1, AI2, BGD_E1E5A,
            BGD_E1E5B, E5B_HS, E1B_HS, E5B_DVS, E1B_DVS, WN, TOW,
        ] {
            assert!(f.end() <= 128);
        }
    }

    /// A page pair carrying `word`, with its CRC.
    fn page(word: &[u8; 16]) -> [u8; 32] {
        let mut even = BitWriter::new();
        even.put(2, 0);
        copy_bits(&mut even, word, 0, 112);
        even.put(6, 0);
        let mut odd = BitWriter::new();
        odd.put(2, 0b10);
        copy_bits(&mut odd, word, 112, 16);
        odd.put(64, 0);
        let (e, o) = (even.finish(), odd.finish());
        let mut covered = BitWriter::new();
        covered.put(4, 0);
        copy_bits(&mut covered, &e, 0, 114);
        copy_bits(&mut covered, &o, 0, 82);
        let mut odd = BitWriter::new();
        copy_bits(&mut odd, &o, 0, 82);
        odd.put(24, u64::from(crc24q(&covered.finish())));
        let o = odd.finish();
        let mut p = [0u8; 32];
        p[..e.len()].copy_from_slice(&e);
        p[16..16 + o.len()].copy_from_slice(&o);
        p
    }

    #[test]
    fn crc_guards_every_covered_bit() {
        let mut word = [0u8; 16];
        word[0] = 4 << 2;
        word[5] = 0x5A;
        let p = page(&word);
        assert_eq!(Word::check(3, &p).unwrap().unwrap().word_type, 4);
        for bit in (2..114).chain(128 + 2..128 + 82) {
            let mut bad = p;
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            assert_eq!(
                Word::check(3, &bad),
                Err(NavMsgError::Crc { prn: 3 }),
                "bit {bit}"
            );
        }
        let mut swapped = p;
        swapped[0] |= 0x80;
        assert_eq!(
            Word::check(3, &swapped),
            Err(NavMsgError::PageOrder { prn: 3 })
        );
    }
}
