//! The summary of a run: fix rate, time to first fix, the longest stretch without a fix and,
//! in static mode, the final coordinate with its sigma.

use std::collections::BTreeMap;

use nalgebra::{Matrix3, Vector3};

use crate::gnss::geodesy::{ecef_to_geodetic, enu_rotation};
use crate::gnss::rtk::{Quality, RtkMode, RtkSkip, RtkSolution};
use crate::gnss::time::Gpst;

/// Running figures of a run.
pub struct Summary {
    mode: RtkMode,
    solutions: usize,
    fixed: usize,
    first: Option<Gpst>,
    first_fix: Option<Gpst>,
    float_since: Option<Gpst>,
    longest_float_s: f64,
    last: Option<RtkSolution>,
    skips: BTreeMap<String, usize>,
    fixed_systems: std::collections::BTreeSet<String>,
    /// GLONASS phase entered some solution (float only): said once in the summary.
    glonass_float: bool,
}

impl Summary {
    pub fn new(mode: RtkMode) -> Summary {
        Summary {
            mode,
            solutions: 0,
            fixed: 0,
            first: None,
            first_fix: None,
            float_since: None,
            longest_float_s: 0.0,
            last: None,
            skips: BTreeMap::new(),
            fixed_systems: Default::default(),
            glonass_float: false,
        }
    }

    pub fn add(&mut self, s: &RtkSolution) {
        self.solutions += 1;
        self.glonass_float |= s.glonass_float;
        self.first.get_or_insert(s.time);
        if s.quality == Quality::Fixed {
            self.fixed += 1;
            self.first_fix.get_or_insert(s.time);
            if let Some(f) = self.float_since.take() {
                self.longest_float_s = self.longest_float_s.max(s.time.diff(f));
            }
            for g in &s.fixed_systems {
                self.fixed_systems.insert(format!("{g:?}"));
            }
        } else if self.float_since.is_none() {
            self.float_since = Some(s.time);
        }
        self.last = Some(s.clone());
    }

    pub fn skip(&mut self, _t: Gpst, why: &RtkSkip) {
        let key = match why {
            RtkSkip::TooFewSatellites { .. } => "too few common satellites".to_string(),
            other => other.to_string(),
        };
        *self.skips.entry(key).or_default() += 1;
    }

    pub fn solutions(&self) -> usize {
        self.solutions
    }

    pub fn fixed_percent(&self) -> f64 {
        if self.solutions == 0 {
            0.0
        } else {
            100.0 * self.fixed as f64 / self.solutions as f64
        }
    }

    pub fn skip_reasons(&self) -> String {
        if self.skips.is_empty() {
            return "no epochs".into();
        }
        self.skips
            .iter()
            .map(|(k, n)| format!("{k} ({n} epochs)"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The summary lines.
    pub fn lines(&self, epochs: usize, elapsed_s: f64) -> Vec<String> {
        let mut out = vec![format!(
            "{epochs} rover epochs, {} solutions, {} fixed ({:.2} %), {:.0} epochs/s",
            self.solutions,
            self.fixed,
            self.fixed_percent(),
            epochs as f64 / elapsed_s.max(1e-9)
        )];
        match (self.first, self.first_fix) {
            (Some(a), Some(b)) => out.push(format!(
                "first fix {:.0} s after the first solution; longest stretch without a fix {:.0} s; systems fixed: {}",
                b.diff(a),
                self.longest_float_s.max(
                    self.float_since
                        .zip(self.last.as_ref())
                        .map_or(0.0, |(f, l)| l.time.diff(f) + 1.0)
                ),
                self.fixed_systems.iter().cloned().collect::<Vec<_>>().join(" ")
            )),
            _ => out.push("no fix".into()),
        }
        if !self.skips.is_empty() {
            out.push(format!(
                "epochs without a solution: {}",
                self.skip_reasons()
            ));
        }
        if self.glonass_float {
            out.push(
                "GLONASS ambiguities stay float (inter-channel biases between the receivers are not modelled)"
                    .into(),
            );
        }
        if let (RtkMode::Static, Some(l)) = (self.mode, &self.last) {
            let p = Vector3::from(l.position);
            let c = l.cov_xyz;
            let cov = Matrix3::new(c[0], c[3], c[5], c[3], c[1], c[4], c[5], c[4], c[2]);
            let rot = enu_rotation(&ecef_to_geodetic(&p));
            let enu = rot * cov * rot.transpose();
            out.push(format!(
                "static position ({}): X {:.4} Y {:.4} Z {:.4} m, sigma E {:.4} N {:.4} U {:.4} m",
                if l.quality == Quality::Fixed {
                    "fixed"
                } else {
                    "float"
                },
                p.x,
                p.y,
                p.z,
                enu[(0, 0)].max(0.0).sqrt(),
                enu[(1, 1)].max(0.0).sqrt(),
                enu[(2, 2)].max(0.0).sqrt()
            ));
        }
        out
    }
}
