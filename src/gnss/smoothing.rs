//! Carrier-smoothed code: live (a Hatch filter, [`CarrierSmoother`]) and for a whole file
//! (centred, [`smooth_centered`]). What single point positioning takes as its pseudoranges.

use super::obs::{Epoch, SignalCode};
use super::orbit::C;
use super::time::Gpst;
use super::{Gnss, SatMap};

/// Carrier-smoothed code (Hatch filter), per satellite and signal: the code is averaged over
/// up to `window` epochs through the carrier phase, which is ~100× less noisy. A cycle slip
/// (lock time going back, a half-cycle flag, a missing phase or a gap over a minute) restarts the
/// average. Over 100 s the ionosphere moves code and phase apart by centimetres to decimetres,
/// far less than the code noise removed.
#[derive(Clone, Debug, Default)]
pub struct CarrierSmoother {
    window: u32,
    state: SatMap<(Gnss, u8, SignalCode), Smoothing>,
}

#[derive(Clone, Copy, Debug)]
struct Smoothing {
    n: u32,
    smoothed: f64,
    phase_m: f64,
    lock_s: Option<f64>,
    time: Gpst,
}

impl CarrierSmoother {
    pub fn new(window: u32) -> Self {
        CarrierSmoother {
            window: window.max(1),
            state: Default::default(),
        }
    }

    /// Replace each pseudorange of the epoch by its smoothed value.
    pub fn apply(&mut self, epoch: &mut Epoch) {
        for sat in &mut epoch.sats {
            for s in &mut sat.signals {
                let key = (sat.sys, sat.prn, s.code);
                let (Some(pr), Some(cyc), Some(f)) = (s.pseudorange_m, s.phase_cycles, s.freq_hz)
                else {
                    self.state.remove(&key);
                    continue;
                };
                let phase_m = cyc * C / f;
                let prev = self.state.get(&key).copied();
                let continuous = prev.is_some_and(|p| {
                    let dt = epoch.time.diff(p.time);
                    dt > 0.0
                        && dt <= 60.0
                        && !s.slip
                        && !s.half_cycle
                        && match (p.lock_s, s.lock_s) {
                            (Some(a), Some(b)) => b >= a,
                            _ => true,
                        }
                        // A jump between code-minus-carrier of more than 20 m is a slip the
                        // lock indicator missed.
                        && ((pr - phase_m) - (p.smoothed - p.phase_m)).abs() < 20.0
                });
                let next = match prev.filter(|_| continuous) {
                    Some(p) => {
                        let n = (p.n + 1).min(self.window);
                        let nf = n as f64;
                        Smoothing {
                            n,
                            smoothed: pr / nf
                                + (nf - 1.0) / nf * (p.smoothed + phase_m - p.phase_m),
                            phase_m,
                            lock_s: s.lock_s,
                            time: epoch.time,
                        }
                    }
                    None => Smoothing {
                        n: 1,
                        smoothed: pr,
                        phase_m,
                        lock_s: s.lock_s,
                        time: epoch.time,
                    },
                };
                s.pseudorange_m = Some(next.smoothed);
                self.state.insert(key, next);
            }
        }
    }
}

/// Carrier smoothing for a whole file (post-processing): each pseudorange becomes its phase plus
/// the mean code-minus-carrier of the same continuous arc within `half_window_s` either side.
/// Centred, the ionosphere's divergence of code and carrier (linear over minutes) cancels, and
/// every epoch — the first of an arc too — gets the full average, which a live (causal) Hatch
/// filter only reaches after its window. Arcs break as in [`CarrierSmoother`]: a gap over a
/// minute, a slip or half-cycle flag, a lock time going back, a code-minus-carrier jump over 20 m.
pub fn smooth_centered(epochs: &mut [Epoch], half_window_s: f64) {
    struct Obs {
        at: (usize, usize, usize),
        t: Gpst,
        phase_m: f64,
        cmc: f64,
        breaks: bool,
    }
    let mut arcs: SatMap<(Gnss, u8, SignalCode), Vec<Obs>> = Default::default();
    let mut last: SatMap<(Gnss, u8, SignalCode), (Gpst, Option<f64>, f64)> = Default::default();
    for (ei, e) in epochs.iter().enumerate() {
        for (si, sat) in e.sats.iter().enumerate() {
            for (gi, g) in sat.signals.iter().enumerate() {
                let key = (sat.sys, sat.prn, g.code);
                let (Some(pr), Some(cyc), Some(f)) = (g.pseudorange_m, g.phase_cycles, g.freq_hz)
                else {
                    last.remove(&key);
                    continue;
                };
                let phase_m = cyc * C / f;
                let cmc = pr - phase_m;
                let breaks = match last.get(&key) {
                    Some(&(t, lock, prev_cmc)) => {
                        let dt = e.time.diff(t);
                        !(dt > 0.0
                            && dt <= 60.0
                            && !g.slip
                            && !g.half_cycle
                            && match (lock, g.lock_s) {
                                (Some(a), Some(b)) => b >= a,
                                _ => true,
                            }
                            && (cmc - prev_cmc).abs() < 20.0)
                    }
                    None => true,
                };
                last.insert(key, (e.time, g.lock_s, cmc));
                arcs.entry(key).or_default().push(Obs {
                    at: (ei, si, gi),
                    t: e.time,
                    phase_m,
                    cmc,
                    breaks,
                });
            }
        }
    }
    for obs in arcs.values() {
        let mut start = 0;
        while start < obs.len() {
            let mut end = start + 1;
            while end < obs.len() && !obs[end].breaks {
                end += 1;
            }
            let arc = &obs[start..end];
            let mut prefix = Vec::with_capacity(arc.len() + 1);
            prefix.push(0.0);
            for o in arc {
                prefix.push(prefix[prefix.len() - 1] + o.cmc);
            }
            let (mut lo, mut hi) = (0, 0);
            for o in arc {
                while arc[lo].t.diff(o.t) < -half_window_s - 1e-6 {
                    lo += 1;
                }
                while hi < arc.len() && arc[hi].t.diff(o.t) <= half_window_s + 1e-6 {
                    hi += 1;
                }
                let mean = (prefix[hi] - prefix[lo]) / (hi - lo) as f64;
                let (ei, si, gi) = o.at;
                epochs[ei].sats[si].signals[gi].pseudorange_m = Some(o.phase_m + mean);
            }
            start = end;
        }
    }
}
