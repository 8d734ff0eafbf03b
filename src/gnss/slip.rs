//! Cycle-slip detection per satellite and signal, fed one epoch at a time (no IO, no clock:
//! the time comes from the epochs).
//!
//! Evidence, from the receiver and from the data:
//! * **lock time** (MSM DF402/DF407, RINEX has none): shorter than at the previous epoch, or
//!   shorter than the time since the previous epoch (lock was lost and regained in between);
//! * **loss-of-lock indicator** ([`SignalObs::slip`]) and a change of the **half-cycle** flag (the
//!   receiver resolved a half-cycle ambiguity: the phase may have moved by ½ cycle);
//! * a **gap** longer than [`SlipOptions::max_gap_s`], across which continuity is not
//!   testable;
//! * the **geometry-free** phase `λ₁φ₁ − λ₂φ₂` (m) against its prediction from a straight
//!   line through the last few epochs (the ionosphere drifts smoothly): a jump beyond
//!   `gf_base_m + gf_rate_m_per_s · Δt`. One cycle on L1 moves it by λ₁ (19 cm), on L2 by λ₂
//!   (24 cm), on both by λ₁ − λ₂ (5.4 cm);
//! * the **Melbourne–Wübbena** wide-lane (in wide-lane cycles) against its running mean over
//!   the arc: beyond `max(mw_sigmas · σ, mw_min_cycles)`. It sees the slip pairs the
//!   geometry-free combination is nearly blind to, such as 9 cycles on L1 with 7 on L2.
//!
//! Each satellite's signals are tested in pairs against one primary signal (GPS/QZSS L1,
//! Galileo E1, BeiDou B1I, GLONASS G1, else the lowest band): a jump in a pair flags both of
//! its signals, since a combination cannot tell which one slipped. After a slip the pair's
//! history restarts.

use super::obs::{Epoch, SatObs, SignalCode, SignalObs};
use super::time::Gpst;
use super::{Gnss, SatMap};

/// Speed of light (m/s).
const C: f64 = 299_792_458.0;

/// Thresholds of the detectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlipOptions {
    /// Geometry-free jump threshold at zero interval (m).
    pub gf_base_m: f64,
    /// Growth of the geometry-free threshold with the interval (m/s): ionospheric change.
    pub gf_rate_m_per_s: f64,
    /// Melbourne–Wübbena threshold in standard deviations of the arc.
    pub mw_sigmas: f64,
    /// Melbourne–Wübbena threshold floor (wide-lane cycles): code multipath alone can move a
    /// single epoch this far.
    pub mw_min_cycles: f64,
    /// Epochs of an arc before its Melbourne–Wübbena statistics are trusted.
    pub mw_min_epochs: u32,
    /// A signal unseen for longer than this (s) restarts as after a slip.
    pub max_gap_s: f64,
}

impl Default for SlipOptions {
    fn default() -> Self {
        SlipOptions {
            gf_base_m: 0.025,
            gf_rate_m_per_s: 0.002,
            mw_sigmas: 5.0,
            mw_min_cycles: 1.5,
            mw_min_epochs: 10,
            max_gap_s: 120.0,
        }
    }
}

/// Why a signal is flagged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlipCauses {
    pub lock_time: bool,
    pub lli: bool,
    pub half_cycle: bool,
    pub gap: bool,
    pub geometry_free: bool,
    pub melbourne_wubbena: bool,
}

impl SlipCauses {
    pub fn any(&self) -> bool {
        self.lock_time
            || self.lli
            || self.half_cycle
            || self.gap
            || self.geometry_free
            || self.melbourne_wubbena
    }
}

/// A signal whose phase is not continuous with its previous epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalSlip {
    pub sys: Gnss,
    pub prn: u8,
    pub code: SignalCode,
    pub causes: SlipCauses,
}

/// Per-signal memory.
#[derive(Clone, Copy, Debug)]
struct SignalTrack {
    last: Gpst,
    lock_s: Option<f64>,
    half_cycle: bool,
}

/// Geometry-free and Melbourne–Wübbena history of a pair of signals.
#[derive(Clone, Debug, Default)]
struct PairTrack {
    /// (time, geometry-free m) of the last epochs, oldest first.
    gf: Vec<(Gpst, f64)>,
    mw_n: u32,
    mw_mean: f64,
    mw_m2: f64,
}

/// Geometry-free points kept for the prediction.
const GF_POINTS: usize = 5;

/// The detector for one receiver.
#[derive(Clone, Debug, Default)]
pub struct SlipDetector {
    pub opts: SlipOptions,
    /// Per satellite: one lookup, then a few signals and pairs searched in place.
    sats: SatMap<(Gnss, u8), SatTrack>,
}

/// The memory of one satellite's signals and pairs.
#[derive(Clone, Debug, Default)]
struct SatTrack {
    signals: Vec<(SignalCode, SignalTrack)>,
    pairs: Vec<(SignalCode, SignalCode, PairTrack)>,
}

impl SlipDetector {
    pub fn new(opts: SlipOptions) -> SlipDetector {
        SlipDetector {
            opts,
            ..Default::default()
        }
    }

    /// Tests one epoch and returns the signals with a slip (only signals carrying phase are
    /// considered). The state advances: the next epoch is tested against this one.
    pub fn process(&mut self, epoch: &Epoch) -> Vec<SignalSlip> {
        let mut out = Vec::new();
        for sat in &epoch.sats {
            self.process_sat(epoch.time, sat, &mut out);
        }
        out
    }

    fn process_sat(&mut self, t: Gpst, sat: &SatObs, out: &mut Vec<SignalSlip>) {
        let first = out.len();
        let opts = self.opts;
        let track = self.sats.entry((sat.sys, sat.prn)).or_default();
        for s in sat.signals.iter().filter(|s| phased(s)) {
            let causes = receiver_evidence(&opts, track, t, s);
            out.push(SignalSlip {
                sys: sat.sys,
                prn: sat.prn,
                code: s.code,
                causes,
            });
        }
        // Signals the receiver already declared discontinuous restart their pairs; the
        // combinations' own findings must not (each pair is tested on its own history).
        let restarted = |out: &[SignalSlip], code: SignalCode| {
            out.iter().any(|x| {
                let c = x.causes;
                x.code == code && (c.lock_time || c.lli || c.half_cycle || c.gap)
            })
        };
        if let Some(primary) = primary(sat.sys, &sat.signals) {
            for other in sat
                .signals
                .iter()
                .filter(|s| phased(s) && s.code != primary.code)
            {
                let reset =
                    restarted(&out[first..], primary.code) || restarted(&out[first..], other.code);
                let (gf, mw) = combination_evidence(&opts, track, t, primary, other, reset);
                for x in out[first..].iter_mut() {
                    if x.code == primary.code || x.code == other.code {
                        x.causes.geometry_free |= gf;
                        x.causes.melbourne_wubbena |= mw;
                    }
                }
            }
        }
        let mut i = first;
        while i < out.len() {
            if out[i].causes.any() {
                i += 1;
            } else {
                out.swap_remove(i);
            }
        }
    }
}

/// Lock time, LLI, half-cycle and gap, updating the signal's memory.
fn receiver_evidence(opts: &SlipOptions, sat: &mut SatTrack, t: Gpst, s: &SignalObs) -> SlipCauses {
    let mut c = SlipCauses {
        lli: s.slip,
        ..Default::default()
    };
    let track = SignalTrack {
        last: t,
        lock_s: s.lock_s,
        half_cycle: s.half_cycle,
    };
    match sat.signals.iter_mut().find(|(code, _)| *code == s.code) {
        Some((_, slot)) => {
            let prev = std::mem::replace(slot, track);
            let dt = t.diff(prev.last);
            c.gap = dt > opts.max_gap_s;
            if let (Some(now), Some(before)) = (s.lock_s, prev.lock_s) {
                // Lock time can only grow while the receiver keeps lock; shorter than the
                // interval means lock was regained since the previous epoch.
                c.lock_time = now < before || now < dt - 1e-3;
            }
            c.half_cycle = prev.half_cycle != s.half_cycle;
        }
        None => sat.signals.push((s.code, track)),
    }
    c
}

/// Geometry-free and Melbourne–Wübbena tests of a pair; `reset` restarts its history (one of
/// the signals already slipped).
fn combination_evidence(
    opts: &SlipOptions,
    sat: &mut SatTrack,
    t: Gpst,
    a: &SignalObs,
    b: &SignalObs,
    reset: bool,
) -> (bool, bool) {
    let (Some(fa), Some(fb), Some(pa), Some(pb)) =
        (a.freq_hz, b.freq_hz, a.phase_cycles, b.phase_cycles)
    else {
        return (false, false);
    };
    let at = match sat
        .pairs
        .iter()
        .position(|(x, y, _)| *x == a.code && *y == b.code)
    {
        Some(i) => i,
        None => {
            sat.pairs.push((a.code, b.code, PairTrack::default()));
            sat.pairs.len() - 1
        }
    };
    let track = &mut sat.pairs[at].2;
    if reset {
        *track = PairTrack::default();
    }
    let (la, lb) = (C / fa, C / fb);
    let gf = la * pa - lb * pb;
    let mut gf_jump = false;
    if let Some(&(t_last, _)) = track.gf.last() {
        let dt = t.diff(t_last);
        if dt > opts.max_gap_s || dt <= 0.0 {
            track.gf.clear();
        } else {
            let predicted = predict(&track.gf, t);
            gf_jump = (gf - predicted).abs() > opts.gf_base_m + opts.gf_rate_m_per_s * dt;
        }
    }
    // Melbourne–Wübbena needs code on both and two distinct frequencies.
    let mut mw_jump = false;
    let mw = match (a.pseudorange_m, b.pseudorange_m) {
        (Some(ra), Some(rb)) if (fa - fb).abs() > 1e6 => {
            let wide_lane = C / (fa - fb);
            let phase_wl = (fa * la * pa - fb * lb * pb) / (fa - fb);
            let code_nl = (fa * ra + fb * rb) / (fa + fb);
            Some((phase_wl - code_nl) / wide_lane)
        }
        _ => None,
    };
    if let Some(mw) = mw.filter(|v| v.is_finite()) {
        if track.mw_n >= opts.mw_min_epochs {
            let sigma = (track.mw_m2 / f64::from(track.mw_n - 1)).sqrt();
            let limit = (opts.mw_sigmas * sigma).max(opts.mw_min_cycles);
            mw_jump = (mw - track.mw_mean).abs() > limit;
        }
        if gf_jump || mw_jump {
            track.mw_n = 0;
            track.mw_mean = 0.0;
            track.mw_m2 = 0.0;
        }
        // Welford's running mean and sum of squares.
        track.mw_n += 1;
        let d = mw - track.mw_mean;
        track.mw_mean += d / f64::from(track.mw_n);
        track.mw_m2 += d * (mw - track.mw_mean);
    }
    if gf_jump || mw_jump {
        track.gf.clear();
    }
    if gf.is_finite() {
        track.gf.push((t, gf));
        if track.gf.len() > GF_POINTS {
            track.gf.remove(0);
        }
    }
    (gf_jump, mw_jump)
}

/// The value at `t` of the least-squares line through the points (the last value when there
/// is only one, or when the times coincide).
fn predict(points: &[(Gpst, f64)], t: Gpst) -> f64 {
    let Some(&(t0, last)) = points.last() else {
        return 0.0;
    };
    if points.len() < 2 {
        return last;
    }
    let n = points.len() as f64;
    let x = |p: &(Gpst, f64)| p.0.diff(t0);
    let mx = points.iter().map(x).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (x(p) - mx) * (x(p) - mx)).sum();
    if sxx < 1e-12 {
        return last;
    }
    let sxy: f64 = points.iter().map(|p| (x(p) - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    my + slope * (t.diff(t0) - mx)
}

/// The signal the others are paired with.
fn primary(sys: Gnss, signals: &[SignalObs]) -> Option<&SignalObs> {
    let order: &[u8] = match sys {
        Gnss::Gps | Gnss::Qzss | Gnss::Glonass | Gnss::Sbas => &[1, 2, 5],
        Gnss::Galileo => &[1, 5, 7, 8, 6],
        Gnss::Beidou => &[2, 1, 6, 7, 5, 8],
        Gnss::Navic => &[5, 9],
    };
    let usable = |s: &&SignalObs| phased(s) && s.freq_hz.is_some();
    order
        .iter()
        .find_map(|b| signals.iter().filter(usable).find(|s| s.code.band() == *b))
        .or_else(|| signals.iter().filter(usable).min_by_key(|s| s.code.band()))
}

/// Only signals carrying phase are tested.
fn phased(s: &SignalObs) -> bool {
    s.phase_cycles.is_some_and(f64::is_finite)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F1: f64 = 1_575.42e6;
    const F2: f64 = 1_227.60e6;

    fn sig(code: &str, f: f64, range: f64, cycles_offset: f64) -> SignalObs {
        SignalObs {
            code: SignalCode::new(code).expect("valid code"),
            freq_hz: Some(f),
            pseudorange_m: Some(range),
            phase_cycles: Some(range * f / C + cycles_offset),
            doppler_hz: None,
            cn0_dbhz: Some(45.0),
            lock_s: None,
            slip: false,
            half_cycle: false,
        }
    }

    /// A satellite at a range changing by 500 m/s, ionosphere drifting 1 mm/s, epochs at 1 s.
    fn epoch(i: u32, l1_slip: f64, l2_slip: f64) -> Epoch {
        let range = 21_000_000.0 + 500.0 * f64::from(i);
        let iono = 0.001 * f64::from(i);
        let g = F1 * F1 / (F2 * F2);
        let mut s1 = sig("1C", F1, range, l1_slip);
        let mut s2 = sig("2W", F2, range, l2_slip);
        // Ionosphere delays code and advances phase.
        s1.pseudorange_m = Some(range + iono);
        s2.pseudorange_m = Some(range + g * iono);
        s1.phase_cycles = Some((range - iono) * F1 / C + l1_slip);
        s2.phase_cycles = Some((range - g * iono) * F2 / C + l2_slip);
        Epoch {
            time: Gpst::from_week_tow(2000, f64::from(i)),
            sats: vec![SatObs {
                sys: Gnss::Gps,
                prn: 5,
                signals: vec![s1, s2],
            }],
        }
    }

    fn run(slip_at: u32, n1: f64, n2: f64) -> Vec<(u32, SignalSlip)> {
        let mut d = SlipDetector::new(SlipOptions::default());
        let mut found = Vec::new();
        for i in 0..60 {
            let (a, b) = if i >= slip_at { (n1, n2) } else { (0.0, 0.0) };
            for s in d.process(&epoch(i, a, b)) {
                found.push((i, s));
            }
        }
        found
    }

    #[test]
    fn clean_data_has_no_slips() {
        assert!(run(1000, 0.0, 0.0).is_empty());
    }

    #[test]
    fn one_cycle_slips_are_caught_by_the_combinations() {
        for (n1, n2) in [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (-1.0, 0.0), (9.0, 7.0)] {
            let found = run(30, n1, n2);
            assert!(!found.is_empty(), "({n1}, {n2}) missed");
            assert!(
                found.iter().all(|(i, _)| *i == 30),
                "({n1}, {n2}): {found:?}"
            );
            let s = found[0].1;
            assert!(s.causes.geometry_free || s.causes.melbourne_wubbena);
            // Both signals of the pair are flagged.
            assert_eq!(found.len(), 2);
        }
        // (9, 7) moves the geometry-free combination by 3.5 mm only: the wide lane sees it.
        let found = run(30, 9.0, 7.0);
        assert!(found[0].1.causes.melbourne_wubbena && !found[0].1.causes.geometry_free);
    }

    #[test]
    fn receiver_flags() {
        let mut d = SlipDetector::new(SlipOptions::default());
        let mut e = epoch(0, 0.0, 0.0);
        e.sats[0].signals[0].lock_s = Some(100.0);
        assert!(d.process(&e).is_empty());
        // Lock time shorter than before on L1 only.
        let mut e = epoch(1, 0.0, 0.0);
        e.sats[0].signals[0].lock_s = Some(0.5);
        let s = d.process(&e);
        assert_eq!(s.len(), 1);
        assert!(s[0].causes.lock_time && s[0].code.as_str() == "1C");
        // LLI on L2, half-cycle flag change on L1.
        let mut e = epoch(2, 0.0, 0.0);
        e.sats[0].signals[0].lock_s = Some(1.5);
        e.sats[0].signals[1].slip = true;
        e.sats[0].signals[0].half_cycle = true;
        let s = d.process(&e);
        assert_eq!(s.len(), 2);
        assert!(s.iter().any(|x| x.causes.lli && x.code.as_str() == "2W"));
        assert!(
            s.iter()
                .any(|x| x.causes.half_cycle && x.code.as_str() == "1C")
        );
        // A gap of 10 minutes.
        let mut e = epoch(600, 0.0, 0.0);
        e.sats[0].signals[0].lock_s = Some(601.5);
        e.sats[0].signals[0].half_cycle = true;
        let s = d.process(&e);
        assert_eq!(s.len(), 2);
        assert!(s.iter().all(|x| x.causes.gap));
    }

    #[test]
    fn prediction_follows_a_line() {
        let t0 = Gpst::from_week_tow(2000, 0.0);
        let pts: Vec<_> = (0..4)
            .map(|i| (t0.add(i as f64), 0.5 + 0.01 * i as f64))
            .collect();
        assert!((predict(&pts, t0.add(5.0)) - 0.55).abs() < 1e-12);
        assert_eq!(predict(&pts[..1], t0.add(5.0)), 0.5);
    }
}
