//! What the status page reads: `/status.json` (the present, polled every 2 s) and
//! `/history.json` (the last hour and day, polled every 10 s, one view at a time: it is the larger
//! of the two).
//!
//! `/status.json` is one object: `station`, `time_ms` (the daemon's clock), `uptime_s`,
//! `sources` (each source's snapshot with its message `rates` in Hz over the last minute),
//! `sky` (every tracked satellite of the latest `satellite` epoch and of the latest solution:
//! elevation, azimuth, whether the solution used it, its best C/N0 and BeiDou orbit class), `rovers` (from their GGA, east and north of the
//! station), `events` (newest first), `station_position` (the map's centre), `parts` (every
//! part of the daemon, as `/healthz` judges it) and `monitors` (each integrity monitor's latest
//! solution, fix rates and events) and `coordinates` (the daily PPP survey: each day's
//! antenna offset E/N/U from `[station] position` with its products, and the ZTD series).

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
        m.insert("monitors".into(), monitors(h));
        m.insert("coordinates".into(), h.coordinates.json());
    }
    out.to_string()
}

/// Per integrity monitor: the latest solution (`fix` "fixed" or "float", ratio, age of
/// corrections, satellites, E/N/U error in m, how long ago in s), the fix rate since start and
/// over the window (%), wrong fixes, the time to the latest first fix, whether an event's
/// condition holds (`alarm`) and the latest event.
fn monitors(h: &Health) -> Value {
    let round = |v: f64, d: i32| (v * 10f64.powi(d)).round() / 10f64.powi(d);
    h.monitors
        .iter()
        .map(|(name, m)| {
            let m = m.get();
            let l = m.last.as_ref();
            json!({
                "name": name,
                "fix": l.map(|l| if l.fix == 1 { "fixed" } else { "float" }),
                "ratio": l.map(|l| round(l.ratio, 1)),
                "age_s": l.map(|l| round(l.age_s, 1)),
                "nsat": l.map(|l| l.nsat),
                "enu": l.map(|l| l.enu.map(|v| round(v, 4))),
                "solution_age_s": l.map(|l| round(l.at.elapsed().as_secs_f64(), 1)),
                "fixed_percent": (m.solutions > 0)
                    .then(|| round(100.0 * m.fixed as f64 / m.solutions as f64, 2)),
                "window_fix_percent": m.window_fix_percent.map(|p| round(p, 2)),
                "solutions": m.solutions,
                "wrong_fixes": m.wrong_fixes,
                "ttff_s": m.ttff_s.map(|t| round(t, 1)),
                "alarm": m.alarm || m.low_fix_rate,
                "event": m.event,
                "last_skip": m.last_skip,
            })
        })
        .collect()
}

/// `/history.json?view=hour` (or `day`) sends one view; without it, both.
pub(super) fn history_json(h: &Health, path: &str) -> String {
    let only = path
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("view=")));
    h.history.past(only).to_string()
}
