//! Multiple Signal Messages, MSM1–7, of every system (1071–1137).
//!
//! Layout (RTCM 10403.3 §3.5.16): a header with the 64-bit satellite mask, the 32-bit signal
//! mask and a cell mask of nsat × nsig bits; then the satellite data, field by field for all
//! satellites; then the signal data, field by field for all cells. Which fields are present
//! depends on the MSM number:
//!
//! | MSM | satellite fields | cell fields |
//! |---|---|---|
//! | 1 | rough range mod 1 ms | fine pseudorange |
//! | 2 | rough range mod 1 ms | fine phase range, lock, half-cycle |
//! | 3 | rough range mod 1 ms | fine pseudorange, fine phase range, lock, half-cycle |
//! | 4 | + integer ms | MSM3 + CNR |
//! | 5 | + extended info, rough rate | MSM4 + fine phase-range rate |
//! | 6 | as MSM4 | MSM4 fields in extended resolution |
//! | 7 | as MSM5 | MSM5 fields in extended resolution |
//!
//! Ranges are kept per field as transmitted but in metres (light-milliseconds × c/1000), so the
//! scales below are c·2^-k; accessors give the full pseudorange, phase range and rate.

use serde::Serialize;

use super::df::{DF002, DF003};
use super::{DecodeError, message_number};
use crate::gnss::Gnss;
use crate::gnss::obs::{SatObs, SignalCode, SignalObs};
use crate::gnss::signal::carrier_hz;
use crate::messages::bits::{BitWriter, Bits, Df, p2};

/// Bits of one satellite's data in an MSM of type `msm` (1–7).
fn body_bits_per_sat(msm: u8) -> u32 {
    let mut n = DF398.bits;
    if msm >= 4 {
        n += DF397.bits;
    }
    if msm == 5 || msm == 7 {
        n += EXT_INFO.bits + DF399.bits;
    }
    n
}

/// Bits of one cell's data in an MSM of type `msm` (1–7).
fn body_bits_per_cell(msm: u8) -> u32 {
    let ext = msm >= 6;
    let (pr, ph, lock, cnr) = if ext {
        (DF405, DF406, DF407, DF408)
    } else {
        (DF400, DF401, DF402, DF403)
    };
    let mut n = 0;
    if msm != 2 {
        n += pr.bits;
    }
    if msm >= 2 {
        n += ph.bits + lock.bits + DF420.bits;
    }
    if msm >= 4 {
        n += cnr.bits;
    }
    if msm == 5 || msm == 7 {
        n += DF404.bits;
    }
    n
}

/// Metres per light-millisecond.
const LMS: f64 = 299_792.458;

/// DF397 rough range, integer milliseconds (255 = invalid), in metres.
const DF397: Df = Df::u(8, LMS).invalid(255);
/// Extended satellite information (GLONASS: frequency channel + 7).
const EXT_INFO: Df = Df::u(4, 1.0);
/// DF398 rough range modulo 1 ms, 2^-10 ms, in metres.
const DF398: Df = Df::u(10, LMS / 1024.0);
/// DF399 rough phase-range rate, m/s (−8192 = invalid).
const DF399: Df = Df::i(14, 1.0).invalid(-8192);
/// DF400 fine pseudorange, 2^-24 ms.
const DF400: Df = Df::i(15, LMS * p2(-24)).invalid(-16384);
/// DF401 fine phase range, 2^-29 ms.
const DF401: Df = Df::i(22, LMS * p2(-29)).invalid(-2_097_152);
/// DF402 lock-time indicator (4 bits).
const DF402: Df = Df::u(4, 1.0);
/// DF420 half-cycle ambiguity indicator.
const DF420: Df = Df::u(1, 1.0);
/// DF403 CNR, dB-Hz (0 = not computed).
const DF403: Df = Df::u(6, 1.0).invalid(0);
/// DF404 fine phase-range rate, 0.0001 m/s.
const DF404: Df = Df::i(15, 0.0001).invalid(-16384);
/// DF405 fine pseudorange, extended, 2^-29 ms.
const DF405: Df = Df::i(20, LMS * p2(-29)).invalid(-524_288);
/// DF406 fine phase range, extended, 2^-31 ms.
const DF406: Df = Df::i(24, LMS * p2(-31)).invalid(-8_388_608);
/// DF407 lock-time indicator, extended (10 bits).
const DF407: Df = Df::u(10, 1.0);
/// DF408 CNR, extended, 2^-4 dB-Hz (0 = not computed).
const DF408: Df = Df::u(10, p2(-4)).invalid(0);

/// Whether a message number is an MSM.
pub fn is_msm(n: u16) -> bool {
    msm_system(n).is_some() && (1..=7).contains(&(n % 10))
}

/// The system of an MSM number's series (107x GPS … 113x NavIC), MSM or not.
pub fn msm_system(n: u16) -> Option<Gnss> {
    Some(match n / 10 {
        107 => Gnss::Gps,
        108 => Gnss::Glonass,
        109 => Gnss::Galileo,
        110 => Gnss::Sbas,
        111 => Gnss::Qzss,
        112 => Gnss::Beidou,
        113 => Gnss::Navic,
        _ => return None,
    })
}

/// The MSM number base of a system (1070 GPS … 1130 NavIC).
pub(crate) fn msm_base(sys: Gnss) -> u16 {
    match sys {
        Gnss::Gps => 1070,
        Gnss::Glonass => 1080,
        Gnss::Galileo => 1090,
        Gnss::Sbas => 1100,
        Gnss::Qzss => 1110,
        Gnss::Beidou => 1120,
        Gnss::Navic => 1130,
    }
}

/// Satellite data of one satellite.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MsmSat {
    /// Satellite ID 1–64 (PRN for most systems; SBAS 120 + id − 1; QZSS 192 + id).
    pub id: u8,
    /// Rough range, integer milliseconds as metres (MSM4–7); `None` when invalid.
    pub rough_int_m: Option<f64>,
    /// Extended information (MSM5/7; GLONASS frequency channel + 7).
    pub ext_info: Option<u8>,
    /// Rough range modulo 1 ms (m).
    pub rough_mod_m: f64,
    /// Rough phase-range rate (m/s, MSM5/7).
    pub rough_rate_mps: Option<f64>,
}

/// Signal data of one cell (satellite × signal).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MsmCell {
    /// Index into `sats`.
    pub sat: u8,
    /// RTCM signal ID 1–32.
    pub signal: u8,
    /// Fine pseudorange (m).
    pub fine_pseudorange_m: Option<f64>,
    /// Fine phase range (m).
    pub fine_phaserange_m: Option<f64>,
    /// Lock-time indicator as transmitted (4-bit in MSM2–5, 10-bit in MSM6/7).
    pub lock_indicator: Option<u16>,
    pub half_cycle: Option<bool>,
    /// Carrier-to-noise ratio (dB-Hz).
    pub cnr_dbhz: Option<f64>,
    /// Fine phase-range rate (m/s).
    pub fine_rate_mps: Option<f64>,
}

/// An MSM message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Msm {
    pub system: Gnss,
    /// 1–7.
    pub msm: u8,
    pub station: u16,
    /// Epoch time field (30 bits) as transmitted: ms of week (BDS: of the BDT week), or for
    /// GLONASS day of week (3 bits) and ms of day (27 bits).
    pub epoch_raw: u32,
    /// More MSMs of this epoch follow.
    pub multiple: bool,
    pub iods: u8,
    pub reserved: u8,
    pub clock_steering: u8,
    pub external_clock: u8,
    pub smoothing: bool,
    pub smoothing_interval: u8,
    pub sat_mask: u64,
    pub sig_mask: u32,
    pub sats: Vec<MsmSat>,
    pub cells: Vec<MsmCell>,
    /// Bytes after the content that the sender appended (u-blox pads MSMs with zero bytes);
    /// kept so that the message re-encodes to the same bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trailing: Vec<u8>,
}

impl Msm {
    pub fn number(&self) -> u16 {
        msm_base(self.system) + self.msm as u16
    }

    /// Milliseconds of the week (system time; BDT for BeiDou), or `None` for GLONASS.
    pub fn tow_ms(&self) -> Option<u32> {
        (self.system != Gnss::Glonass).then_some(self.epoch_raw)
    }

    /// GLONASS day of week and milliseconds of the GLONASS day.
    pub fn glonass_day_tod_ms(&self) -> Option<(u8, u32)> {
        (self.system == Gnss::Glonass)
            .then_some(((self.epoch_raw >> 27) as u8, self.epoch_raw & 0x07FF_FFFF))
    }

    /// The signal IDs of the signal mask, in order.
    pub fn signal_ids(&self) -> Vec<u8> {
        (0..32)
            .filter(|k| self.sig_mask & (1 << (31 - k)) != 0)
            .map(|k| k as u8 + 1)
            .collect()
    }

    /// A one-line summary for text output.
    pub fn brief(&self) -> String {
        let sats: Vec<String> = self
            .sats
            .iter()
            .map(|s| format!("{}{:02}", self.system.letter(), s.id))
            .collect();
        let sigs: Vec<&str> = self
            .signal_ids()
            .into_iter()
            .map(|id| signal_code(self.system, id).unwrap_or("?"))
            .collect();
        format!(
            "MSM{} {:?} epoch {} sats {} signals {}{}",
            self.msm,
            self.system,
            self.epoch_raw,
            sats.join(" "),
            sigs.join(" "),
            if self.multiple { " (more follow)" } else { "" }
        )
    }

    /// Full rough range of a satellite (m), when the message carries the integer part.
    pub fn rough_range_m(&self, sat: &MsmSat) -> Option<f64> {
        if self.msm <= 3 {
            // MSM1–3 carry only the sub-millisecond part: the integer must come from elsewhere.
            return None;
        }
        sat.rough_int_m.map(|i| i + sat.rough_mod_m)
    }

    /// Full pseudorange of a cell (m).
    pub fn pseudorange_m(&self, cell: &MsmCell) -> Option<f64> {
        let sat = self.sats.get(cell.sat as usize)?;
        Some(self.rough_range_m(sat)? + cell.fine_pseudorange_m?)
    }

    /// Full phase range of a cell (m).
    pub fn phaserange_m(&self, cell: &MsmCell) -> Option<f64> {
        let sat = self.sats.get(cell.sat as usize)?;
        Some(self.rough_range_m(sat)? + cell.fine_phaserange_m?)
    }

    /// Full phase-range rate of a cell (m/s, MSM5/7).
    pub fn phaserange_rate_mps(&self, cell: &MsmCell) -> Option<f64> {
        let sat = self.sats.get(cell.sat as usize)?;
        Some(sat.rough_rate_mps? + cell.fine_rate_mps?)
    }

    /// Minimum lock time of a cell (s).
    pub fn lock_time_s(&self, cell: &MsmCell) -> Option<f64> {
        let i = cell.lock_indicator?;
        if self.msm >= 6 {
            lock_time_ext_ms(i).map(|ms| ms as f64 / 1000.0)
        } else {
            Some(lock_time_ms(i as u8) as f64 / 1000.0)
        }
    }

    /// Carrier frequency of a cell (Hz), when known (GLONASS needs the channel from MSM5/7).
    pub fn frequency_hz(&self, cell: &MsmCell) -> Option<f64> {
        self.frequency_hz_with(cell, &|_| None)
    }

    /// The carrier frequency, taking a GLONASS channel the message lacks (MSM1–4 carry none)
    /// from `channel_of(prn)`, e.g. from the 1020 ephemerides.
    pub fn frequency_hz_with(
        &self,
        cell: &MsmCell,
        channel_of: &dyn Fn(u8) -> Option<i8>,
    ) -> Option<f64> {
        let code = signal_code(self.system, cell.signal)?;
        let sat = self.sats.get(cell.sat as usize)?;
        let channel = sat
            .ext_info
            .filter(|&e| e <= 13)
            .map(|e| e as i8 - 7)
            .or_else(|| channel_of(satellite_prn(self.system, sat.id)));
        carrier_hz(self.system, code.as_bytes()[0], channel)
    }

    /// The observations of this message as system-independent satellite observations. Phase in
    /// cycles needs the frequency; Doppler (Hz) needs MSM5/7.
    pub fn observations(&self) -> Vec<SatObs> {
        self.observations_with(&|_| None)
    }

    /// [`Msm::observations`] with GLONASS channels from elsewhere for MSM1–4.
    pub fn observations_with(&self, channel_of: &dyn Fn(u8) -> Option<i8>) -> Vec<SatObs> {
        // Each satellite's signals sized once: the cells name their satellite.
        let mut per_sat = [0u8; 64];
        for c in &self.cells {
            if let Some(n) = per_sat.get_mut(c.sat as usize) {
                *n += 1;
            }
        }
        let mut out: Vec<SatObs> = self
            .sats
            .iter()
            .zip(per_sat)
            .map(|(s, n)| SatObs {
                sys: self.system,
                prn: satellite_prn(self.system, s.id),
                signals: Vec::with_capacity(n as usize),
            })
            .collect();
        // Per signal ID: its code and, outside GLONASS's FDMA, its carrier and wavelength, the
        // same for every satellite.
        type Signal = Option<(SignalCode, Option<(Option<f64>, Option<f64>)>)>;
        let mut signals: [Option<Signal>; 33] = [None; 33];
        for c in &self.cells {
            let Some(slot) = signals.get_mut(c.signal as usize) else {
                continue;
            };
            let signal = *slot.get_or_insert_with(|| {
                let code = signal_code(self.system, c.signal).and_then(SignalCode::new)?;
                let fixed = (self.system != Gnss::Glonass).then(|| {
                    let f = carrier_hz(self.system, code.0[0], None);
                    (f, f.map(|f| crate::gnss::orbit::C / f))
                });
                Some((code, fixed))
            });
            let Some((code, fixed)) = signal else {
                continue;
            };
            let (f, lambda) = fixed.unwrap_or_else(|| {
                let f = self.frequency_hz_with(c, channel_of);
                (f, f.map(|f| crate::gnss::orbit::C / f))
            });
            let obs = SignalObs {
                code,
                freq_hz: f,
                pseudorange_m: self.pseudorange_m(c),
                phase_cycles: self.phaserange_m(c).zip(lambda).map(|(r, l)| r / l),
                doppler_hz: self.phaserange_rate_mps(c).zip(lambda).map(|(r, l)| -r / l),
                cn0_dbhz: c.cnr_dbhz,
                lock_s: self.lock_time_s(c),
                slip: false,
                half_cycle: c.half_cycle.unwrap_or(false),
            };
            if let Some(s) = out.get_mut(c.sat as usize) {
                s.signals.push(obs);
            }
        }
        out
    }

    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        Msm::decode_parts(payload, true)
    }

    /// The header alone (time, flags, masks; no satellite or cell data), failing exactly where
    /// [`Msm::decode`] fails: for a first look at a recording that only needs the epochs' times.
    pub fn decode_header(payload: &[u8]) -> Result<Self, DecodeError> {
        Msm::decode_parts(payload, false)
    }

    fn decode_parts(payload: &[u8], body: bool) -> Result<Self, DecodeError> {
        let number = message_number(payload).ok_or(DecodeError::Empty { len: payload.len() })?;
        let system = msm_system(number).ok_or(DecodeError::Invalid {
            number,
            field: "message number",
            value: number as i64,
        })?;
        let msm = (number % 10) as u8;
        let e = DecodeError::truncated(number);
        let i = Bits::new(payload);
        let (i, _) = DF002.raw(i).map_err(&e)?;
        let (i, station) = DF003.raw(i).map_err(&e)?;
        let (i, epoch_raw) = i.take(30).map_err(&e)?;
        let (i, multiple) = i.take(1).map_err(&e)?;
        let (i, iods) = i.take(3).map_err(&e)?;
        let (i, reserved) = i.take(7).map_err(&e)?;
        let (i, clock_steering) = i.take(2).map_err(&e)?;
        let (i, external_clock) = i.take(2).map_err(&e)?;
        let (i, smoothing) = i.take(1).map_err(&e)?;
        let (i, smoothing_interval) = i.take(3).map_err(&e)?;
        let (i, sat_mask) = i.take(64).map_err(&e)?;
        let (i, sig_mask) = i.take(32).map_err(&e)?;
        let nsat = sat_mask.count_ones() as usize;
        let nsig = sig_mask.count_ones() as usize;
        if nsat * nsig > 64 {
            return Err(DecodeError::Invalid {
                number,
                field: "cell mask size (satellites × signals > 64)",
                value: (nsat * nsig) as i64,
            });
        }
        let (mut i, cell_mask) = i.take((nsat * nsig) as u32).map_err(&e)?;
        let header = |sats, cells, trailing| Msm {
            trailing,
            system,
            msm,
            station: station as u16,
            epoch_raw: epoch_raw as u32,
            multiple: multiple == 1,
            iods: iods as u8,
            reserved: reserved as u8,
            clock_steering: clock_steering as u8,
            external_clock: external_clock as u8,
            smoothing: smoothing == 1,
            smoothing_interval: smoothing_interval as u8,
            sat_mask,
            sig_mask: sig_mask as u32,
            sats,
            cells,
        };
        if !body {
            let ncell = cell_mask.count_ones();
            let need = nsat as u32 * body_bits_per_sat(msm) + ncell * body_bits_per_cell(msm);
            if (i.remaining() as u64) < u64::from(need) {
                // The same error the full decode meets at the first field that does not fit.
                return Msm::decode_parts(payload, true);
            }
            return Ok(header(Vec::new(), Vec::new(), Vec::new()));
        }
        let sig_ids: Vec<u8> = (0..32u8)
            .filter(|k| sig_mask & (1 << (31 - k)) != 0)
            .map(|k| k + 1)
            .collect();
        let mut sats: Vec<MsmSat> = (0..64u8)
            .filter(|k| sat_mask & (1 << (63 - k)) != 0)
            .map(|k| MsmSat {
                id: k + 1,
                rough_int_m: None,
                ext_info: None,
                rough_mod_m: 0.0,
                rough_rate_mps: None,
            })
            .collect();
        if msm >= 4 {
            for s in &mut sats {
                let (r, v) = DF397.opt(i).map_err(&e)?;
                s.rough_int_m = v;
                i = r;
            }
        }
        if msm == 5 || msm == 7 {
            for s in &mut sats {
                let (r, v) = EXT_INFO.raw(i).map_err(&e)?;
                s.ext_info = Some(v as u8);
                i = r;
            }
        }
        for s in &mut sats {
            let (r, v) = DF398.val(i).map_err(&e)?;
            s.rough_mod_m = v;
            i = r;
        }
        if msm == 5 || msm == 7 {
            for s in &mut sats {
                let (r, v) = DF399.opt(i).map_err(&e)?;
                s.rough_rate_mps = v;
                i = r;
            }
        }
        let ncell = cell_mask.count_ones() as usize;
        let mut cells = Vec::with_capacity(ncell);
        for (si, _) in sats.iter().enumerate() {
            for (gi, &sig) in sig_ids.iter().enumerate() {
                let bit = nsat * nsig - 1 - (si * nsig + gi);
                if cell_mask >> bit & 1 == 1 {
                    cells.push(MsmCell {
                        sat: si as u8,
                        signal: sig,
                        fine_pseudorange_m: None,
                        fine_phaserange_m: None,
                        lock_indicator: None,
                        half_cycle: None,
                        cnr_dbhz: None,
                        fine_rate_mps: None,
                    });
                }
            }
        }
        let ext = msm >= 6;
        let (pr, ph, lock, cnr) = if ext {
            (DF405, DF406, DF407, DF408)
        } else {
            (DF400, DF401, DF402, DF403)
        };
        if msm != 2 {
            for c in &mut cells {
                let (r, v) = pr.opt(i).map_err(&e)?;
                c.fine_pseudorange_m = v;
                i = r;
            }
        }
        if msm >= 2 {
            for c in &mut cells {
                let (r, v) = ph.opt(i).map_err(&e)?;
                c.fine_phaserange_m = v;
                i = r;
            }
            for c in &mut cells {
                let (r, v) = lock.raw(i).map_err(&e)?;
                c.lock_indicator = Some(v as u16);
                i = r;
            }
            for c in &mut cells {
                let (r, v) = DF420.raw(i).map_err(&e)?;
                c.half_cycle = Some(v == 1);
                i = r;
            }
        }
        if msm >= 4 {
            for c in &mut cells {
                let (r, v) = cnr.opt(i).map_err(&e)?;
                c.cnr_dbhz = v;
                i = r;
            }
        }
        if msm == 5 || msm == 7 {
            for c in &mut cells {
                let (r, v) = DF404.opt(i).map_err(&e)?;
                c.fine_rate_mps = v;
                i = r;
            }
        }
        let trailing = super::trailing_bytes(payload, i);
        Ok(header(sats, cells, trailing))
    }

    /// The cell mask implied by `sats`/`cells` and the signal mask.
    fn cell_mask(&self) -> (u64, u32) {
        let sig_ids = self.signal_ids();
        let nsig = sig_ids.len();
        let n = (self.sats.len() * nsig).min(64);
        let mut mask = 0u64;
        for c in &self.cells {
            if let Some(gi) = sig_ids.iter().position(|&s| s == c.signal) {
                let idx = c.sat as usize * nsig + gi;
                if idx < n {
                    mask |= 1 << (n - 1 - idx);
                }
            }
        }
        (mask, n as u32)
    }

    pub fn encode(&self) -> Vec<u8> {
        let msm = self.msm.clamp(1, 7);
        let mut w = BitWriter::with_capacity(32 + self.cells.len() * 10);
        DF002.put_raw(&mut w, self.number() as i64);
        DF003.put_raw(&mut w, self.station as i64);
        w.put(30, self.epoch_raw as u64);
        w.put_flag(self.multiple);
        w.put(3, self.iods as u64);
        w.put(7, self.reserved as u64);
        w.put(2, self.clock_steering as u64);
        w.put(2, self.external_clock as u64);
        w.put_flag(self.smoothing);
        w.put(3, self.smoothing_interval as u64);
        // The masks are derived from the content, so a struct built by hand stays consistent.
        let sat_mask = self
            .sats
            .iter()
            .filter(|s| (1..=64).contains(&s.id))
            .fold(0u64, |m, s| m | 1 << (64 - s.id as u32));
        w.put(64, sat_mask);
        w.put(32, self.sig_mask as u64);
        let (cell_mask, ncell_bits) = self.cell_mask();
        w.put(ncell_bits, cell_mask);
        if msm >= 4 {
            for s in &self.sats {
                DF397.put_opt(&mut w, s.rough_int_m);
            }
        }
        if msm == 5 || msm == 7 {
            for s in &self.sats {
                EXT_INFO.put_raw(&mut w, s.ext_info.unwrap_or(0) as i64);
            }
        }
        for s in &self.sats {
            DF398.put(&mut w, s.rough_mod_m);
        }
        if msm == 5 || msm == 7 {
            for s in &self.sats {
                DF399.put_opt(&mut w, s.rough_rate_mps);
            }
        }
        let ext = msm >= 6;
        let (pr, ph, lock, cnr) = if ext {
            (DF405, DF406, DF407, DF408)
        } else {
            (DF400, DF401, DF402, DF403)
        };
        if msm != 2 {
            for c in &self.cells {
                pr.put_opt(&mut w, c.fine_pseudorange_m);
            }
        }
        if msm >= 2 {
            for c in &self.cells {
                ph.put_opt(&mut w, c.fine_phaserange_m);
            }
            for c in &self.cells {
                lock.put_raw(&mut w, c.lock_indicator.unwrap_or(0) as i64);
            }
            for c in &self.cells {
                w.put_flag(c.half_cycle.unwrap_or(false));
            }
        }
        if msm >= 4 {
            for c in &self.cells {
                cnr.put_opt(&mut w, c.cnr_dbhz);
            }
        }
        if msm == 5 || msm == 7 {
            for c in &self.cells {
                DF404.put_opt(&mut w, c.fine_rate_mps);
            }
        }
        let mut out = w.finish();
        out.extend_from_slice(&self.trailing);
        out
    }
}

/// DF402: minimum lock time (ms) of a 4-bit indicator.
pub fn lock_time_ms(indicator: u8) -> u32 {
    match indicator {
        0 => 0,
        i => 1 << (i.min(15) + 4),
    }
}

/// The 4-bit indicator (DF402) for a lock time (ms): the largest whose minimum it reaches.
pub fn lock_indicator(ms: u32) -> u8 {
    (0..=15u8)
        .rev()
        .find(|&i| lock_time_ms(i) <= ms)
        .unwrap_or(0)
}

/// DF407: minimum lock time (ms) of a 10-bit indicator; `None` for reserved values (> 704).
pub fn lock_time_ext_ms(indicator: u16) -> Option<u64> {
    let i = indicator as u64;
    if i < 64 {
        return Some(i);
    }
    if i > 704 {
        return None;
    }
    // From 64 on, every block of 32 values doubles the step.
    let block = (i - 64) / 32; // 0..=20
    let step = 2u64 << block;
    let start_ms = 64u64 << block; // value at the start of the block
    Some(start_ms + (i - 64 - 32 * block) * step)
}

/// The 10-bit indicator (DF407) for a lock time (ms).
pub fn lock_indicator_ext(ms: u64) -> u16 {
    let mut lo = 0u16;
    let mut hi = 704u16;
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if lock_time_ext_ms(mid).is_some_and(|t| t <= ms) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// RINEX 3 observation code (band + attribute) of an MSM signal ID.
pub fn signal_code(sys: Gnss, id: u8) -> Option<&'static str> {
    let table: &[(u8, &str)] = match sys {
        Gnss::Gps => &[
            (2, "1C"),
            (3, "1P"),
            (4, "1W"),
            (8, "2C"),
            (9, "2P"),
            (10, "2W"),
            (15, "2S"),
            (16, "2L"),
            (17, "2X"),
            (22, "5I"),
            (23, "5Q"),
            (24, "5X"),
            (30, "1S"),
            (31, "1L"),
            (32, "1X"),
        ],
        Gnss::Glonass => &[(2, "1C"), (3, "1P"), (8, "2C"), (9, "2P")],
        Gnss::Galileo => &[
            (2, "1C"),
            (3, "1A"),
            (4, "1B"),
            (5, "1X"),
            (6, "1Z"),
            (8, "6C"),
            (9, "6A"),
            (10, "6B"),
            (11, "6X"),
            (12, "6Z"),
            (14, "7I"),
            (15, "7Q"),
            (16, "7X"),
            (18, "8I"),
            (19, "8Q"),
            (20, "8X"),
            (22, "5I"),
            (23, "5Q"),
            (24, "5X"),
        ],
        Gnss::Sbas => &[(2, "1C"), (22, "5I"), (23, "5Q"), (24, "5X")],
        Gnss::Qzss => &[
            (2, "1C"),
            (9, "6S"),
            (10, "6L"),
            (11, "6X"),
            (15, "2S"),
            (16, "2L"),
            (17, "2X"),
            (22, "5I"),
            (23, "5Q"),
            (24, "5X"),
            (30, "1S"),
            (31, "1L"),
            (32, "1X"),
        ],
        Gnss::Beidou => &[
            (2, "2I"),
            (3, "2Q"),
            (4, "2X"),
            (8, "6I"),
            (9, "6Q"),
            (10, "6X"),
            (14, "7I"),
            (15, "7Q"),
            (16, "7X"),
            (22, "5D"),
            (23, "5P"),
            (24, "5X"),
            (25, "7D"),
            (26, "7P"),
            (27, "7Z"),
            (30, "1D"),
            (31, "1P"),
            (32, "1X"),
        ],
        Gnss::Navic => &[(8, "9A"), (22, "5A")],
    };
    table.iter().find(|(i, _)| *i == id).map(|(_, c)| *c)
}

/// The MSM signal ID of a RINEX observation code.
pub fn signal_id(sys: Gnss, code: &str) -> Option<u8> {
    (1..=32).find(|&id| signal_code(sys, id) == Some(code))
}

/// The system's satellite number of an MSM satellite ID (QZSS: 193–; SBAS: 120–).
pub fn satellite_prn(sys: Gnss, id: u8) -> u8 {
    match sys {
        Gnss::Qzss => id.saturating_add(192),
        Gnss::Sbas => id.saturating_add(119),
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_time_tables() {
        assert_eq!(lock_time_ms(0), 0);
        assert_eq!(lock_time_ms(1), 32);
        assert_eq!(lock_time_ms(15), 524_288);
        assert_eq!(lock_indicator(100), 2);
        assert_eq!(lock_time_ext_ms(63), Some(63));
        assert_eq!(lock_time_ext_ms(64), Some(64));
        assert_eq!(lock_time_ext_ms(96), Some(128));
        assert_eq!(lock_time_ext_ms(704), Some(67_108_864));
        assert_eq!(lock_time_ext_ms(705), None);
        for i in 0..=704 {
            let ms = lock_time_ext_ms(i).unwrap();
            assert_eq!(lock_indicator_ext(ms), i);
        }
    }

    #[test]
    fn beidou_signal_table() {
        assert_eq!(signal_code(Gnss::Beidou, 2), Some("2I"));
        assert_eq!(signal_code(Gnss::Beidou, 26), Some("7P"));
        assert_eq!(signal_code(Gnss::Beidou, 32), Some("1X"));
        assert_eq!(signal_id(Gnss::Beidou, "6I"), Some(8));
    }
}
