//! What the status page reads: `/status.json` (the present, polled every 2 s) and
//! `/history.json` (the last hour and day, polled every 10 s, one view at a time: it is the larger
//! of the two).
//!
//! `/status.json` is one object: `station`, `time_ms` (the daemon's clock), `uptime_s`,
//! `sources` (each source's snapshot with its message `rates` in Hz over the last minute),
//! `sky` (every tracked satellite of the latest `satellite` epoch and of the latest solution:
//! elevation, azimuth, whether the solution used it, its best C/N0 and BeiDou orbit class), `rovers` (from their GGA, east and north of the
//! station), `events` (newest first), `station_position` (the map's centre) and `parts` (every
//! part of the daemon, as `/healthz` judges it).

use serde_json::{Value, json};

use super::Health;
use super::parts::parts;
use crate::station::snapshot::{SkySat, Snapshot};

pub(super) fn status_json(snaps: &[Snapshot], h: &Health) -> String {
    let sources: Vec<Value> = snaps
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("rates".into(), json!(h.history.rates(s)));
            }
            v
        })
        .collect();
    let solution: Vec<SkySat> = snaps.iter().flat_map(|s| s.sky.iter().cloned()).collect();
    let mut out = h.history.present(&solution);
    if let Value::Object(m) = &mut out {
        m.insert("station".into(), json!(h.station));
        m.insert(
            "time_ms".into(),
            json!(chrono::Utc::now().timestamp_millis()),
        );
        m.insert("uptime_s".into(), json!(h.started.elapsed().as_secs()));
        m.insert("sources".into(), Value::Array(sources));
        m.insert("parts".into(), json!(parts(h, snaps)));
    }
    out.to_string()
}

/// `/history.json?view=hour` (or `day`) sends one view; without it, both.
pub(super) fn history_json(h: &Health, path: &str) -> String {
    let only = path
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("view=")));
    h.history.past(only).to_string()
}
