//! A static PPP survey of the station's marker from recorded observations, shared by
//! `corsd survey` and the daemon's daily coordinate monitoring ([`daily`]): the [`recording`]s
//! read as one session, the products parsed and checked against its span, the receiver
//! antenna found in the ANTEX file, and the epochs run through the engine
//! ([`crate::gnss::ppp`]). Every refusal names the file and the problem: a survey never runs on
//! inputs that would give a silently wrong coordinate. Errors are plain text for the caller to
//! prefix (a command-line flag, a directory).

pub mod daily;
pub mod products_dir;
pub mod recording;
pub mod state;
pub mod stream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::antex::{Antenna, Antex};
use crate::gnss::clk::ClockFile;
use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::Epoch;
use crate::gnss::ppp::{Ppp, PppEpoch, Products};
use crate::gnss::rtk::signals::{default_bands, pick};
use crate::gnss::sp3::Sp3;
use crate::gnss::time::Gpst;

type Result<T> = std::result::Result<T, String>;

/// Phase errors that the filter takes as white (multipath, orbit and clock errors, mismodelled
/// troposphere) stay correlated over about this long (s).
pub const CORRELATION_S: f64 = 600.0;

/// The factor from the filter's formal sigmas to honest ones: the square root of the epochs per
/// correlation time, since only that many epochs carry independent information. On the ESBC
/// day it brings the formal sigma of 6 h sessions within a factor 2 of their scatter (without it
/// the filter claims 3 mm against 2 cm).
pub fn sigma_scale(interval_s: f64) -> f64 {
    if interval_s > 0.0 {
        (CORRELATION_S / interval_s).max(1.0).sqrt()
    } else {
        1.0
    }
}

/// The observations of the session.
pub struct Session {
    pub epochs: Vec<Epoch>,
    pub arp: Option<[f64; 3]>,
    pub eccentricity_enu: [f64; 3],
    pub antenna: Option<String>,
    pub marker: Option<String>,
    /// The ephemerides RTCM3 recordings carried (none from RINEX observation files).
    pub store: EphemerisStore,
}

impl Session {
    pub fn first(&self) -> Gpst {
        self.epochs[0].time
    }
    pub fn last(&self) -> Gpst {
        self.epochs[self.epochs.len() - 1].time
    }
    /// The shortest spacing of epochs (s), 0 for one epoch.
    pub fn interval(&self) -> f64 {
        let i = self
            .epochs
            .windows(2)
            .map(|w| w[1].time.diff(w[0].time))
            .fold(f64::INFINITY, f64::min);
        if i.is_finite() { i } else { 0.0 }
    }
}

/// All observation files as one session, in time order without repeated epochs; `notes`
/// receives what the reader had to say (the antenna height note aside: the survey solves the
/// marker). `reference` dates RTCM3 streams that carry no 1013 message.
pub fn observations(
    paths: &[PathBuf],
    reference: Option<Gpst>,
    systems: &[Gnss],
    notes: &mut Vec<String>,
) -> Result<Session> {
    let mut session: Option<Session> = None;
    for path in paths {
        let rec = recording::read_of(path, reference, Some(systems))?;
        notes.extend(
            rec.notes
                .iter()
                .filter(|n| !n.contains("antenna height"))
                .cloned(),
        );
        match &mut session {
            None => {
                session = Some(Session {
                    epochs: rec.epochs,
                    arp: rec.arp,
                    eccentricity_enu: rec.eccentricity_enu,
                    antenna: rec.antenna,
                    marker: rec.marker,
                    store: rec.store,
                })
            }
            Some(s) => {
                s.epochs.extend(rec.epochs);
                for e in rec.store.all() {
                    s.store.insert(e.clone());
                }
                if s.antenna.is_none() {
                    s.antenna = rec.antenna;
                }
                if s.arp.is_none() {
                    s.arp = rec.arp;
                }
            }
        }
    }
    let Some(mut s) = session else {
        return Err("no observation file".into());
    };
    s.epochs.sort_by(|a, b| a.time.diff(b.time).total_cmp(&0.0));
    s.epochs.dedup_by(|a, b| a.time == b.time);
    Ok(s)
}

/// Keeps the epochs on whole multiples of `interval_s` of GPS time (a 1 Hz day becomes 30 s:
/// the filter gains nothing from the rest but time).
pub fn decimate(session: &mut Session, interval_s: f64) {
    if interval_s <= 1.0 {
        return;
    }
    let every = interval_s.round() as i64;
    session.epochs.retain(|e| {
        // Receivers date 1 Hz epochs a few nanoseconds either side of the second.
        let (s, f) = (e.time.secs(), e.time.frac());
        let s = if f > 0.5 { s + 1 } else { s };
        !(0.01..=0.99).contains(&f) && s.rem_euclid(every) == 0
    });
}

/// ANTEX files read and merged, the first file's receiver antennas ahead of the next's; only the
/// receiver antenna `receiver` (a descriptor) is kept when given, which spares parsing the
/// grids of every other antenna. Each file's warnings are prefixed with `label` and its path.
pub fn read_antex(paths: &[PathBuf], label: &str, receiver: Option<&str>) -> Result<Antex> {
    let mut merged: Option<Antex> = None;
    for path in paths {
        let at = |e: &dyn std::fmt::Display| format!("{label} {}: {e}", path.display());
        let text = text_of(label, path)?;
        let mut antex = match receiver {
            Some(d) => Antex::parse_receivers(&text, &[d]),
            None => Antex::parse(&text),
        }
        .map_err(|e| at(&e))?;
        for w in &mut antex.warnings {
            *w = at(w);
        }
        match &mut merged {
            Some(m) => m.merge(antex),
            None => merged = Some(antex),
        }
    }
    merged.ok_or_else(|| format!("{label}: no ANTEX file given"))
}

fn text_of(label: &str, path: &Path) -> Result<String> {
    crate::rinex::read_text(path).map_err(|e| format!("{label} {}: {e}", path.display()))
}

/// Parses SP3 files (joined in time order; all must be of one frame) and clock files, keeping
/// the clocks of `systems` only when given; `labels` name the two kinds in messages (`--sp3`,
/// `--clk`).
pub fn parse_products(
    sp3: &[PathBuf],
    clk: &[PathBuf],
    systems: Option<&[Gnss]>,
    labels: (&str, &str),
) -> Result<(Sp3, Vec<ClockFile>)> {
    let mut orbits: Vec<Sp3> = Vec::new();
    for path in sp3 {
        let o = Sp3::parse(&text_of(labels.0, path)?)
            .map_err(|e| format!("{} {}: {e}", labels.0, path.display()))?;
        orbits.push(o);
    }
    if orbits.is_empty() {
        return Err(format!("{}: no orbit file", labels.0));
    }
    orbits.sort_by(|a, b| span_sp3(a).0.diff(span_sp3(b).0).total_cmp(&0.0));
    let mut joined = orbits.remove(0);
    for o in orbits {
        joined
            .append(o)
            .map_err(|e| format!("{}: cannot join the files: {e}", labels.0))?;
    }
    let mut clocks = Vec::new();
    for path in clk {
        let text = text_of(labels.1, path)?;
        let c = match systems {
            Some(systems) => ClockFile::parse_of(&text, systems),
            None => ClockFile::parse(&text),
        };
        match c {
            Ok(c) => clocks.push(c),
            // A file of other systems only: the per-system check that follows says which system
            // lacks clocks and what the products offer instead.
            Err(crate::gnss::clk::ClockError::NoSystems(_)) => {}
            Err(e) => return Err(format!("{} {}: {e}", labels.1, path.display())),
        }
    }
    Ok((joined, clocks))
}

/// Orbits and clocks, checked against the observations' span.
pub fn check_products(
    (joined, clocks): (Sp3, Vec<ClockFile>),
    session: &Session,
    labels: (&str, &str),
    warnings: &mut Vec<String>,
) -> Result<Products> {
    let (first, last) = (session.first(), session.last());
    let (o0, o1) = span_sp3(&joined);
    if o1.diff(first) < 0.0 || last.diff(o0) < 0.0 {
        return Err(format!(
            "{}: the orbits cover {} to {}, the observations {} to {}: products for another day",
            labels.0,
            fmt(o0),
            fmt(o1),
            fmt(first),
            fmt(last)
        ));
    }
    let Some((c0, c1)) = clocks
        .iter()
        .map(span_clk)
        .reduce(|a, b| (earlier(a.0, b.0), later(a.1, b.1)))
    else {
        return Err(format!("{}: no clock file", labels.1));
    };
    if c1.diff(first) < 0.0 || last.diff(c0) < 0.0 {
        return Err(format!(
            "{}: the clocks cover {} to {}, the observations {} to {}: products for another day",
            labels.1,
            fmt(c0),
            fmt(c1),
            fmt(first),
            fmt(last)
        ));
    }
    if first.diff(o0) < 0.0 || o1.diff(last) < 0.0 || first.diff(c0) < 0.0 || c1.diff(last) < 0.0 {
        warnings.push(format!(
            "the products cover only part of the observations (orbits {} to {}, clocks {} to {}): epochs outside are not solved",
            fmt(o0),
            fmt(o1),
            fmt(c0),
            fmt(c1)
        ));
    }
    Ok(Products {
        orbits: joined,
        clocks,
    })
}

pub fn fmt(t: Gpst) -> String {
    t.calendar().format("%Y-%m-%d %H:%M:%S GPST").to_string()
}

fn earlier(a: Gpst, b: Gpst) -> Gpst {
    if a.diff(b) <= 0.0 { a } else { b }
}

fn later(a: Gpst, b: Gpst) -> Gpst {
    if a.diff(b) >= 0.0 { a } else { b }
}

/// The first and last node of any satellite.
pub fn span_sp3(s: &Sp3) -> (Gpst, Gpst) {
    let mut span: Option<(Gpst, Gpst)> = None;
    for &(sys, prn) in &s.satellites {
        let nodes = s.nodes(sys, prn);
        if let (Some(a), Some(b)) = (nodes.first(), nodes.last()) {
            span = Some(match span {
                None => (a.t, b.t),
                Some((x, y)) => (earlier(x, a.t), later(y, b.t)),
            });
        }
    }
    span.unwrap_or((Gpst::new(0, 0.0), Gpst::new(0, 0.0)))
}

/// The first and last record of any satellite.
pub fn span_clk(c: &ClockFile) -> (Gpst, Gpst) {
    let mut span: Option<(Gpst, Gpst)> = None;
    for (sys, prn) in c.satellites() {
        let r = c.records(sys, prn);
        if let (Some(a), Some(b)) = (r.first(), r.last()) {
            span = Some(match span {
                None => (a.0, b.0),
                Some((x, y)) => (earlier(x, a.0), later(y, b.0)),
            });
        }
    }
    span.unwrap_or((Gpst::new(0, 0.0), Gpst::new(0, 0.0)))
}

/// The receiver antenna named in the observations' header, from the ANTEX file read from
/// `path` (named in messages as `label PATH`).
pub fn receiver_antenna(
    antex: &Antex,
    label: &str,
    paths: &[PathBuf],
    session: &Session,
    first_file: &Path,
) -> Result<Antenna> {
    let Some(name) = &session.antenna else {
        return Err(format!(
            "{}: no antenna type in the header (ANT # / TYPE): the phase centre would be a guess, several centimetres in height",
            first_file.display()
        ));
    };
    antex
        .receiver_by_descriptor(name)
        .map_err(|e| {
            let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            format!(
                "{label} {}: {e}: the coordinate would be off by the antenna's phase-centre offset (typically 5-15 cm in height); give an ANTEX file that calibrates it",
                paths.join(" ")
            )
        })
        .cloned()
}

/// Refuses observations without dual-frequency phase in the chosen systems.
pub fn require_phase(session: &Session, systems: &[Gnss], first_file: &Path) -> Result<()> {
    let ok = session.epochs.iter().any(|e| {
        e.sats.iter().any(|s| {
            systems.contains(&s.sys)
                && default_bands(s.sys)
                    .is_some_and(|[a, b]| pick(s, a).is_some() && pick(s, b).is_some())
        })
    });
    if !ok {
        let letters: String = systems.iter().map(|s| s.letter()).collect();
        return Err(format!(
            "{}: no carrier phase with code on two bands for systems {letters}: PPP needs dual-frequency phase observations",
            first_file.display()
        ));
    }
    Ok(())
}

/// The engine's solutions and why the other epochs gave none.
pub struct Solved {
    pub solutions: Vec<PppEpoch>,
    pub skips: BTreeMap<String, usize>,
}

/// Runs every epoch through the engine; `go_on` is asked every few hundred epochs and stops
/// the run when it says no (the daemon's shutdown).
pub fn solve(ppp: &mut Ppp, epochs: &[Epoch], go_on: &dyn Fn() -> bool) -> Option<Solved> {
    let mut solutions: Vec<PppEpoch> = Vec::with_capacity(epochs.len());
    let mut skips: BTreeMap<String, usize> = BTreeMap::new();
    for (i, e) in epochs.iter().enumerate() {
        if i % 256 == 0 && !go_on() {
            return None;
        }
        match ppp.process(e) {
            Ok(s) => solutions.push(s),
            Err(why) => *skips.entry(why.to_string()).or_default() += 1,
        }
    }
    Some(Solved { solutions, skips })
}

/// Why no epoch was solved, one reason per line.
pub fn no_solution(ppp: &Ppp, solved: &Solved, epochs: usize, what: &Path) -> String {
    let mut msg = format!("no PPP solution in {epochs} epochs of {}", what.display());
    for (why, n) in &solved.skips {
        msg.push_str(&format!("\n  {n} epochs: {why}"));
    }
    for (sat, x) in ppp.exclusions() {
        msg.push_str(&format!("\n  {sat} excluded: {}", x.summary()));
    }
    msg
}

/// The static coordinate of a solved session: the last epoch's position and its honest sigmas.
#[derive(Clone, Copy, Debug)]
pub struct Coordinate {
    pub pos: Vector3<f64>,
    /// Sigmas of X, Y, Z (m), the formal ones times [`sigma_scale`].
    pub sigma: [f64; 3],
    pub hours: f64,
    pub nsat_mean: f64,
}

impl Coordinate {
    pub fn of(solutions: &[PppEpoch], interval_s: f64) -> Option<Coordinate> {
        let last = solutions.last()?;
        let first = solutions.first()?;
        let scale = sigma_scale(interval_s);
        let sig = |k: usize| last.cov[(k, k)].max(0.0).sqrt() * scale;
        Some(Coordinate {
            pos: last.position(),
            sigma: [sig(0), sig(1), sig(2)],
            hours: (last.time.diff(first.time) + interval_s) / 3600.0,
            nsat_mean: solutions.iter().map(|s| s.nsat as f64).sum::<f64>()
                / solutions.len() as f64,
        })
    }
}
