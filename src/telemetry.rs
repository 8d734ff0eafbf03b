//! Time-series points (DESIGN §4) and their InfluxDB line-protocol encoding.
//!
//! Timestamps are UTC nanoseconds derived from the GNSS time of the data, never from the wall
//! clock when data time exists: a replayed log gives the same points, with the same timestamps and
//! tags, every time, so a second replay into InfluxDB overwrites instead of duplicating.
//!
//! Escaping follows the line-protocol rules: measurement names escape `,` and space; tag keys,
//! tag values and field keys escape `,`, `=` and space; string field values are quoted with `"`
//! and `\` escaped. Non-finite floats have no line-protocol form and are left out of the point
//! (a point whose fields are all left out is not written at all).

use std::fmt::Write as _;
use std::sync::Mutex;

use crate::gnss::time::{Gpst, leap_seconds_at};

/// A field value.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Float(f64),
    Int(i64),
    Bool(bool),
    Str(String),
}

impl From<f64> for Field {
    fn from(v: f64) -> Self {
        Field::Float(v)
    }
}
impl From<i64> for Field {
    fn from(v: i64) -> Self {
        Field::Int(v)
    }
}
impl From<u64> for Field {
    fn from(v: u64) -> Self {
        Field::Int(v.min(i64::MAX as u64) as i64)
    }
}
impl From<usize> for Field {
    fn from(v: usize) -> Self {
        Field::Int(v.min(i64::MAX as usize) as i64)
    }
}
impl From<bool> for Field {
    fn from(v: bool) -> Self {
        Field::Bool(v)
    }
}
impl From<String> for Field {
    fn from(v: String) -> Self {
        Field::Str(v)
    }
}
impl From<&str> for Field {
    fn from(v: &str) -> Self {
        Field::Str(v.to_string())
    }
}

/// One point of one measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub measurement: &'static str,
    /// Tags in the order they are written (sorted by key when encoded, as InfluxDB prefers).
    pub tags: Vec<(&'static str, String)>,
    pub fields: Vec<(&'static str, Field)>,
    /// UTC, nanoseconds since 1970.
    pub time_ns: i64,
}

impl Point {
    pub fn new(measurement: &'static str, time_ns: i64) -> Self {
        Point {
            measurement,
            tags: Vec::new(),
            fields: Vec::new(),
            time_ns,
        }
    }
    pub fn tag(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.tags.push((key, value.into()));
        self
    }
    pub fn field(mut self, key: &'static str, value: impl Into<Field>) -> Self {
        self.fields.push((key, value.into()));
        self
    }
    /// A field that exists only when the value does.
    pub fn field_opt(self, key: &'static str, value: Option<impl Into<Field>>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    /// A numeric field's value (an integer as a float); `None` when absent or not a number.
    pub fn number(&self, key: &str) -> Option<f64> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| match v {
                Field::Float(f) => Some(*f),
                Field::Int(i) => Some(*i as f64),
                _ => None,
            })
    }

    /// Append the point as one line (with its newline) to `out`; nothing when no field is
    /// writable.
    pub fn write_line(&self, out: &mut String) {
        let start = out.len();
        escape_into(out, self.measurement, &[',', ' ']);
        let mut tags: Vec<&(&str, String)> =
            self.tags.iter().filter(|(_, v)| !v.is_empty()).collect();
        tags.sort_by_key(|(k, _)| *k);
        for (k, v) in tags {
            out.push(',');
            escape_into(out, k, &[',', '=', ' ']);
            out.push('=');
            escape_into(out, v, &[',', '=', ' ']);
        }
        let mut first = true;
        for (k, v) in &self.fields {
            if let Field::Float(f) = v
                && !f.is_finite()
            {
                continue;
            }
            out.push(if first { ' ' } else { ',' });
            first = false;
            escape_into(out, k, &[',', '=', ' ']);
            out.push('=');
            match v {
                // `{}` on f64 prints the shortest text that reads back to the same value.
                Field::Float(f) => {
                    let _ = write!(out, "{f}");
                }
                Field::Int(i) => {
                    let _ = write!(out, "{i}i");
                }
                Field::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Field::Str(s) => {
                    out.push('"');
                    for c in s.chars() {
                        match c {
                            '"' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            // A newline would end the line: line protocol has no escape for it.
                            '\n' | '\r' => out.push(' '),
                            c => out.push(c),
                        }
                    }
                    out.push('"');
                }
            }
        }
        if first {
            out.truncate(start);
            return;
        }
        let _ = writeln!(out, " {}", self.time_ns);
    }

    /// The point as a line (with newline), or an empty string.
    pub fn to_line(&self) -> String {
        let mut s = String::new();
        self.write_line(&mut s);
        s
    }
}

fn escape_into(out: &mut String, s: &str, special: &[char]) {
    for c in s.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        match c {
            // A backslash at the end of a value would escape the separator after it.
            '\\' => out.push('/'),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// UTC nanoseconds of a GPS time (leap seconds from the table).
pub fn gpst_to_unix_ns(t: Gpst) -> i64 {
    // GPST 0 = 1980-01-06T00:00:00Z = Unix 315 964 800.
    let secs = t.secs() - leap_seconds_at(t) + 315_964_800;
    secs * 1_000_000_000 + (t.frac() * 1e9).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_types() {
        let p = Point::new("my meas,x", 1_500_000_000_000_000_000)
            .tag("sta tion", "A=B,C")
            .tag("empty", "")
            .field("f", 1.5)
            .field("nan", f64::NAN)
            .field("i", 7i64)
            .field("b", true)
            .field("s", "say \"hi\"\\ now\n");
        assert_eq!(
            p.to_line(),
            "my\\ meas\\,x,sta\\ tion=A\\=B\\,C f=1.5,i=7i,b=true,s=\"say \\\"hi\\\"\\\\ now \" 1500000000000000000\n"
        );
    }

    #[test]
    fn tags_sorted_and_no_fields_no_line() {
        let p = Point::new("m", 1)
            .tag("z", "1")
            .tag("a", "2")
            .field("v", 0.1);
        assert_eq!(p.to_line(), "m,a=2,z=1 v=0.1 1\n");
        let empty = Point::new("m", 1).field("v", f64::INFINITY);
        assert_eq!(empty.to_line(), "");
    }

    #[test]
    fn gps_to_unix() {
        // 2018-07-15T00:00:00Z is GPS week 2010, TOW 18 (18 leap seconds).
        let t = Gpst::from_week_tow(2010, 18.0);
        assert_eq!(gpst_to_unix_ns(t), 1_531_612_800 * 1_000_000_000);
    }
}

/// A part's present problem and the last one it had: `/healthz` shows the first while it lasts,
/// the status page keeps the second after the part recovers.
#[derive(Debug, Default)]
pub struct Problem {
    now: Mutex<Option<String>>,
    last: Mutex<Option<String>>,
}

impl Problem {
    /// `Some` while the part fails; `true` when this call starts or ends a failure, so the caller
    /// logs once per episode.
    pub fn set(&self, problem: Option<String>) -> bool {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = &problem {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.clone());
        }
        let changed = now.is_some() != problem.is_some();
        *now = problem;
        changed
    }

    pub fn now(&self) -> Option<String> {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn last(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
