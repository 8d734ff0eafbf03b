//! Observation quality summary of a stream or file, as teqc and BNC print it: epochs received
//! against expected (with the gaps), completeness per signal, cycle slips per system.
//!
//! Completeness of a signal is the share of satellite-epochs of its system (a satellite tracked
//! on any signal at an epoch) in which that signal has a pseudorange: a receiver that drops L2
//! on low satellites or a message set without L5 shows here, per signal.

use std::collections::BTreeMap;

use super::Gnss;
use super::obs::{Epoch, SignalCode};
use super::time::Gpst;

/// Running counts; feed every epoch in time order, then read or print.
#[derive(Clone, Debug, Default)]
pub struct Qc {
    pub epochs: u64,
    first: Option<Gpst>,
    last: Option<Gpst>,
    /// Smallest positive step between epochs seen: the sampling interval.
    interval_s: Option<f64>,
    /// Steps longer than 1.5 intervals, as (start of the gap, missing seconds).
    steps: Vec<(Gpst, f64)>,
    /// Satellite-epochs per system.
    pub sat_epochs: BTreeMap<Gnss, u64>,
    /// Pseudoranges per system and signal.
    pub signal_obs: BTreeMap<(Gnss, SignalCode), u64>,
    /// Phases flagged with a loss of lock, per system.
    pub slips: BTreeMap<Gnss, u64>,
}

/// A gap in the epochs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gap {
    /// Last epoch before the gap.
    pub after: Gpst,
    /// Epochs missing.
    pub missing: u64,
}

impl Qc {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, e: &Epoch) {
        if let Some(prev) = self.last {
            let dt = e.time.diff(prev);
            if dt > 0.0 {
                self.interval_s = Some(self.interval_s.map_or(dt, |i: f64| i.min(dt)));
                self.steps.push((prev, dt));
            }
        }
        self.first.get_or_insert(e.time);
        self.last = Some(e.time);
        self.epochs += 1;
        for s in &e.sats {
            *self.sat_epochs.entry(s.sys).or_default() += 1;
            // A stream may carry a signal twice in one epoch (MSM4 and MSM7 side by side):
            // count each signal once per satellite-epoch.
            let mut counted: Vec<SignalCode> = Vec::with_capacity(s.signals.len());
            for g in &s.signals {
                if counted.contains(&g.code) {
                    continue;
                }
                counted.push(g.code);
                if g.pseudorange_m.is_some() {
                    *self.signal_obs.entry((s.sys, g.code)).or_default() += 1;
                }
                if g.slip && g.phase_cycles.is_some() {
                    *self.slips.entry(s.sys).or_default() += 1;
                }
            }
        }
        // Only steps longer than the interval matter; keep the list short on long files.
        if self.steps.len() > 4096 {
            self.compact();
        }
    }

    fn compact(&mut self) {
        if let Some(i) = self.interval_s {
            self.steps.retain(|(_, dt)| *dt > 1.5 * i);
        }
    }

    /// Sampling interval (s), once two epochs were seen.
    pub fn interval_s(&self) -> Option<f64> {
        self.interval_s
    }

    /// Epochs expected from the first to the last at the sampling interval.
    pub fn expected(&self) -> u64 {
        match (self.first, self.last, self.interval_s) {
            (Some(a), Some(b), Some(i)) => (b.diff(a) / i).round() as u64 + 1,
            _ => self.epochs,
        }
    }

    /// The gaps, in time order.
    pub fn gaps(&self) -> Vec<Gap> {
        let Some(i) = self.interval_s else {
            return Vec::new();
        };
        self.steps
            .iter()
            .filter(|(_, dt)| *dt > 1.5 * i)
            .map(|&(after, dt)| Gap {
                after,
                missing: ((dt / i).round() as u64).saturating_sub(1),
            })
            .collect()
    }

    /// Completeness (0..1) of each signal against its system's satellite-epochs.
    pub fn completeness(&self) -> Vec<(Gnss, SignalCode, f64)> {
        self.signal_obs
            .iter()
            .filter_map(|(&(sys, code), &n)| {
                let all = *self.sat_epochs.get(&sys)?;
                (all > 0).then(|| (sys, code, n as f64 / all as f64))
            })
            .collect()
    }

    /// The summary as lines for an operator.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let expected = self.expected();
        let gaps = self.gaps();
        let longest = gaps.iter().map(|g| g.missing).max().unwrap_or(0);
        let interval = self.interval_s.unwrap_or(0.0);
        out.push(format!(
            "epochs {} of {} expected at {} s ({:.1} %); {} gap{}{}",
            self.epochs,
            expected,
            interval,
            100.0 * self.epochs as f64 / expected.max(1) as f64,
            gaps.len(),
            if gaps.len() == 1 { "" } else { "s" },
            if longest > 0 {
                format!(", the longest {} epochs", longest)
            } else {
                String::new()
            }
        ));
        let mut by_sys: BTreeMap<Gnss, Vec<String>> = BTreeMap::new();
        for (sys, code, c) in self.completeness() {
            by_sys
                .entry(sys)
                .or_default()
                .push(format!("{code} {:.1} %", 100.0 * c));
        }
        for (sys, sigs) in by_sys {
            out.push(format!(
                "{} ({} satellite-epochs, {} slips): {}",
                sys.letter(),
                self.sat_epochs.get(&sys).copied().unwrap_or(0),
                self.slips.get(&sys).copied().unwrap_or(0),
                sigs.join(", ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::obs::{SatObs, SignalObs};

    fn epoch(t: i64, signals: &[&str]) -> Epoch {
        Epoch {
            time: Gpst::new(t, 0.0),
            sats: vec![SatObs {
                sys: Gnss::Gps,
                prn: 1,
                signals: signals
                    .iter()
                    .map(|c| SignalObs {
                        code: SignalCode::new(c).unwrap(),
                        freq_hz: None,
                        pseudorange_m: Some(2.0e7),
                        phase_cycles: Some(1.0e8),
                        doppler_hz: None,
                        cn0_dbhz: None,
                        lock_s: None,
                        slip: t == 3,
                        half_cycle: false,
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn gaps_completeness_and_slips() {
        let mut q = Qc::new();
        for t in [0, 1, 2, 3, 7, 8, 9] {
            q.add(&epoch(t, if t % 2 == 0 { &["1C", "2W"] } else { &["1C"] }));
        }
        assert_eq!(q.expected(), 10);
        assert_eq!(
            q.gaps(),
            vec![Gap {
                after: Gpst::new(3, 0.0),
                missing: 3
            }]
        );
        let c = q.completeness();
        assert_eq!(c[0].2, 1.0);
        assert!((c[1].2 - 3.0 / 7.0).abs() < 1e-12);
        assert_eq!(q.slips[&Gnss::Gps], 1);
        assert!(q.lines()[0].starts_with("epochs 7 of 10 expected at 1 s (70.0 %); 1 gap"));
    }
}
