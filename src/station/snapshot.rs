//! What the health endpoints show of one source: the source's state and the station's counts
//! of what it delivered, kept current by the [runner](super::runner).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::sources::{SourceSettings, State};

/// What the health endpoints show of a source.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub name: String,
    pub kind: String,
    pub state: State,
    pub bytes: u64,
    pub frames: u64,
    pub bad_frames: u64,
    pub discarded_bytes: u64,
    pub epochs_received: u64,
    pub epochs_expected: u64,
    pub solutions: u64,
    pub reconnects: u64,
    pub connect_attempts: u64,
    pub latency_ms: Option<f64>,
    pub last_error: Option<String>,
    pub messages: BTreeMap<String, u64>,
    /// Latest offset from the surveyed position (east, north, up; m).
    pub offset_enu: Option<[f64; 3]>,
    /// The satellites of the latest solution, for the sky view.
    pub sky: Vec<SkySat>,
}

/// A satellite in the sky view.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SkySat {
    /// System letter (G R E C J) and number, e.g. `C01`.
    pub sat: String,
    pub el_deg: f64,
    pub az_deg: f64,
    /// Post-fit residual (m).
    pub res_m: f64,
}

pub type SharedSnapshot = Arc<Mutex<Snapshot>>;

/// A fresh snapshot of a source about to start.
pub fn new_snapshot(s: &SourceSettings) -> SharedSnapshot {
    Arc::new(Mutex::new(Snapshot {
        name: s.name.clone(),
        kind: s.kind.name().into(),
        state: State::Connecting,
        bytes: 0,
        frames: 0,
        bad_frames: 0,
        discarded_bytes: 0,
        epochs_received: 0,
        epochs_expected: 0,
        solutions: 0,
        reconnects: 0,
        connect_attempts: 0,
        latency_ms: None,
        last_error: None,
        messages: BTreeMap::new(),
        offset_enu: None,
        sky: Vec::new(),
    }))
}
