//! Observation epochs as MSM messages, for a station whose receiver speaks another protocol
//! (u-blox RXM-RAWX): what it sends on is what an RTCM3 base would send.
//!
//! Every value is rounded to its field's step and kept inside the field's range (the encoders
//! truncate to the field width, so a value out of range would wrap into a wrong one). What a
//! field cannot carry is sent as invalid: a pseudorange more than 2^-10 ms (≈ 293 m) from the
//! satellite's rough range, a satellite whose range is not below 255 ms, a signal with no RTCM
//! signal ID.
//!
//! The phase range may sit at most 2^-8 ms (≈ 1171 m) from the rough range. A receiver whose
//! carrier phase starts near its pseudorange (u-blox does) needs nothing more. Otherwise, or
//! when code–carrier divergence drives it out, [`MsmEncoder`] removes a whole number of cycles
//! from that carrier and keeps the number for as long as the lock lasts; a new number restarts
//! the carrier's lock time, which is what a rover must see when the phase jumps.

use std::collections::HashMap;

use super::msm::{Msm, MsmCell, MsmSat, lock_indicator, lock_indicator_ext, msm_base, signal_id};
use crate::gnss::Gnss;
use crate::gnss::obs::{Epoch, SatObs, SignalCode, SignalObs};
use crate::gnss::orbit::C;
use crate::gnss::time::{Gpst, SECONDS_PER_WEEK};
use crate::messages::bits::p2;

/// Metres per light-millisecond.
const LMS: f64 = 299_792.458;
/// Cells per message: a larger cell mask (nsat × nsig) is not allowed.
pub const MAX_CELLS: usize = 64;
/// DF405 (MSM6/7 fine pseudorange) step and largest raw magnitude.
pub const MSM7_PR_STEP_M: f64 = LMS * p2(-29);
const MSM7_PR_MAX_RAW: f64 = ((1 << 19) - 1) as f64;
/// DF406 (MSM6/7 fine phase range) step and largest raw magnitude.
pub const MSM7_PHASE_STEP_M: f64 = LMS * p2(-31);
const MSM7_PHASE_MAX_RAW: f64 = ((1 << 23) - 1) as f64;
/// DF404 (fine phase-range rate) step and largest raw magnitude.
pub const MSM7_RATE_STEP_MPS: f64 = 0.0001;
const MSM7_RATE_MAX_RAW: f64 = ((1 << 14) - 1) as f64;
/// DF399 (rough phase-range rate) largest magnitude (m/s).
const ROUGH_RATE_MAX: f64 = 8191.0;
/// DF408 (extended CNR) step.
pub const MSM7_CNR_STEP_DBHZ: f64 = 1.0 / 16.0;
/// DF397: integer milliseconds of the rough range, 255 meaning invalid.
const ROUGH_INT_MAX_MS: f64 = 254.0;

/// The MSM epoch-time field of system `sys` at GPS time `t`: ms of the GPS (Galileo, QZSS …)
/// or BeiDou week, for GLONASS the day of week and ms of the Moscow day.
pub fn msm_epoch_field(sys: Gnss, t: Gpst) -> u32 {
    let week_ms = SECONDS_PER_WEEK as u32 * 1000;
    match sys {
        Gnss::Glonass => {
            let (day, tod) = t.glonass_day_tod();
            ((day as u32 & 7) << 27) | ((tod * 1000.0).round() as u32 % 86_400_000)
        }
        Gnss::Beidou => {
            let (_, sow) = t.bdt();
            (sow * 1000.0).round() as u32 % week_ms
        }
        _ => (t.tow() * 1000.0).round() as u32 % week_ms,
    }
}

/// The MSM satellite ID of a satellite (1–64), if it has one.
fn msm_sat_id(sys: Gnss, prn: u8) -> Option<u8> {
    let id = match sys {
        Gnss::Qzss => prn.checked_sub(192)?,
        Gnss::Sbas => prn.checked_sub(119)?,
        _ => prn,
    };
    (1..=64).contains(&id).then_some(id)
}

/// A value as a whole number of `step`s if within ±`max_raw` of them, in units of the value.
fn fit(v: f64, step: f64, max_raw: f64) -> Option<f64> {
    let raw = (v / step).round();
    (v.is_finite() && raw.abs() <= max_raw).then_some(raw * step)
}

/// The cycles removed from one carrier, and since when (its lock time restarts there).
#[derive(Clone, Copy, Debug)]
struct Carrier {
    removed_cycles: f64,
    since: Option<Gpst>,
}

/// What the encoder left out, for counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MsmEncodeStats {
    /// Signals with no RTCM signal ID in their system (or satellites with no MSM ID).
    pub no_signal_id: u64,
    /// Satellites whose range does not fit the rough-range field.
    pub out_of_range: u64,
    /// Carriers given a new whole number of cycles (their lock restarted).
    pub phase_shifts: u64,
}

/// Turns one receiver's epochs into MSM messages (see the module documentation).
#[derive(Debug, Default)]
pub struct MsmEncoder {
    station: u16,
    carriers: HashMap<(Gnss, u8, SignalCode), Carrier>,
    pub stats: MsmEncodeStats,
}

/// One signal ready for a cell.
struct Cell<'a> {
    id: u8,
    obs: &'a SignalObs,
}

impl MsmEncoder {
    pub fn new(station: u16) -> Self {
        MsmEncoder {
            station,
            ..Default::default()
        }
    }

    /// The MSM`kind` (4–7) messages of one epoch, every system in `epoch`'s order, each split so
    /// that no message has more than [`MAX_CELLS`] cells; the multiple-message bit is set on
    /// all but the last.
    pub fn encode(&mut self, epoch: &Epoch, kind: u8) -> Vec<Msm> {
        let kind = kind.clamp(4, 7);
        let mut systems: Vec<Gnss> = Vec::new();
        for s in &epoch.sats {
            if !systems.contains(&s.sys) {
                systems.push(s.sys);
            }
        }
        let mut out = Vec::new();
        for sys in systems {
            let mut sats: Vec<(u8, &SatObs, Vec<Cell>)> = Vec::new();
            for s in epoch.sats.iter().filter(|s| s.sys == sys) {
                let Some(id) = msm_sat_id(sys, s.prn) else {
                    self.stats.no_signal_id += s.signals.len() as u64;
                    continue;
                };
                let mut cells: Vec<Cell> = Vec::new();
                for obs in &s.signals {
                    match signal_id(sys, obs.code.as_str()) {
                        Some(sid) if !cells.iter().any(|c| c.id == sid) => {
                            cells.push(Cell { id: sid, obs })
                        }
                        Some(_) => {}
                        None => self.stats.no_signal_id += 1,
                    }
                }
                if !cells.is_empty() {
                    cells.sort_by_key(|c| c.id);
                    sats.push((id, s, cells));
                }
            }
            sats.sort_by_key(|(id, _, _)| *id);
            for group in split(&sats) {
                if let Some(m) = self.message(sys, kind, epoch.time, group) {
                    out.push(m);
                }
            }
        }
        let n = out.len();
        for (i, m) in out.iter_mut().enumerate() {
            m.multiple = i + 1 < n;
        }
        out
    }

    fn message(
        &mut self,
        sys: Gnss,
        kind: u8,
        t: Gpst,
        group: &[(u8, &SatObs, Vec<Cell>)],
    ) -> Option<Msm> {
        let full = kind == 5 || kind == 7;
        let ext = kind >= 6;
        let mut sats = Vec::new();
        let mut cells = Vec::new();
        for (id, s, sigs) in group {
            let lambda = |o: &SignalObs| o.freq_hz.filter(|f| *f > 0.0).map(|f| C / f);
            let range = sigs.iter().find_map(|c| c.obs.pseudorange_m).or_else(|| {
                sigs.iter()
                    .find_map(|c| Some(c.obs.phase_cycles? * lambda(c.obs)?))
            });
            let Some(range) = range.filter(|r| r.is_finite() && *r > 0.0) else {
                continue;
            };
            let rough_ms = (range / LMS * 1024.0).round() / 1024.0;
            let int_ms = rough_ms.floor();
            if int_ms > ROUGH_INT_MAX_MS {
                self.stats.out_of_range += 1;
                continue;
            }
            let rough_m = rough_ms * LMS;
            let rate = |o: &SignalObs| Some(-o.doppler_hz? * lambda(o)?);
            let rough_rate = sigs
                .iter()
                .find_map(|c| rate(c.obs))
                .map(f64::round)
                .filter(|r| r.abs() <= ROUGH_RATE_MAX);
            let index = sats.len() as u8;
            sats.push(MsmSat {
                id: *id,
                rough_int_m: Some(int_ms * LMS),
                ext_info: full.then(|| glonass_ext(s)),
                rough_mod_m: (rough_ms - int_ms) * LMS,
                rough_rate_mps: if full { rough_rate } else { None },
            });
            for c in sigs {
                let o = c.obs;
                let (pr_step, pr_max, ph_step, ph_max) = if ext {
                    (
                        MSM7_PR_STEP_M,
                        MSM7_PR_MAX_RAW,
                        MSM7_PHASE_STEP_M,
                        MSM7_PHASE_MAX_RAW,
                    )
                } else {
                    (
                        LMS * p2(-24),
                        ((1 << 14) - 1) as f64,
                        LMS * p2(-29),
                        ((1 << 21) - 1) as f64,
                    )
                };
                let pr = o
                    .pseudorange_m
                    .and_then(|p| fit(p - rough_m, pr_step, pr_max));
                let (phase, lock_s) = match (o.phase_cycles, lambda(o)) {
                    (Some(cy), Some(l)) => {
                        self.phase(s.sys, s.prn, o, t, cy, l, rough_m, ph_step, ph_max)
                    }
                    _ => (None, None),
                };
                let lock_ms = (lock_s.unwrap_or(0.0) * 1000.0).max(0.0) as u64;
                cells.push(MsmCell {
                    sat: index,
                    signal: c.id,
                    fine_pseudorange_m: pr,
                    fine_phaserange_m: phase,
                    lock_indicator: Some(if ext {
                        lock_indicator_ext(lock_ms)
                    } else {
                        u16::from(lock_indicator(lock_ms.min(u64::from(u32::MAX)) as u32))
                    }),
                    half_cycle: Some(o.half_cycle),
                    cnr_dbhz: o.cn0_dbhz.filter(|v| v.is_finite()).map(|v| {
                        if ext {
                            ((v / MSM7_CNR_STEP_DBHZ).round() * MSM7_CNR_STEP_DBHZ)
                                .clamp(MSM7_CNR_STEP_DBHZ, 1023.0 * MSM7_CNR_STEP_DBHZ)
                        } else {
                            v.round().clamp(1.0, 63.0)
                        }
                    }),
                    fine_rate_mps: if full {
                        rate(o)
                            .zip(rough_rate)
                            .and_then(|(r, rr)| fit(r - rr, MSM7_RATE_STEP_MPS, MSM7_RATE_MAX_RAW))
                    } else {
                        None
                    },
                });
            }
        }
        if sats.is_empty() {
            return None;
        }
        let mut ids: Vec<u8> = cells.iter().map(|c| c.signal).collect();
        ids.sort_unstable();
        ids.dedup();
        Some(Msm {
            system: sys,
            msm: kind,
            station: self.station,
            epoch_raw: msm_epoch_field(sys, t),
            multiple: true,
            iods: 0,
            reserved: 0,
            // DF411: the receiver's clock steering is not known from its measurements.
            clock_steering: 2,
            external_clock: 0,
            smoothing: false,
            smoothing_interval: 0,
            sat_mask: sats.iter().fold(0, |m, s| m | 1 << (64 - u32::from(s.id))),
            sig_mask: ids.iter().fold(0, |m, id| m | 1 << (32 - u32::from(*id))),
            sats,
            cells,
            trailing: Vec::new(),
        })
    }

    /// The fine phase range of one carrier and the lock time to send with it.
    #[allow(clippy::too_many_arguments)]
    fn phase(
        &mut self,
        sys: Gnss,
        prn: u8,
        o: &SignalObs,
        t: Gpst,
        cycles: f64,
        lambda: f64,
        rough_m: f64,
        step: f64,
        max_raw: f64,
    ) -> (Option<f64>, Option<f64>) {
        let key = (sys, prn, o.code);
        let mut c = match self.carriers.get(&key) {
            Some(c) if !o.slip => *c,
            _ => Carrier {
                removed_cycles: 0.0,
                since: None,
            },
        };
        let mut fine = fit(
            (cycles - c.removed_cycles) * lambda - rough_m,
            step,
            max_raw,
        );
        if fine.is_none() {
            // Start near the rough range again, on a whole number of cycles.
            c = Carrier {
                removed_cycles: ((cycles * lambda - rough_m) / lambda).round(),
                since: Some(t),
            };
            self.stats.phase_shifts += 1;
            fine = fit(
                (cycles - c.removed_cycles) * lambda - rough_m,
                step,
                max_raw,
            );
        }
        self.carriers.insert(key, c);
        let lock = match c.since {
            Some(since) => Some(o.lock_s.unwrap_or(f64::MAX).min(t.diff(since))),
            None => o.lock_s,
        };
        (fine, lock)
    }

    /// Forget carriers not seen for a while is not needed: a carrier's entry is replaced at its
    /// next lock restart. A new stream (time going back) starts afresh.
    pub fn reset(&mut self) {
        self.carriers.clear();
    }
}

/// Satellites in groups of at most [`MAX_CELLS`] cells (satellites × distinct signals).
fn split<'a, 'b>(
    sats: &'b [(u8, &'a SatObs, Vec<Cell<'a>>)],
) -> Vec<&'b [(u8, &'a SatObs, Vec<Cell<'a>>)]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut ids: Vec<u8> = Vec::new();
    for (i, (_, _, cells)) in sats.iter().enumerate() {
        let mut with = ids.clone();
        with.extend(cells.iter().map(|c| c.id));
        with.sort_unstable();
        with.dedup();
        if (i + 1 - start) * with.len() > MAX_CELLS && i > start {
            out.push(&sats[start..i]);
            start = i;
            ids = cells.iter().map(|c| c.id).collect();
            ids.sort_unstable();
            ids.dedup();
        } else {
            ids = with;
        }
    }
    if start < sats.len() {
        out.push(&sats[start..]);
    }
    out
}

/// MSM5/7 extended satellite information: for GLONASS the frequency channel + 7 (from the
/// carrier frequency of a G1 or G2 signal), 0 for the other systems.
fn glonass_ext(s: &SatObs) -> u8 {
    if s.sys != Gnss::Glonass {
        return 0;
    }
    s.signals
        .iter()
        .find_map(|o| {
            let f = o.freq_hz?;
            let ch = match o.code.band() {
                1 => (f - 1_602e6) / 0.5625e6,
                2 => (f - 1_246e6) / 0.4375e6,
                _ => return None,
            };
            Some((ch.round() as i64 + 7).clamp(0, 13) as u8)
        })
        // 15: no channel known (the field's values 14 and 15 are not channels).
        .unwrap_or(15)
}

/// The MSM number of a system and kind.
pub fn msm_number(sys: Gnss, kind: u8) -> u16 {
    msm_base(sys) + u16::from(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(code: &str, f: f64, pr: f64, cycles_off: f64) -> SignalObs {
        SignalObs {
            code: SignalCode::new(code).unwrap(),
            freq_hz: Some(f),
            pseudorange_m: Some(pr),
            phase_cycles: Some(pr * f / C + cycles_off),
            // One range rate (−235.4321 m/s) seen on every carrier.
            doppler_hz: Some(235.4321 * f / C),
            cn0_dbhz: Some(43.0),
            lock_s: Some(12.5),
            slip: false,
            half_cycle: false,
        }
    }

    fn epoch(t: Gpst, off: f64) -> Epoch {
        let sats = (1..=22)
            .map(|prn| SatObs {
                sys: Gnss::Gps,
                prn,
                signals: vec![
                    signal("1C", 1_575.42e6, 2.1e7 + f64::from(prn) * 1000.0, off),
                    signal("2L", 1_227.6e6, 2.1e7 + f64::from(prn) * 1000.0 + 3.0, off),
                    signal("5Q", 1_176.45e6, 2.1e7 + f64::from(prn) * 1000.0 + 5.0, off),
                ],
            })
            .collect();
        Epoch { time: t, sats }
    }

    /// Encoded, decoded back: every value within its field's step.
    #[test]
    fn msm7_round_trip_within_the_steps() {
        let t = Gpst::from_week_tow(2300, 100_000.0);
        let e = epoch(t, 0.3);
        let mut enc = MsmEncoder::new(7);
        let msgs = enc.encode(&e, 7);
        // 22 satellites × 3 signals: 21 in the first message (63 cells), 1 in the second.
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].sats.len(), 21);
        assert!(msgs[0].multiple && !msgs[1].multiple);
        let mut seen = 0;
        for m in &msgs {
            let back = super::super::msm::Msm::decode(&m.encode()).unwrap();
            assert_eq!(back.cells.len(), m.cells.len());
            for s in back.observations() {
                let orig = e.sats.iter().find(|o| o.prn == s.prn).unwrap();
                for o in &s.signals {
                    let a = orig.signal(o.code).unwrap();
                    let lambda = C / a.freq_hz.unwrap();
                    assert!(
                        (o.pseudorange_m.unwrap() - a.pseudorange_m.unwrap()).abs()
                            <= MSM7_PR_STEP_M
                    );
                    let dphi = (o.phase_cycles.unwrap() - a.phase_cycles.unwrap()) * lambda;
                    assert!(dphi.abs() <= MSM7_PHASE_STEP_M, "{dphi}");
                    let drate = (o.doppler_hz.unwrap() - a.doppler_hz.unwrap()) * lambda;
                    assert!(drate.abs() <= MSM7_RATE_STEP_MPS, "{drate}");
                    assert_eq!(o.cn0_dbhz, Some(43.0));
                    assert!(o.lock_s.unwrap() <= 12.5 && o.lock_s.unwrap() > 12.0);
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 66);
        assert_eq!(enc.stats, MsmEncodeStats::default());
    }

    /// A carrier far from the code gets whole cycles removed once and its lock restarts.
    #[test]
    fn far_phase_is_shifted_by_whole_cycles_and_restarts_the_lock() {
        let t = Gpst::from_week_tow(2300, 100_000.0);
        let mut enc = MsmEncoder::new(0);
        let m = enc.encode(&epoch(t, 1e7), 7);
        let back = super::super::msm::Msm::decode(&m[0].encode()).unwrap();
        let o = &back.observations()[0].signals[0];
        let a = &epoch(t, 1e7).sats[0].signals[0];
        let removed = a.phase_cycles.unwrap() - o.phase_cycles.unwrap();
        assert!((removed - removed.round()).abs() < 1e-3, "{removed}");
        assert_eq!(o.lock_s, Some(0.0));
        assert_eq!(enc.stats.phase_shifts, 66);
        // One second on, the same number of cycles, the lock grows from the shift.
        let m = enc.encode(&epoch(t.add(1.0), 1e7), 7);
        let back = super::super::msm::Msm::decode(&m[0].encode()).unwrap();
        let o = &back.observations()[0].signals[0];
        assert!((o.lock_s.unwrap() - 1.0).abs() < 0.01);
        assert_eq!(enc.stats.phase_shifts, 66);
    }

    #[test]
    fn msm4_fields_are_coarser() {
        let t = Gpst::from_week_tow(2300, 100_000.0);
        let e = epoch(t, 0.3);
        let msgs = MsmEncoder::new(1).encode(&e, 4);
        assert_eq!(msgs[0].number(), 1074);
        let back = super::super::msm::Msm::decode(&msgs[0].encode()).unwrap();
        let o = &back.observations()[0].signals[0];
        let a = &e.sats[0].signals[0];
        assert!((o.pseudorange_m.unwrap() - a.pseudorange_m.unwrap()).abs() <= LMS * p2(-24));
        assert_eq!(o.doppler_hz, None);
    }

    #[test]
    fn epoch_fields() {
        let t = Gpst::from_week_tow(2300, 100_000.0);
        assert_eq!(msm_epoch_field(Gnss::Gps, t), 100_000_000);
        assert_eq!(msm_epoch_field(Gnss::Beidou, t), 99_986_000);
        assert_eq!(msm_number(Gnss::Galileo, 7), 1097);
    }
}
