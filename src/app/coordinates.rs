//! The daily coordinate series the status page shows (`coordinates` in `/status.json`): each
//! surveyed day's antenna offset east, north, up from `[station] position` with its products,
//! and the zenith total delay every 5 min of the latest surveyed days. Filled from the survey's
//! record at start-up and from each day as it is surveyed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::station::survey::state::{DayRecord, State};
use crate::telemetry::{Field, Point};

/// Days shown.
const DAYS: usize = 60;
/// ZTD points kept: a week at one per 5 min.
const ZTD_POINTS: usize = 7 * 288;

#[derive(Default)]
pub struct Coordinates {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Day label → (products, offsets E/N/U in m).
    days: BTreeMap<String, (String, Option<[f64; 3]>)>,
    /// (UTC ms, ZTD m).
    ztd: VecDeque<(i64, f64)>,
}

impl Coordinates {
    pub fn load(&self, state: &State) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for r in state.days.values() {
            g.days.insert(r.day.clone(), (r.products.clone(), r.denu));
        }
        while g.days.len() > DAYS {
            g.days.pop_first();
        }
    }

    pub fn observe(&self, record: &DayRecord, points: &[Point]) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.days
            .insert(record.day.clone(), (record.products.clone(), record.denu));
        while g.days.len() > DAYS {
            g.days.pop_first();
        }
        let mut v: Vec<(i64, f64)> = points
            .iter()
            .filter(|p| p.measurement == "troposphere")
            .filter_map(|p| {
                p.fields.iter().find_map(|(k, v)| match (k, v) {
                    (&"ztd_m", Field::Float(z)) => Some((p.time_ns / 1_000_000, *z)),
                    _ => None,
                })
            })
            .collect();
        // A day surveyed again (precise products after broadcast ones): its new values first,
        // so that they are the ones kept.
        v.extend(g.ztd.drain(..));
        v.sort_by_key(|x| x.0);
        v.dedup_by_key(|x| x.0);
        let skip = v.len().saturating_sub(ZTD_POINTS);
        g.ztd = v.into_iter().skip(skip).collect();
    }

    /// `{"days": [{"day", "products", "enu"}], "ztd": [[time_ms, ztd_m], …]}`.
    pub fn json(&self) -> Value {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let round = |v: f64| (v * 1e4).round() / 1e4;
        json!({
            "days": g.days.iter().map(|(d, (p, enu))| json!({
                "day": d,
                "products": p,
                "enu": enu.map(|e| e.map(round)),
            })).collect::<Vec<_>>(),
            "ztd": g.ztd.iter().map(|(t, z)| json!([t, round(*z)])).collect::<Vec<_>>(),
        })
    }
}
