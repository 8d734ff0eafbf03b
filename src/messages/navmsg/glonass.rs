//! GLONASS navigation strings 1–5 (GLONASS ICD 5.1, 4.4–4.7).
//!
//! A string is 85 bits: bit 85 (sent first) is an idle 0, bits 84–81 the string number,
//! bits 80–9 the data, bits 8–1 the Hamming check bits β1…β8. Each data bit aₖ (k = 9…85) has
//! a place in a Hamming code — the (k − 8)-th whole number from 3 on that is not a power of
//! two — and check sum cⱼ (j = 1…7) is βⱼ plus every aₖ whose place has bit j − 1 set; cΣ is
//! the sum of all 85 bits. A string is accepted when every check sum is 0, or when only one cⱼ
//! and cΣ are 1 (the error is in a check bit). The ICD would also correct a single data bit;
//! corsd waits for the next frame instead (30 s), as a wrong correction cannot be told.
//!
//! Positions below count from bit 85 (position 0) on, as the string is sent. Strings 1–4 of
//! one 30-s frame hold the ephemeris; string 5 the frame's almanac time data.

use serde::Serialize;

use super::{Field, Inconsistent, NavMsgError};
use crate::gnss::Gnss;
use crate::gnss::nav::{Ephemeris, OrbitParams};
use crate::gnss::orbit::GlonassState;
use crate::gnss::time::Gpst;
use crate::messages::bits::p2;

/// The eight check-sum masks over bits 1…85 (bit n at 1 << (n − 1)).
const HAMMING: [u128; 8] = hamming_masks();

const fn hamming_masks() -> [u128; 8] {
    let mut m = [0u128; 8];
    let mut j = 0;
    while j < 7 {
        m[j] = 1 << j;
        j += 1;
    }
    let mut place: u32 = 2;
    let mut k = 9;
    while k <= 85 {
        place += 1;
        while place.is_power_of_two() {
            place += 1;
        }
        let mut j = 0;
        while j < 7 {
            if (place >> j) & 1 == 1 {
                m[j] |= 1 << (k - 1);
            }
            j += 1;
        }
        k += 1;
    }
    m[7] = (1 << 85) - 1;
    m
}

/// The string as bits 85…1 in the low 85 bits.
fn string_bits(s: &[u8; 11]) -> u128 {
    let mut b = [0u8; 16];
    b[5..].copy_from_slice(s);
    u128::from_be_bytes(b) >> 3
}

/// Whether the Hamming check of a string passes.
pub fn hamming_ok(s: &[u8; 11]) -> bool {
    let v = string_bits(s);
    let c: Vec<bool> = HAMMING
        .iter()
        .map(|m| (v & m).count_ones() & 1 == 1)
        .collect();
    let n = c.iter().filter(|&&x| x).count();
    n == 0 || (n == 2 && c[7])
}

/// The eight check bits β1…β8 for a string's data bits (`s` with its check bits ignored).
pub fn hamming_bits(s: &[u8; 11]) -> u8 {
    let v = string_bits(s) & !0xFF;
    let mut beta = 0u8;
    for (j, m) in HAMMING.iter().take(7).enumerate() {
        beta |= (((v & m).count_ones() & 1) as u8) << j;
    }
    let total = (v.count_ones() + beta.count_ones()) & 1;
    beta | (total as u8) << 7
}

const STRING_NUMBER: Field = Field::u(1, 4, 1.0);
/// km → m and the power-of-two steps of the ICD.
const KM: f64 = 1000.0;
// String 1.
const P1: Field = Field::u(7, 2, 1.0);
const TK_H: Field = Field::u(9, 5, 3600.0);
const TK_M: Field = Field::u(14, 6, 60.0);
const TK_S: Field = Field::u(20, 1, 30.0);
const VEL: Field = Field::sm(21, 24, p2(-20) * KM);
const ACC: Field = Field::sm(45, 5, p2(-30) * KM);
const POS: Field = Field::sm(50, 27, p2(-11) * KM);
// String 2.
const BN: Field = Field::u(5, 3, 1.0);
const P2: Field = Field::u(8, 1, 1.0);
const TB: Field = Field::u(9, 7, 900.0);
// String 3.
const P3: Field = Field::u(5, 1, 1.0);
const GAMMA_N: Field = Field::sm(6, 11, p2(-40));
const P: Field = Field::u(18, 2, 1.0);
const LN3: Field = Field::u(20, 1, 1.0);
// String 4.
const TAU_N: Field = Field::sm(5, 22, p2(-30));
const DELTA_TAU_N: Field = Field::sm(27, 5, p2(-30));
const EN: Field = Field::u(32, 5, 1.0);
const P4: Field = Field::u(51, 1, 1.0);
const FT: Field = Field::u(52, 4, 1.0);
const NT: Field = Field::u(59, 11, 1.0);
const SLOT: Field = Field::u(70, 5, 1.0);
const M: Field = Field::u(75, 2, 1.0);
// String 5.
const NA: Field = Field::u(5, 11, 1.0);
const TAU_C: Field = Field::sm(16, 32, p2(-31));
const N4: Field = Field::u(49, 5, 1.0);
const TAU_GPS: Field = Field::sm(54, 22, p2(-30));

/// A string whose Hamming check passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GloString {
    /// String number (1–15).
    pub number: u8,
    data: [u8; 11],
}

/// Check a string.
pub fn check(slot: u8, s: &[u8; 11]) -> Result<GloString, NavMsgError> {
    if !hamming_ok(s) {
        return Err(NavMsgError::Hamming { slot });
    }
    Ok(GloString {
        number: STRING_NUMBER.bits(s) as u8,
        data: *s,
    })
}

/// Strings 1–4 (and 5 when seen in the same frame), every field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GloEph {
    pub slot: u8,
    /// FDMA channel (−7 … +6), as the receiver tracks the satellite.
    pub channel: Option<i8>,
    pub p1: u8,
    /// Frame start, seconds of the GLONASS day.
    pub tk_s: f64,
    /// PZ-90 position (m), velocity (m/s) and luni-solar acceleration (m/s²) at tb.
    pub pos_m: [f64; 3],
    pub vel_mps: [f64; 3],
    pub acc_mps2: [f64; 3],
    /// Health flags; the most significant bit set means unhealthy.
    pub bn: u8,
    pub p2: u8,
    /// Reference time, seconds of the GLONASS day (UTC(SU) + 3 h).
    pub tb_s: f64,
    pub p3: u8,
    pub gamma_n: f64,
    pub p: u8,
    pub ln3: bool,
    pub tau_n_s: f64,
    pub delta_tau_n_s: f64,
    /// Age of the data (days).
    pub en: u8,
    pub p4: u8,
    /// Accuracy index.
    pub ft: u8,
    /// Day in the four-year period (1 = 1 January of the leap year).
    pub nt: u16,
    /// Slot number the satellite sends in string 4.
    pub n: u8,
    /// Satellite type: 0 GLONASS, 1 GLONASS-M.
    pub m: u8,
    /// From string 5: NA (day of the almanac), τc (s), N4 (four-year period), τGPS (s).
    pub string5: Option<(u16, f64, u8, f64)>,
}

impl GloEph {
    fn from_strings(
        slot: u8,
        channel: Option<i8>,
        s: &[[u8; 11]; 4],
        s5: Option<&[u8; 11]>,
    ) -> Self {
        let [s1, s2, s3, s4] = s;
        let axis = |d: &[u8; 11]| (POS.val(d), VEL.val(d), ACC.val(d));
        let (x, vx, ax) = axis(s1);
        let (y, vy, ay) = axis(s2);
        let (z, vz, az) = axis(s3);
        GloEph {
            slot,
            channel,
            p1: P1.raw(s1) as u8,
            tk_s: TK_H.val(s1) + TK_M.val(s1) + TK_S.val(s1),
            pos_m: [x, y, z],
            vel_mps: [vx, vy, vz],
            acc_mps2: [ax, ay, az],
            bn: BN.raw(s2) as u8,
            p2: P2.raw(s2) as u8,
            tb_s: TB.val(s2),
            p3: P3.raw(s3) as u8,
            gamma_n: GAMMA_N.val(s3),
            p: P.raw(s3) as u8,
            ln3: LN3.raw(s3) == 1,
            tau_n_s: TAU_N.val(s4),
            delta_tau_n_s: DELTA_TAU_N.val(s4),
            en: EN.raw(s4) as u8,
            p4: P4.raw(s4) as u8,
            ft: FT.raw(s4) as u8,
            nt: NT.raw(s4) as u16,
            n: SLOT.raw(s4) as u8,
            m: M.raw(s4) as u8,
            string5: s5.map(|d| {
                (
                    NA.raw(d) as u16,
                    TAU_C.val(d),
                    N4.raw(d) as u8,
                    TAU_GPS.val(d),
                )
            }),
        }
    }

    /// The engine's view: tb on the GLONASS day nearest `near`. Without a channel from the
    /// receiver the set still gives orbits and clocks; its channel reads 0.
    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        let toe = near.nearest_glonass_tod(self.tb_s);
        Ephemeris {
            sys: Gnss::Glonass,
            prn: self.slot,
            toe,
            toc: toe,
            iode: (self.tb_s / 900.0) as u32,
            healthy: self.bn & 0b100 == 0,
            accuracy_m: None,
            tgd: [self.delta_tau_n_s, 0.0],
            fit_half_s: 15.0 * 60.0 + 60.0,
            orbit: OrbitParams::Glonass {
                state: GlonassState {
                    pos: self.pos_m,
                    vel: self.vel_mps,
                    acc: self.acc_mps2,
                    tau_n: self.tau_n_s,
                    gamma_n: self.gamma_n,
                },
                channel: self.channel.unwrap_or(0),
                nodes: Default::default(),
            },
        }
    }
}

/// The strings of the current frame of one satellite.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    frame: Option<u32>,
    strings: [Option<[u8; 11]>; 5],
    /// (tb, NT) of the last set emitted.
    last: Option<(u64, u64)>,
}

impl Assembly {
    /// Keep a string of frame `frame`; a set is emitted once strings 1–4 of one frame are in
    /// and it was not emitted before. String 4 naming another slot is inconsistent.
    pub(crate) fn push(
        &mut self,
        slot: u8,
        channel: Option<i8>,
        s: GloString,
        frame: u32,
    ) -> Result<Option<GloEph>, Inconsistent> {
        if self.frame != Some(frame) {
            self.frame = Some(frame);
            self.strings = [None; 5];
        }
        match s.number {
            1..=5 => self.strings[usize::from(s.number - 1)] = Some(s.data),
            _ => return Ok(None),
        }
        let [Some(s1), Some(s2), Some(s3), Some(s4), s5] = self.strings else {
            return Ok(None);
        };
        if SLOT.bits(&s4) != u64::from(slot) {
            return Err(Inconsistent);
        }
        let key = (TB.bits(&s2), NT.bits(&s4));
        if self.last == Some(key) {
            return Ok(None);
        }
        self.last = Some(key);
        Ok(Some(GloEph::from_strings(
            slot,
            channel,
            &[s1, s2, s3, s4],
            s5.as_ref(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_fit() {
        for f in [
            STRING_NUMBER,
            P1,
            TK_H,
            TK_M,
            TK_S,
            VEL,
            ACC,
            POS,
            BN,
            P2,
            TB,
            P3,
            GAMMA_N,
            P,
            LN3,
            TAU_N,
            DELTA_TAU_N,
            EN,
            P4,
            FT,
            NT,
            SLOT,
            M,
            NA,
            TAU_C,
            N4,
            TAU_GPS,
        ] {
            assert!(f.end() <= 77);
        }
    }

    #[test]
    fn the_check_sums_follow_the_icd_groups() {
        // c1 covers a9, a10, a12, a13, a15 …; c7 covers a66…a85.
        let bit = |n: u32| 1u128 << (n - 1);
        for n in [9, 10, 12, 13, 15, 17, 19, 20, 22, 24, 84] {
            assert_ne!(HAMMING[0] & bit(n), 0, "c1 a{n}");
        }
        for n in [11, 14, 16, 18] {
            assert_eq!(HAMMING[0] & bit(n), 0, "c1 a{n}");
        }
        assert_eq!(HAMMING[6] >> 65, (1 << 20) - 1);
        assert_eq!(HAMMING[6] & ((1 << 65) - 1), bit(7));
        assert_eq!(HAMMING[5], bit(6) | (((1u128 << 31) - 1) << 34));
    }

    #[test]
    fn single_errors_in_data_are_caught_and_in_check_bits_tolerated() {
        let mut s = [0u8; 11];
        s[0] = 0b0001_0110;
        s[4] = 0xA7;
        s[9] = 0x30;
        let beta = hamming_bits(&s);
        // β1…β8 are bits 8…1: the last 5 bits of byte 9 and the first 3 of byte 10.
        let with = |mut s: [u8; 11], beta: u8| {
            let v = string_bits(&s) & !0xFF | u128::from(beta);
            let b = (v << 3).to_be_bytes();
            s.copy_from_slice(&b[5..]);
            s
        };
        let good = with(s, beta);
        assert!(hamming_ok(&good));
        for n in 9..=85 {
            let v = string_bits(&good) ^ (1u128 << (n - 1));
            let b = (v << 3).to_be_bytes();
            let mut bad = [0u8; 11];
            bad.copy_from_slice(&b[5..]);
            assert!(!hamming_ok(&bad), "data bit {n}");
        }
        for j in 0..7 {
            assert!(hamming_ok(&with(s, beta ^ (1 << j))), "check bit {}", j + 1);
        }
    }
}
