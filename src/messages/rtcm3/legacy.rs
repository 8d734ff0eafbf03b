//! Legacy RTK observables: 1001–1004 (GPS L1, L1+L2) and 1009–1012 (GLONASS G1, G1+G2).
//!
//! The four types of each system share one layout that grows: 1001/1009 carry L1 code and
//! phase, 1002/1010 add the code ambiguity and CNR, 1003/1011 add L2 (without the L1 extras),
//! 1004/1012 carry everything. The fields a type lacks are `None`.

use serde::Serialize;

use super::df::{DF002, DF003};
use super::{DecodeError, message_number};
use crate::messages::bits::{BitWriter, Bits, Df};

const BIT: Df = Df::u(1, 1.0);
/// GPS epoch time, ms of week.
const DF004: Df = Df::u(30, 1.0);
const DF006: Df = Df::u(5, 1.0);
const DF008: Df = Df::u(3, 1.0);
const DF009: Df = Df::u(6, 1.0);
/// GPS L1 pseudorange modulo one light-millisecond, 0.02 m.
const DF011: Df = Df::u(24, 0.02);
/// Phase range − pseudorange, 0.0005 m.
const DF012: Df = Df::i(20, 0.0005).invalid(-0x80000);
const LOCK: Df = Df::u(7, 1.0);
/// Integer light-milliseconds of the pseudorange, in m.
const DF014: Df = Df::u(8, 299_792.458);
/// CNR, 0.25 dB-Hz (0 = not computed).
const DF015: Df = Df::u(8, 0.25).invalid(0);
const DF016: Df = Df::u(2, 1.0);
/// L2 − L1 pseudorange, 0.02 m.
const DF017: Df = Df::i(14, 0.02).invalid(-0x2000);
/// GLONASS epoch time, ms of day.
const DF034: Df = Df::u(27, 1.0);
const DF040: Df = Df::u(5, 1.0);
/// GLONASS G1 pseudorange modulo 599 584.916 m, 0.02 m.
const DF041: Df = Df::u(25, 0.02);
/// GLONASS integer multiples of 599 584.916 m.
const DF044: Df = Df::u(7, 599_584.916);

/// Observables of one satellite.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LegacySat {
    pub sat: u8,
    /// GLONASS frequency channel + 7 (GLONASS only).
    pub channel_plus_7: Option<u8>,
    pub l1_code: u8,
    /// L1 pseudorange modulo the ambiguity unit (m).
    pub l1_pseudorange_m: f64,
    /// L1 phase range − L1 pseudorange (m).
    pub l1_phase_minus_pr_m: Option<f64>,
    pub l1_lock: u8,
    /// Integer ambiguity of the L1 pseudorange, in m (1002/1004/1010/1012).
    pub l1_ambiguity_m: Option<f64>,
    pub l1_cnr_dbhz: Option<f64>,
    pub l2_code: Option<u8>,
    /// L2 − L1 pseudorange (m).
    pub l2_minus_l1_pr_m: Option<f64>,
    /// L2 phase range − L1 pseudorange (m).
    pub l2_phase_minus_l1_pr_m: Option<f64>,
    pub l2_lock: Option<u8>,
    pub l2_cnr_dbhz: Option<f64>,
}

impl LegacySat {
    /// Full L1 pseudorange (m), when the message carries the ambiguity.
    pub fn l1_pseudorange_full_m(&self) -> Option<f64> {
        Some(self.l1_ambiguity_m? + self.l1_pseudorange_m)
    }
    /// Full L2 pseudorange (m).
    pub fn l2_pseudorange_full_m(&self) -> Option<f64> {
        Some(self.l1_pseudorange_full_m()? + self.l2_minus_l1_pr_m?)
    }
}

/// Which fields a message number carries: (L1 extras, L2).
fn layout(number: u16) -> (bool, bool) {
    match number % 1000 % 8 {
        1 => (false, false), // 1001, 1009
        2 => (true, false),  // 1002, 1010
        3 => (false, true),  // 1003, 1011
        _ => (true, true),   // 1004, 1012
    }
}

fn decode_sats<'a>(
    number: u16,
    mut i: Bits<'a>,
    n: usize,
    glonass: bool,
) -> Result<Vec<LegacySat>, DecodeError> {
    let e = DecodeError::truncated(number);
    let (l1x, l2) = layout(number);
    let mut sats = Vec::with_capacity(n);
    for _ in 0..n {
        let (r, sat) = DF009.raw(i).map_err(&e)?;
        let (r, l1_code) = BIT.raw(r).map_err(&e)?;
        let (r, channel) = if glonass {
            let (r, c) = DF040.raw(r).map_err(&e)?;
            (r, Some(c as u8))
        } else {
            (r, None)
        };
        let (r, pr) = if glonass { DF041.val(r) } else { DF011.val(r) }.map_err(&e)?;
        let (r, ph) = DF012.opt(r).map_err(&e)?;
        let (mut r, lock) = LOCK.raw(r).map_err(&e)?;
        let mut s = LegacySat {
            sat: sat as u8,
            channel_plus_7: channel,
            l1_code: l1_code as u8,
            l1_pseudorange_m: pr,
            l1_phase_minus_pr_m: ph,
            l1_lock: lock as u8,
            l1_ambiguity_m: None,
            l1_cnr_dbhz: None,
            l2_code: None,
            l2_minus_l1_pr_m: None,
            l2_phase_minus_l1_pr_m: None,
            l2_lock: None,
            l2_cnr_dbhz: None,
        };
        if l1x {
            let (q, amb) = if glonass { DF044.val(r) } else { DF014.val(r) }.map_err(&e)?;
            let (q, cnr) = DF015.opt(q).map_err(&e)?;
            s.l1_ambiguity_m = Some(amb);
            s.l1_cnr_dbhz = cnr;
            r = q;
        }
        if l2 {
            let (q, code) = DF016.raw(r).map_err(&e)?;
            let (q, d) = DF017.opt(q).map_err(&e)?;
            let (q, ph2) = DF012.opt(q).map_err(&e)?;
            let (q, lock2) = LOCK.raw(q).map_err(&e)?;
            s.l2_code = Some(code as u8);
            s.l2_minus_l1_pr_m = d;
            s.l2_phase_minus_l1_pr_m = ph2;
            s.l2_lock = Some(lock2 as u8);
            r = q;
            if l1x {
                let (q, cnr2) = DF015.opt(r).map_err(&e)?;
                s.l2_cnr_dbhz = cnr2;
                r = q;
            }
        }
        sats.push(s);
        i = r;
    }
    Ok(sats)
}

fn encode_sats(w: &mut BitWriter, number: u16, sats: &[LegacySat], glonass: bool) {
    let (l1x, l2) = layout(number);
    for s in sats {
        DF009.put_raw(w, s.sat as i64);
        BIT.put_raw(w, s.l1_code as i64);
        if glonass {
            DF040.put_raw(w, s.channel_plus_7.unwrap_or(0) as i64);
            DF041.put(w, s.l1_pseudorange_m);
        } else {
            DF011.put(w, s.l1_pseudorange_m);
        }
        DF012.put_opt(w, s.l1_phase_minus_pr_m);
        LOCK.put_raw(w, s.l1_lock as i64);
        if l1x {
            if glonass {
                DF044.put(w, s.l1_ambiguity_m.unwrap_or(0.0));
            } else {
                DF014.put(w, s.l1_ambiguity_m.unwrap_or(0.0));
            }
            DF015.put_opt(w, s.l1_cnr_dbhz);
        }
        if l2 {
            DF016.put_raw(w, s.l2_code.unwrap_or(0) as i64);
            DF017.put_opt(w, s.l2_minus_l1_pr_m);
            DF012.put_opt(w, s.l2_phase_minus_l1_pr_m);
            LOCK.put_raw(w, s.l2_lock.unwrap_or(0) as i64);
            if l1x {
                DF015.put_opt(w, s.l2_cnr_dbhz);
            }
        }
    }
}

/// 1001–1004: GPS RTK observables.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpsObs {
    pub number: u16,
    pub station: u16,
    /// GPS time of week (ms).
    pub tow_ms: u32,
    pub synchronous: bool,
    pub smoothing: bool,
    pub smoothing_interval: u8,
    pub sats: Vec<LegacySat>,
}

/// 1009–1012: GLONASS RTK observables.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GloObs {
    pub number: u16,
    pub station: u16,
    /// GLONASS time of day (ms).
    pub tod_ms: u32,
    pub synchronous: bool,
    pub smoothing: bool,
    pub smoothing_interval: u8,
    pub sats: Vec<LegacySat>,
}

macro_rules! legacy_message {
    ($t:ident, $range:pat, $time:ident, $time_df:expr, $glonass:expr) => {
        impl $t {
            pub fn number(&self) -> u16 {
                self.number
            }

            pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
                let number =
                    message_number(payload).ok_or(DecodeError::Empty { len: payload.len() })?;
                if !matches!(number, $range) {
                    return Err(DecodeError::Invalid {
                        number,
                        field: "message number",
                        value: number as i64,
                    });
                }
                let e = DecodeError::truncated(number);
                let i = super::after_number(payload);
                let (i, station) = DF003.raw(i).map_err(&e)?;
                let (i, time) = $time_df.raw(i).map_err(&e)?;
                let (i, sync) = BIT.raw(i).map_err(&e)?;
                let (i, n) = DF006.raw(i).map_err(&e)?;
                let (i, smoothing) = BIT.raw(i).map_err(&e)?;
                let (i, interval) = DF008.raw(i).map_err(&e)?;
                let sats = decode_sats(number, i, n as usize, $glonass)?;
                Ok($t {
                    number,
                    station: station as u16,
                    $time: time as u32,
                    synchronous: sync == 1,
                    smoothing: smoothing == 1,
                    smoothing_interval: interval as u8,
                    sats,
                })
            }

            pub fn encode(&self) -> Vec<u8> {
                let mut w = BitWriter::with_capacity(8 + self.sats.len() * 16);
                DF002.put_raw(&mut w, self.number as i64);
                DF003.put_raw(&mut w, self.station as i64);
                $time_df.put_raw(&mut w, self.$time as i64);
                w.put_flag(self.synchronous);
                let sats = &self.sats[..self.sats.len().min(31)];
                DF006.put_raw(&mut w, sats.len() as i64);
                w.put_flag(self.smoothing);
                DF008.put_raw(&mut w, self.smoothing_interval as i64);
                encode_sats(&mut w, self.number, sats, $glonass);
                w.finish()
            }
        }
    };
}

legacy_message!(GpsObs, 1001..=1004, tow_ms, DF004, false);
legacy_message!(GloObs, 1009..=1012, tod_ms, DF034, true);
