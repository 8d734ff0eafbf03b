//! What a decode run saw, printed on stderr at the end.
//!
//! Frames are counted under small keys (the RTCM message number indexes an array, UBX class and
//! id are two bytes); names are made only when the summary is printed. A sentence type or an
//! error kind is stored as a string the first time it is seen and found again by comparison.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};

use crate::framing::FramerStats;

/// RTCM message numbers are 12 bits.
const RTCM_NUMBERS: usize = 1 << 12;

#[derive(Debug)]
pub struct Summary {
    rtcm: Vec<u64>,
    ubx: Vec<((u8, u8), u64)>,
    nmea: Vec<(String, u64)>,
    nmea_undecoded: u64,
    errors: Vec<ErrorCount>,
    /// Scratch for an error's key while it is looked up.
    key: String,
}

#[derive(Debug)]
struct ErrorCount {
    key: String,
    count: u64,
    first: String,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            rtcm: vec![0; RTCM_NUMBERS],
            ubx: Vec::new(),
            nmea: Vec::new(),
            nmea_undecoded: 0,
            errors: Vec::new(),
            key: String::new(),
        }
    }
}

impl Summary {
    pub fn rtcm(&mut self, number: u16) {
        // Numbers come from 12 bits; a larger one would only be a caller's mistake.
        if let Some(n) = self.rtcm.get_mut(usize::from(number)) {
            *n += 1;
        }
    }

    pub fn ubx(&mut self, class: u8, id: u8) {
        match self.ubx.iter_mut().find(|(k, _)| *k == (class, id)) {
            Some((_, n)) => *n += 1,
            None => self.ubx.push(((class, id), 1)),
        }
    }

    pub fn nmea(&mut self, kind: &str) {
        match self.nmea.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += 1,
            None => self.nmea.push((kind.to_string(), 1)),
        }
    }

    pub fn nmea_undecoded(&mut self) {
        self.nmea_undecoded += 1;
    }

    /// Count a decode error under `key`, keeping the text of the first one.
    pub fn error(&mut self, key: fmt::Arguments<'_>, what: &dyn fmt::Display) {
        self.key.clear();
        // Writing into a String cannot fail.
        let _ = self.key.write_fmt(key);
        match self.errors.iter_mut().find(|e| e.key == self.key) {
            Some(e) => e.count += 1,
            None => self.errors.push(ErrorCount {
                key: self.key.clone(),
                count: 1,
                first: what.to_string(),
            }),
        }
    }

    /// Frames per name, in the order of the names.
    fn frames(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        let mut add = |k: String, n: u64| *m.entry(k).or_insert(0) += n;
        for (number, &n) in self.rtcm.iter().enumerate() {
            if n > 0 {
                add(number.to_string(), n);
            }
        }
        for &((class, id), n) in &self.ubx {
            add(format!("UBX {class:02X}-{id:02X}"), n);
        }
        for (kind, n) in &self.nmea {
            add(kind.clone(), *n);
        }
        if self.nmea_undecoded > 0 {
            add("NMEA (undecoded)".to_string(), self.nmea_undecoded);
        }
        m
    }

    pub fn print(&self, stats: &FramerStats) {
        let frames = self.frames();
        let mut err = io::stderr().lock();
        let total: u64 = frames.values().sum();
        let _ = writeln!(err, "frames: {total}");
        for (k, n) in &frames {
            let _ = writeln!(err, "  {k:<18} {n}");
        }
        let _ = writeln!(
            err,
            "framer: {}",
            serde_json::to_string(stats).unwrap_or_default()
        );
        if !self.errors.is_empty() {
            let _ = writeln!(err, "decode errors:");
            let by_key: BTreeMap<&str, &ErrorCount> =
                self.errors.iter().map(|e| (e.key.as_str(), e)).collect();
            for (k, e) in by_key {
                let _ = writeln!(err, "  {k:<18} {}  (first: {})", e.count, e.first);
            }
        }
    }
}
