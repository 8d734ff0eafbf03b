//! The built-in simulator at the live clock (the demo station): one epoch per second, its
//! frames sent at its second.

use std::time::Duration;

use chrono::Utc;
use nalgebra::Vector3;
use tokio::sync::watch;

use crate::gnss::time::Gpst;
use crate::simulate::{SimConfig, Simulator};
use crate::telemetry::gpst_to_unix_ns;

/// A running simulation.
pub struct Live {
    sim: Simulator,
    start: Gpst,
}

impl Live {
    /// A simulation of station `name` at `position` (the simulator's own default without one),
    /// starting at the next whole second.
    pub fn new(name: &str, position: Option<Vector3<f64>>, seed: u64, msm: u8) -> Self {
        let now = Gpst::from_utc(Utc::now());
        let start = Gpst::new(now.secs() + 1, 0.0);
        let sim = Simulator::new(SimConfig {
            name: name.into(),
            position: position.unwrap_or_else(|| SimConfig::default().position),
            start,
            epochs: u32::MAX,
            seed,
            msm,
            noise: true,
            multipath: true,
            atmosphere: true,
            ..Default::default()
        });
        Live { sim, start }
    }

    /// Wait for the next epoch's second and put its frames into `buf`: `Some(false)` when the
    /// simulation is over, `None` when shut down meanwhile.
    pub async fn next(
        &mut self,
        buf: &mut Vec<u8>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<bool> {
        let t = self.start.add(self.sim.epochs_done() as f64);
        let now = Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let wait = (gpst_to_unix_ns(t) - now).max(0) as u64;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_nanos(wait)) => {}
            _ = shutdown.changed() => return None,
        }
        let Some(frames) = self.sim.next_epoch() else {
            return Some(false);
        };
        buf.clear();
        for f in frames {
            buf.extend_from_slice(&f);
        }
        Some(true)
    }
}
