//! MSM conversions for receivers that do not read what the station sends: MSM5–7 → MSM4 of the
//! same system, and MSM4–7 → legacy 1004 (GPS L1/L2) and 1012 (GLONASS G1/G2).
//!
//! Every value is rounded to the step of the coarser field and kept inside that field's range
//! (the encoders truncate to the field width, so an out-of-range value would wrap into a wrong
//! one). What the coarser message cannot carry is dropped: extended satellite information and
//! phase-range rates for MSM4; every signal but one per band for the legacy messages.
//!
//! Legacy phase is sent as "phase range − L1 pseudorange" in a ±262 m field, whereas an MSM
//! phase range may sit anywhere within ±1171 m of the rough range. [`LegacyEncoder`] therefore
//! removes a whole number of cycles from each carrier when its lock starts (so the field starts
//! near zero, as legacy receivers do) and keeps that number for as long as the lock lasts; when
//! code–carrier divergence drives the difference out of the field, it picks a new number and
//! restarts that carrier's lock time, which is what a rover must see when the phase jumps.

use std::collections::{BTreeMap, HashMap};

use crate::gnss::Gnss;
use crate::gnss::signal::carrier_hz;
use crate::messages::bits::p2;
use crate::messages::rtcm3::legacy::{GloObs, GpsObs, LegacySat};
use crate::messages::rtcm3::msm::{
    Msm, MsmCell, lock_indicator, lock_time_ext_ms, lock_time_ms, signal_code,
};

/// Metres per light-millisecond: the GPS 1004 pseudorange modulus.
pub const LMS: f64 = 299_792.458;
/// GLONASS 1012 pseudorange modulus: two light-milliseconds.
pub const GLO_MODULUS_M: f64 = 599_584.916;

/// MSM4 fine pseudorange (DF400) step: 2^-24 ms.
pub const MSM4_PR_STEP_M: f64 = LMS * p2(-24);
/// MSM4 fine phase range (DF401) step: 2^-29 ms.
pub const MSM4_PHASE_STEP_M: f64 = LMS * p2(-29);
/// MSM4 CNR (DF403) step.
pub const MSM4_CNR_STEP_DBHZ: f64 = 1.0;
/// Legacy pseudorange (DF011/DF041) and L2−L1 pseudorange (DF017/DF047) step.
pub const LEGACY_PR_STEP_M: f64 = 0.02;
/// Legacy phase range − pseudorange (DF012/DF018/DF042/DF048) step.
pub const LEGACY_PHASE_STEP_M: f64 = 0.0005;
/// Legacy CNR (DF015/DF020/DF045/DF050) step.
pub const LEGACY_CNR_STEP_DBHZ: f64 = 0.25;

/// Largest magnitude of the legacy phase − pseudorange field (20 bits signed, 0x80000 invalid).
const LEGACY_PHASE_MAX_RAW: i64 = 0x7FFFF;
/// Largest magnitude of the legacy L2 − L1 pseudorange field (14 bits signed, 0x2000 invalid).
const LEGACY_L2_MAX_RAW: i64 = 0x1FFF;
/// Satellites per legacy message (DF006 and DF035 are 5 bits).
pub const LEGACY_MAX_SATS: usize = 31;

/// `v` as a whole number of `step`s, clamped to ±`max_raw`, back in units of `v`.
fn quantise(v: f64, step: f64, max_raw: i64) -> f64 {
    let raw = ((v / step).round() as i64).clamp(-max_raw, max_raw);
    raw as f64 * step
}

/// An MSM5, MSM6 or MSM7 as MSM4 of the same system and epoch; `None` for MSM1–4 (MSM1–3 carry
/// no integer milliseconds or CNR, MSM4 is already one).
pub fn to_msm4(m: &Msm) -> Option<Msm> {
    if !(5..=7).contains(&m.msm) {
        return None;
    }
    let cells = m
        .cells
        .iter()
        .map(|c| {
            // DF400/DF401 span the same ±2^-10 / ±2^-8 ms as DF405/DF406; only the step grows.
            let pr = c
                .fine_pseudorange_m
                .map(|v| quantise(v, MSM4_PR_STEP_M, (1 << 14) - 1));
            let ph = c
                .fine_phaserange_m
                .map(|v| quantise(v, MSM4_PHASE_STEP_M, (1 << 21) - 1));
            let lock = c.lock_indicator.map(|i| {
                let ms = if m.msm >= 6 {
                    lock_time_ext_ms(i).unwrap_or(0)
                } else {
                    lock_time_ms(i as u8) as u64
                };
                lock_indicator(ms.min(u32::MAX as u64) as u32) as u16
            });
            // DF403 is 1–63 dB-Hz with 0 meaning "not computed": a measured value stays one.
            let cnr = c.cnr_dbhz.map(|v| v.round().clamp(1.0, 63.0));
            MsmCell {
                sat: c.sat,
                signal: c.signal,
                fine_pseudorange_m: pr,
                fine_phaserange_m: ph,
                lock_indicator: lock,
                half_cycle: c.half_cycle,
                cnr_dbhz: cnr,
                fine_rate_mps: None,
            }
        })
        .collect();
    let sats = m
        .sats
        .iter()
        .map(|s| crate::messages::rtcm3::msm::MsmSat {
            ext_info: None,
            rough_rate_mps: None,
            ..*s
        })
        .collect();
    Some(Msm {
        msm: 4,
        sats,
        cells,
        trailing: Vec::new(),
        ..m.clone()
    })
}

/// DF013/DF019/DF043/DF049: the 7-bit legacy lock-time indicator for a lock time (s), the
/// largest whose minimum lock time the given one reaches.
pub fn legacy_lock_indicator(lock_s: f64) -> u8 {
    let t = if lock_s.is_finite() && lock_s > 0.0 {
        lock_s.floor() as i64
    } else {
        0
    };
    let i = match t {
        ..24 => t,
        24..72 => (t + 24) / 2,
        72..168 => (t + 120) / 4,
        168..360 => (t + 408) / 8,
        360..744 => (t + 1176) / 16,
        744..937 => (t + 3096) / 32,
        _ => 127,
    };
    i as u8
}

/// The minimum lock time (s) of a legacy indicator.
pub fn legacy_lock_time_s(i: u8) -> u32 {
    let i = i as u32;
    match i {
        0..24 => i,
        24..48 => 2 * i - 24,
        48..72 => 4 * i - 120,
        72..96 => 8 * i - 408,
        96..120 => 16 * i - 1176,
        120..127 => 32 * i - 3096,
        _ => 937,
    }
}

/// Which MSM signal feeds each legacy band, best first, with the code indicator it gets.
struct BandChoice {
    /// (signal ID, code indicator)
    l1: &'static [(u8, u8)],
    l2: &'static [(u8, u8)],
}

/// GPS: L1 C/A (DF010 0), else P(Y) (1); L2 semi-codeless P(Y) (DF016 3 "correlated P/Y", what
/// legacy dual-frequency rovers track), P(Y) direct (1), else L2C (0).
const GPS_BANDS: BandChoice = BandChoice {
    l1: &[(2, 0), (3, 1), (4, 1)],
    l2: &[(10, 3), (9, 1), (17, 0), (16, 0), (15, 0), (8, 0)],
};
/// GLONASS: G1 C/A (DF039 0), else P (1); G2 P (DF046 1, what older receivers track), else C/A.
const GLO_BANDS: BandChoice = BandChoice {
    l1: &[(2, 0), (3, 1)],
    l2: &[(9, 1), (8, 0)],
};

/// A carrier's removed whole cycles and when its lock (as sent) started.
#[derive(Clone, Copy, Debug)]
struct Anchor {
    cycles: f64,
    /// Data time (s) at which the current anchor was set.
    since_s: f64,
    /// The MSM lock time (s) last seen, to tell a slip (it went down).
    msm_lock_s: f64,
    /// The anchor was moved without a slip: report the time since then, not the MSM lock.
    moved: bool,
}

/// One signal of one satellite, as the legacy encoder needs it.
#[derive(Clone, Copy, Debug)]
struct Sig {
    code_ind: u8,
    pr_m: Option<f64>,
    phase_m: Option<f64>,
    lock_s: f64,
    cnr: Option<f64>,
    freq_hz: Option<f64>,
}

/// Per satellite: the L1 and L2 signal and the GLONASS channel.
type Picked = BTreeMap<u8, (Option<Sig>, Option<Sig>, Option<i8>)>;

/// Counters of what could not be converted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegacyStats {
    /// GLONASS satellites left out for want of a frequency channel (no 1020, MSM4/6).
    pub no_glonass_channel: u64,
    /// Satellites left out for want of an L1 pseudorange.
    pub no_l1: u64,
    /// Carriers whose removed cycles had to change without a slip (lock restarted).
    pub phase_rewinds: u64,
}

/// Builds 1004/1012 from the MSMs of an epoch and keeps each carrier's state across epochs.
#[derive(Debug, Default)]
pub struct LegacyEncoder {
    anchors: HashMap<(Gnss, u8, u8), Anchor>,
    pub stats: LegacyStats,
}

impl LegacyEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The signals of each satellite of `msms` (one system, one epoch), chosen per band.
    fn pick(
        &mut self,
        msms: &[&Msm],
        bands: &BandChoice,
        channel_of: &dyn Fn(u8) -> Option<i8>,
    ) -> Picked {
        let mut out = Picked::new();
        // (rank, sig) per satellite and band, lowest rank wins.
        let mut best: HashMap<(u8, u8), usize> = HashMap::new();
        for m in msms {
            for c in &m.cells {
                let Some(sat) = m.sats.get(c.sat as usize) else {
                    continue;
                };
                let channel = sat
                    .ext_info
                    .filter(|&e| e <= 13)
                    .map(|e| e as i8 - 7)
                    .or_else(|| channel_of(sat.id));
                for (band, table) in [(1u8, bands.l1), (2u8, bands.l2)] {
                    let Some(rank) = table.iter().position(|(id, _)| *id == c.signal) else {
                        continue;
                    };
                    if best.get(&(sat.id, band)).is_some_and(|&r| r <= rank) {
                        continue;
                    }
                    best.insert((sat.id, band), rank);
                    let f = signal_code(m.system, c.signal)
                        .and_then(|code| carrier_hz(m.system, code.as_bytes()[0], channel));
                    let s = Sig {
                        code_ind: table[rank].1,
                        pr_m: m.pseudorange_m(c),
                        phase_m: m.phaserange_m(c),
                        lock_s: m.lock_time_s(c).unwrap_or(0.0),
                        cnr: c.cnr_dbhz,
                        freq_hz: f,
                    };
                    let e = out.entry(sat.id).or_insert((None, None, None));
                    if band == 1 {
                        e.0 = Some(s);
                    } else {
                        e.1 = Some(s);
                    }
                    if channel.is_some() {
                        e.2 = channel;
                    }
                }
            }
        }
        out
    }

    /// Phase − L1 pseudorange for a carrier, with the whole cycles removed, and its lock
    /// indicator; `(None, 0)` when the carrier has no phase or frequency.
    fn phase_field(
        &mut self,
        key: (Gnss, u8, u8),
        sig: &Sig,
        pr1: f64,
        t_s: f64,
    ) -> (Option<f64>, u8) {
        let (Some(phase), Some(f)) = (sig.phase_m, sig.freq_hz) else {
            self.anchors.remove(&key);
            return (None, 0);
        };
        let lambda = crate::gnss::orbit::C / f;
        let limit = LEGACY_PHASE_MAX_RAW as f64 * LEGACY_PHASE_STEP_M;
        let fresh = |t_s: f64, moved: bool| Anchor {
            cycles: ((phase - pr1) / lambda).round(),
            since_s: t_s,
            msm_lock_s: sig.lock_s,
            moved,
        };
        let mut a = match self.anchors.get(&key) {
            // A lock time that went down (or a gap longer than it) is a new lock: new cycles.
            Some(a) if sig.lock_s >= a.msm_lock_s && t_s - a.since_s >= 0.0 => *a,
            _ => fresh(t_s, false),
        };
        let mut diff = phase - a.cycles * lambda - pr1;
        if diff.abs() > limit {
            self.stats.phase_rewinds += 1;
            a = fresh(t_s, true);
            diff = phase - a.cycles * lambda - pr1;
        }
        a.msm_lock_s = sig.lock_s;
        self.anchors.insert(key, a);
        let lock_s = if a.moved {
            sig.lock_s.min(t_s - a.since_s)
        } else {
            sig.lock_s
        };
        (
            Some(quantise(diff, LEGACY_PHASE_STEP_M, LEGACY_PHASE_MAX_RAW)),
            legacy_lock_indicator(lock_s),
        )
    }

    /// Legacy satellites of one system's MSMs of one epoch at data time `t_s` (s).
    fn sats(
        &mut self,
        sys: Gnss,
        msms: &[&Msm],
        channel_of: &dyn Fn(u8) -> Option<i8>,
        t_s: f64,
    ) -> Vec<LegacySat> {
        let (bands, modulus) = match sys {
            Gnss::Glonass => (&GLO_BANDS, GLO_MODULUS_M),
            _ => (&GPS_BANDS, LMS),
        };
        let picked = self.pick(msms, bands, channel_of);
        let mut out = Vec::new();
        for (id, (l1, l2, channel)) in picked {
            let Some(l1) = l1 else {
                continue;
            };
            let Some(pr1) = l1.pr_m else {
                self.stats.no_l1 += 1;
                continue;
            };
            if sys == Gnss::Glonass && channel.is_none() {
                self.stats.no_glonass_channel += 1;
                continue;
            }
            // Integer moduli and the remainder in 0.02 m steps; a remainder that rounds up to
            // the modulus carries into the integer part.
            let mut amb = (pr1 / modulus).floor();
            let mut rem = ((pr1 - amb * modulus) / LEGACY_PR_STEP_M).round() * LEGACY_PR_STEP_M;
            if rem >= modulus - LEGACY_PR_STEP_M / 2.0 {
                amb += 1.0;
                rem = 0.0;
            }
            // Differences are taken from the L1 pseudorange as sent, so that what a rover adds
            // back is the measured value to within one step of the field itself.
            let pr1_sent = amb * modulus + rem;
            let (ph1, lock1) = self.phase_field((sys, id, 1), &l1, pr1_sent, t_s);
            let mut s = LegacySat {
                sat: id,
                channel_plus_7: channel.map(|c| (c + 7) as u8),
                l1_code: l1.code_ind,
                l1_pseudorange_m: rem,
                l1_phase_minus_pr_m: ph1,
                l1_lock: lock1,
                l1_ambiguity_m: Some(amb * modulus),
                l1_cnr_dbhz: l1.cnr.map(|c| {
                    (c / LEGACY_CNR_STEP_DBHZ).round().clamp(1.0, 255.0) * LEGACY_CNR_STEP_DBHZ
                }),
                l2_code: Some(0),
                l2_minus_l1_pr_m: None,
                l2_phase_minus_l1_pr_m: None,
                l2_lock: Some(0),
                l2_cnr_dbhz: None,
            };
            if let Some(l2) = l2 {
                s.l2_code = Some(l2.code_ind);
                s.l2_minus_l1_pr_m = l2.pr_m.map(|p| p - pr1_sent).and_then(|d| {
                    let raw = (d / LEGACY_PR_STEP_M).round() as i64;
                    (raw.abs() <= LEGACY_L2_MAX_RAW).then_some(raw as f64 * LEGACY_PR_STEP_M)
                });
                let (ph2, lock2) = self.phase_field((sys, id, 2), &l2, pr1_sent, t_s);
                s.l2_phase_minus_l1_pr_m = ph2;
                s.l2_lock = Some(lock2);
                s.l2_cnr_dbhz = l2.cnr.map(|c| {
                    (c / LEGACY_CNR_STEP_DBHZ).round().clamp(1.0, 255.0) * LEGACY_CNR_STEP_DBHZ
                });
            } else {
                self.anchors.remove(&(sys, id, 2));
            }
            out.push(s);
        }
        out
    }

    /// 1004 messages (more than 31 satellites make more than one) from the GPS MSMs of one
    /// epoch. The synchronous flag is left clear: the caller knows what follows.
    pub fn gps(&mut self, msms: &[&Msm], t_s: f64) -> Vec<GpsObs> {
        let Some(first) = msms.first() else {
            return Vec::new();
        };
        let sats = self.sats(Gnss::Gps, msms, &|_| None, t_s);
        sats.chunks(LEGACY_MAX_SATS)
            .map(|chunk| GpsObs {
                number: 1004,
                station: first.station,
                tow_ms: first.epoch_raw,
                synchronous: false,
                smoothing: first.smoothing,
                smoothing_interval: first.smoothing_interval,
                sats: chunk.to_vec(),
            })
            .collect()
    }

    /// 1012 messages from the GLONASS MSMs of one epoch; channels the MSMs lack (MSM4/6) come
    /// from `channel_of(slot)` (the 1020 ephemerides).
    pub fn glonass(
        &mut self,
        msms: &[&Msm],
        channel_of: &dyn Fn(u8) -> Option<i8>,
        t_s: f64,
    ) -> Vec<GloObs> {
        let Some(first) = msms.first() else {
            return Vec::new();
        };
        let Some((_, tod)) = first.glonass_day_tod_ms() else {
            return Vec::new();
        };
        let sats = self.sats(Gnss::Glonass, msms, channel_of, t_s);
        sats.chunks(LEGACY_MAX_SATS)
            .map(|chunk| GloObs {
                number: 1012,
                station: first.station,
                tod_ms: tod,
                synchronous: false,
                smoothing: first.smoothing,
                smoothing_interval: first.smoothing_interval,
                sats: chunk.to_vec(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_lock_table_is_monotonic_and_inverse() {
        for i in 0..=127u8 {
            assert_eq!(legacy_lock_indicator(legacy_lock_time_s(i) as f64), i);
        }
        let mut prev = 0;
        for t in 0..2000 {
            let i = legacy_lock_indicator(t as f64);
            assert!(i >= prev);
            assert!(legacy_lock_time_s(i) <= t);
            prev = i;
        }
        assert_eq!(legacy_lock_indicator(-1.0), 0);
        assert_eq!(legacy_lock_indicator(f64::NAN), 0);
    }

    #[test]
    fn quantise_stays_in_the_field() {
        assert_eq!(quantise(1e9, 1.0, 5), 5.0);
        assert_eq!(quantise(-1e9, 1.0, 5), -5.0);
        assert_eq!(quantise(0.26, 0.5, 5), 0.5);
    }
}
