//! The daily survey's memory: one JSON line per surveyed day in the data directory, written
//! after the day's points went to the sink, so that a restart or a power cut neither repeats a
//! day nor skips one (a day cut short is surveyed again; its points overwrite themselves, same
//! series and same timestamps). The previous days' coordinates also give the trend a new day
//! is compared with.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::products_dir::Day;

/// What a day gave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayRecord {
    /// `2020-177`.
    pub day: String,
    /// `final`, `rapid`, `precise`, `ultra`, `broadcast`; `none` when the day had no solution.
    pub products: String,
    /// Marker ECEF (m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xyz: Option<[f64; 3]>,
    /// Antenna reference point from the configured position, east, north, up (m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denu: Option<[f64; 3]>,
    /// Why there is no solution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Surveyed without precise products (broadcast, or none at all): surveyed again once they
    /// arrive.
    #[serde(default)]
    pub awaiting_products: bool,
}

impl DayRecord {
    pub fn precise(&self) -> bool {
        !matches!(self.products.as_str(), "broadcast" | "none")
    }
}

/// The records of one station, by day.
#[derive(Debug)]
pub struct State {
    path: PathBuf,
    pub days: BTreeMap<Day, DayRecord>,
}

impl State {
    /// Reads the file (none yet: no day surveyed). Lines that do not parse (a write cut by a
    /// power loss) are left out, so that day is surveyed again.
    pub fn load(path: &Path) -> State {
        let mut days = BTreeMap::new();
        if let Ok(text) = std::fs::read_to_string(path) {
            for l in text.lines() {
                if let Ok(r) = serde_json::from_str::<DayRecord>(l)
                    && let Some(d) = Day::parse(&r.day)
                {
                    days.insert(d, r);
                }
            }
        }
        State {
            path: path.into(),
            days,
        }
    }

    /// Records a day and rewrites the file beside itself, then renames it over the old one.
    pub fn record(&mut self, day: Day, r: DayRecord) -> std::io::Result<()> {
        self.days.insert(day, r);
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            for r in self.days.values() {
                let line = serde_json::to_string(r).map_err(std::io::Error::other)?;
                writeln!(f, "{line}")?;
            }
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent()
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// The east, north, up offsets of up to `n` precise days before `day`, newest first.
    pub fn previous(&self, day: Day, n: usize) -> Vec<[f64; 3]> {
        self.days
            .range(..day)
            .rev()
            .filter(|(_, r)| r.precise())
            .filter_map(|(_, r)| r.denu)
            .take(n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_a_reload_and_a_torn_line() {
        let dir = std::env::temp_dir().join(format!("corsd-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("coordinates.jsonl");
        let mut s = State::load(&path);
        let d = Day {
            year: 2020,
            doy: 177,
        };
        let r = DayRecord {
            day: d.label(),
            products: "final".into(),
            xyz: Some([1.0, 2.0, 3.0]),
            denu: Some([0.01, 0.0, 0.0]),
            error: None,
            awaiting_products: false,
        };
        s.record(d, r.clone()).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"day\":\"2020-178\",\"prod");
        std::fs::write(&path, text).unwrap();
        let again = State::load(&path);
        assert_eq!(again.days.len(), 1);
        assert_eq!(again.days[&d], r);
        assert_eq!(again.previous(d.next(), 7), vec![[0.01, 0.0, 0.0]]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
