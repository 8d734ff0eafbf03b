//! The status page's reflector heights: the `reflection` points the station writes once a day
//! (each accepted GNSS-IR arc, and the median per azimuth sector), kept in bounded rings for
//! the plots of reflector height against azimuth and against time over the days the daemon
//! has seen. At most [`MAX_ARCS`] arcs (32 bytes each, about a week of a five-GNSS station) and
//! [`MAX_DAYS`] daily medians per sector.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};

use crate::telemetry::Point;

pub const MAX_ARCS: usize = 8000;
pub const MAX_DAYS: usize = 400;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Arc {
    time_s: i64,
    /// Index into [`Reflections::signals`].
    signal: u16,
    rh: f32,
    az: f32,
    amp: f32,
}

/// What the page shows of reflector heights.
#[derive(Debug, Default)]
pub struct Reflections {
    arcs: VecDeque<Arc>,
    signals: Vec<String>,
    /// Span start (s) → sector → (median RH, arcs).
    days: BTreeMap<i64, BTreeMap<String, (f64, i64)>>,
}

fn tag<'a>(p: &'a Point, key: &str) -> Option<&'a str> {
    p.tags
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

impl Reflections {
    /// Take one `reflection` point.
    pub fn record(&mut self, p: &Point) {
        let time_s = p.time_ns.div_euclid(1_000_000_000);
        if let Some(sector) = tag(p, "sector") {
            let (Some(rh), Some(n)) = (p.number("rh_median_m"), p.number("arcs")) else {
                return;
            };
            self.days
                .entry(time_s)
                .or_default()
                .insert(sector.to_string(), (rh, n as i64));
            while self.days.len() > MAX_DAYS {
                self.days.pop_first();
            }
            return;
        }
        let (Some(signal), Some(rh), Some(az)) =
            (tag(p, "signal"), p.number("rh_m"), p.number("az_deg"))
        else {
            return;
        };
        let signal = match self.signals.iter().position(|s| s == signal) {
            Some(i) => i,
            // Signals are a closed list of a few dozen; the cap only guards the bound.
            None if self.signals.len() < 64 => {
                self.signals.push(signal.to_string());
                self.signals.len() - 1
            }
            None => return,
        };
        if self.arcs.len() >= MAX_ARCS {
            self.arcs.pop_front();
        }
        self.arcs.push_back(Arc {
            time_s,
            signal: signal as u16,
            rh: rh as f32,
            az: az as f32,
            amp: p.number("amp").unwrap_or(0.0) as f32,
        });
    }

    /// `{signals: [..], arcs: [[t_s, signal index, rh, az, amp], ..], days: [{t_s, sectors:
    /// [{sector, rh, arcs}]}]}`.
    pub fn json(&self) -> Value {
        let r = |v: f32, k: f32| (v * k).round() / k;
        let arcs: Vec<Value> = self
            .arcs
            .iter()
            .map(|a| {
                json!([
                    a.time_s,
                    a.signal,
                    r(a.rh, 1000.0),
                    r(a.az, 10.0),
                    r(a.amp, 10.0)
                ])
            })
            .collect();
        let days: Vec<Value> = self
            .days
            .iter()
            .map(|(t, sectors)| {
                let s: Vec<Value> = sectors
                    .iter()
                    .map(|(name, (rh, n))| {
                        json!({ "sector": name, "rh": (rh * 1000.0).round() / 1000.0, "arcs": n })
                    })
                    .collect();
                json!({ "t_s": t, "sectors": s })
            })
            .collect();
        json!({ "signals": self.signals, "arcs": arcs, "days": days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arcs_and_days_are_bounded() {
        let mut r = Reflections::default();
        for i in 0..(MAX_ARCS + 10) {
            r.record(
                &Point::new("reflection", i as i64 * 1_000_000_000)
                    .tag("station", "TEST")
                    .tag("signal", format!("G_L{}", if i < 70 { i } else { 1 }))
                    .field("rh_m", 2.0)
                    .field("az_deg", 10.0),
            );
        }
        for d in 0..(MAX_DAYS + 3) {
            r.record(
                &Point::new("reflection", d as i64 * 86_400_000_000_000)
                    .tag("station", "TEST")
                    .tag("sector", "0-90")
                    .field("rh_median_m", 2.0)
                    .field("arcs", 12i64),
            );
        }
        let j = r.json();
        assert_eq!(j["arcs"].as_array().unwrap().len(), MAX_ARCS);
        assert_eq!(j["days"].as_array().unwrap().len(), MAX_DAYS);
        assert_eq!(j["signals"].as_array().unwrap().len(), 64);
        assert_eq!(j["days"][0]["sectors"][0]["arcs"], 12);
    }
}
