//! Satellite clocks from RINEX clock files (Ray & Gurtner, "RINEX Extensions to Handle Clock
//! Information", version 3.00 and 3.04): the `AS` records (satellite clock bias, seconds).
//!
//! Fields are read by whitespace, which covers both the 3.00 layout (3-character names) and the
//! 3.04 one (4 characters). A clock is interpolated linearly, and only between two records at
//! most [`MAX_GAP_INTERVALS`] nominal intervals apart: a satellite clock wanders by decimetres
//! over minutes, so a longer bridge would be a silent error. A satellite or an instant the file
//! does not cover is an error that says which and why.

use super::sp3::to_gpst;
use super::time::Gpst;
use super::{Gnss, SatMap, sat_name};

/// Linear interpolation bridges records at most this many nominal intervals apart.
pub const MAX_GAP_INTERVALS: f64 = 2.0;

/// What went wrong reading a clock file or looking a clock up.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// The first line is not a RINEX clock version line.
    #[error("not a RINEX clock file (first line {first:?})")]
    NotClock { first: String },
    /// A line could not be read.
    #[error("RINEX clock line {line}: {what}")]
    Line { line: usize, what: String },
    /// The file has no satellite clock record.
    #[error("RINEX clock file has no satellite (AS) records")]
    NoRecords,
    /// The file has no satellite clock record of the systems asked for.
    #[error("RINEX clock file has no satellite (AS) records of the systems {0}")]
    NoSystems(String),
    /// The satellite has no record in the file.
    #[error("satellite {sat} has no clock in the file")]
    NoSatellite { sat: String },
    /// The instant lies outside the satellite's records.
    #[error("{sat} at {t}: outside its clock records ({first} to {last})")]
    OutsideData {
        sat: String,
        t: String,
        first: String,
        last: String,
    },
    /// The records around the instant are too far apart to interpolate.
    #[error("{sat} at {t}: clock records {before} and {after} are more than {limit_s} s apart")]
    Gap {
        sat: String,
        t: String,
        before: String,
        after: String,
        limit_s: f64,
    },
}

/// The satellite clocks of one RINEX clock file.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockFile {
    /// Format version (3.0, 3.04).
    pub version: f64,
    /// The file's time system (`GPS` when the header names none).
    pub time_system: String,
    /// Analysis centre code (`GRG`).
    pub agency: String,
    /// Nominal record interval (s): the most common spacing between a satellite's records.
    pub interval_s: f64,
    series: SatMap<(Gnss, u8), Vec<(Gpst, f64)>>,
}

impl ClockFile {
    /// Reads RINEX clock text (the caller reads and decompresses the file).
    pub fn parse(text: &str) -> Result<ClockFile, ClockError> {
        parse(text, None)
    }

    /// [`parse`](Self::parse) keeping only the satellites of `systems`: the other records are
    /// passed over once their satellite is read.
    pub fn parse_of(text: &str, systems: &[Gnss]) -> Result<ClockFile, ClockError> {
        parse(text, Some(systems))
    }

    /// Satellites with at least one record, sorted.
    pub fn satellites(&self) -> Vec<(Gnss, u8)> {
        let mut v: Vec<_> = self.series.keys().copied().collect();
        v.sort();
        v
    }

    /// A satellite's records (time, bias in s), in time order.
    pub fn records(&self, sys: Gnss, prn: u8) -> &[(Gpst, f64)] {
        self.series.get(&(sys, prn)).map_or(&[], Vec::as_slice)
    }

    /// The satellite clock bias at `t` (s): the record itself at a record's instant, otherwise
    /// linear between the two records around `t` when they are close enough.
    pub fn bias(&self, sys: Gnss, prn: u8, t: Gpst) -> Result<f64, ClockError> {
        let sat = || sat_name(sys, prn);
        let recs = self
            .series
            .get(&(sys, prn))
            .ok_or_else(|| ClockError::NoSatellite { sat: sat() })?;
        let (Some(first), Some(last)) = (recs.first(), recs.last()) else {
            return Err(ClockError::NoSatellite { sat: sat() });
        };
        if t.diff(first.0) < 0.0 || t.diff(last.0) > 0.0 {
            return Err(ClockError::OutsideData {
                sat: sat(),
                t: show(t),
                first: show(first.0),
                last: show(last.0),
            });
        }
        let k = recs.partition_point(|r| r.0.diff(t) <= 0.0);
        let (t0, c0) = recs[k.saturating_sub(1)];
        let dt = t.diff(t0);
        if dt == 0.0 {
            return Ok(c0);
        }
        // t is after t0 and not after the last record, so record k exists.
        let (t1, c1) = recs[k];
        let span = t1.diff(t0);
        let limit_s = MAX_GAP_INTERVALS * self.interval_s;
        if span > limit_s + 1e-6 {
            return Err(ClockError::Gap {
                sat: sat(),
                t: show(t),
                before: show(t0),
                after: show(t1),
                limit_s,
            });
        }
        Ok(c0 + (c1 - c0) * dt / span)
    }
}

fn show(t: Gpst) -> String {
    t.calendar().format("%Y-%m-%d %H:%M:%S GPST").to_string()
}

fn parse(text: &str, keep: Option<&[Gnss]>) -> Result<ClockFile, ClockError> {
    let mut lines = super::lines::lines(text).enumerate();
    let first = lines.next().map(|(_, l)| l).unwrap_or("");
    let label = |l: &str| l.get(60..).unwrap_or("").trim().to_string();
    if label(first) != "RINEX VERSION / TYPE" || !first.get(20..40).unwrap_or("").contains('C') {
        return Err(ClockError::NotClock {
            first: first.chars().take(60).collect(),
        });
    }
    let bad = |line: usize, what: String| ClockError::Line {
        line: line + 1,
        what,
    };
    let version = first
        .get(..9)
        .unwrap_or("")
        .trim()
        .parse()
        .map_err(|_| bad(0, "version".into()))?;
    let mut out = ClockFile {
        version,
        time_system: "GPS".into(),
        agency: String::new(),
        interval_s: 0.0,
        series: SatMap::default(),
    };
    let mut in_header = true;
    let mut last_epoch: Option<([&str; 6], Gpst)> = None;
    let mut any_record = false;
    for (ln, line) in lines {
        if in_header {
            match label(line).as_str() {
                "END OF HEADER" => in_header = false,
                "TIME SYSTEM ID" => out.time_system = line.get(..60).unwrap_or("").trim().into(),
                "ANALYSIS CENTER" => out.agency = line.get(..3).unwrap_or("").trim().into(),
                _ => {}
            }
            continue;
        }
        if !line.starts_with("AS") {
            // Receiver (AR), calibration and other records, and continuation lines of records
            // with more than two values.
            continue;
        }
        // Ten fields: AS, name, the epoch (6), the number of values, the bias.
        let mut f = [""; 10];
        let mut words = line.split_ascii_whitespace();
        let mut nf = 0;
        for (slot, x) in f.iter_mut().zip(words.by_ref().take(2)) {
            *slot = x;
            nf += 1;
        }
        // A satellite of another system: passed over before the rest of its line is split.
        if let Some((sys, _)) = satellite(f[1])
            && keep.is_some_and(|keep| !keep.contains(&sys))
        {
            any_record = true;
            continue;
        }
        for x in words {
            if let Some(slot) = f.get_mut(nf) {
                *slot = x;
            }
            nf += 1;
        }
        if nf < 10 {
            return Err(bad(ln, format!("{nf} fields in an AS record")));
        }
        let Some(sat) = satellite(f[1]) else {
            return Err(bad(ln, format!("satellite {:?}", f[1])));
        };
        any_record = true;
        // The records of one epoch follow each other: the time is converted once.
        let t = match last_epoch {
            Some((e, t)) if e == f[2..8] => t,
            _ => {
                let n = |i: usize| f[i].parse::<u32>().ok();
                let t = (|| {
                    to_gpst(
                        &out.time_system,
                        f[2].parse().ok()?,
                        n(3)?,
                        n(4)?,
                        n(5)?,
                        n(6)?,
                        f[7].parse().ok()?,
                    )
                })()
                .ok_or_else(|| bad(ln, "epoch".into()))?
                .map_err(|s| bad(ln, format!("time system {s:?}")))?;
                last_epoch = Some(([f[2], f[3], f[4], f[5], f[6], f[7]], t));
                t
            }
        };
        let bias: f64 = f[9]
            .parse()
            .ok()
            .or_else(|| f[9].replace(['D', 'd'], "E").parse().ok())
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(ln, format!("clock bias {:?}", f[9])))?;
        let series = out.series.entry(sat).or_default();
        match series.last() {
            Some(&(last, _)) if last.diff(t) >= 0.0 => {
                return Err(bad(ln, format!("{} repeated or out of order", f[1])));
            }
            _ => series.push((t, bias)),
        }
    }
    if out.series.is_empty() {
        return Err(match keep {
            Some(keep) if any_record => {
                ClockError::NoSystems(keep.iter().map(|g| g.letter()).collect())
            }
            _ => ClockError::NoRecords,
        });
    }
    out.interval_s = nominal_interval(&out.series);
    Ok(out)
}

/// The most common spacing (to the millisecond) between consecutive records of a satellite.
fn nominal_interval(series: &SatMap<(Gnss, u8), Vec<(Gpst, f64)>>) -> f64 {
    let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
    for recs in series.values() {
        for w in recs.windows(2) {
            *counts
                .entry((w[1].0.diff(w[0].0) * 1e3).round() as i64)
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(ms, n)| (n, -ms))
        .map_or(0.0, |(ms, _)| ms as f64 * 1e-3)
}

fn satellite(code: &str) -> Option<(Gnss, u8)> {
    let sys = Gnss::from_letter(code.chars().next()?)?;
    let n: u8 = code.get(1..)?.parse().ok()?;
    let prn = match sys {
        Gnss::Qzss => n.checked_add(192)?,
        Gnss::Sbas => n.checked_add(100)?,
        _ => n,
    };
    Some((sys, prn))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "     3.00           CLOCK DATA          G                   RINEX VERSION / TYPE
   GPS                                                      TIME SYSTEM ID
GRG  CNES/CLS TOULOUSE,FRANCE                               ANALYSIS CENTER
                                                            END OF HEADER
";

    fn file(records: &[(u32, u32, &str, f64)]) -> String {
        let mut s = HEAD.to_string();
        for &(m, sec, sat, v) in records {
            s += &format!("AS {sat}  2020  6 25  0 {m:2} {sec:9}.000000  1   {v:.12E}\n");
        }
        s
    }

    fn at(m: u32, s: f64) -> Gpst {
        Gpst::from_calendar(2020, 6, 25, 0, m, s).unwrap()
    }

    #[test]
    fn nodes_interpolation_and_gaps() {
        let c = ClockFile::parse(&file(&[
            (0, 0, "G01", 1e-4),
            (0, 30, "G01", 2e-4),
            (1, 0, "G01", 4e-4),
            (3, 0, "G01", 5e-4),
            (0, 0, "G02", 7e-4),
        ]))
        .unwrap();
        assert_eq!((c.interval_s, c.agency.as_str()), (30.0, "GRG"));
        assert_eq!(c.bias(Gnss::Gps, 1, at(0, 30.0)).unwrap(), 2e-4);
        let v = c.bias(Gnss::Gps, 1, at(0, 45.0)).unwrap();
        assert!((v - 3e-4).abs() < 1e-18);
        let e = c.bias(Gnss::Gps, 1, at(2, 0.0)).unwrap_err();
        assert!(matches!(e, ClockError::Gap { limit_s: 60.0, .. }), "{e}");
        let e = c.bias(Gnss::Gps, 1, at(3, 1.0)).unwrap_err();
        assert!(matches!(e, ClockError::OutsideData { .. }), "{e}");
        let e = c.bias(Gnss::Gps, 3, at(0, 0.0)).unwrap_err();
        assert_eq!(e.to_string(), "satellite G03 has no clock in the file");
        assert_eq!(c.satellites(), vec![(Gnss::Gps, 1), (Gnss::Gps, 2)]);
    }

    #[test]
    fn bad_input() {
        assert!(matches!(
            ClockFile::parse("#cP2020"),
            Err(ClockError::NotClock { .. })
        ));
        assert_eq!(ClockFile::parse(HEAD), Err(ClockError::NoRecords));
        let e = ClockFile::parse(&file(&[(0, 0, "G01", 1e-4)]).replace("E-4", "X")).unwrap_err();
        assert!(e.to_string().starts_with("RINEX clock line 5"), "{e}");
    }
}
