//! Reading and checking the survey's inputs: observations, products and antennas. Every
//! refusal names the file and the problem: a survey never runs on inputs that would give a
//! silently wrong coordinate.

use std::path::Path;

use anyhow::{Result, anyhow, bail};

use super::SurveyArgs;
use crate::commands::rtk::input;
use crate::gnss::Gnss;
use crate::gnss::antex::{Antenna, Antex};
use crate::gnss::clk::ClockFile;
use crate::gnss::obs::Epoch;
use crate::gnss::ppp::Products;
use crate::gnss::rtk::signals::{default_bands, pick};
use crate::gnss::sp3::Sp3;
use crate::gnss::time::Gpst;

/// The observations of the session.
pub struct Session {
    pub epochs: Vec<Epoch>,
    pub arp: Option<[f64; 3]>,
    pub eccentricity_enu: [f64; 3],
    pub antenna: Option<String>,
    pub marker: Option<String>,
}

impl Session {
    pub fn first(&self) -> Gpst {
        self.epochs[0].time
    }
    pub fn last(&self) -> Gpst {
        self.epochs[self.epochs.len() - 1].time
    }
}

/// All observation files as one session, cut to --from-hour/--hours.
pub fn observations(
    args: &SurveyArgs,
    systems: &[Gnss],
    warnings: &mut Vec<String>,
) -> Result<Session> {
    let mut session: Option<Session> = None;
    for path in &args.obs {
        let rec = input::read_of(path, None, Some(systems))?;
        warnings.extend(
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
                })
            }
            Some(s) => s.epochs.extend(rec.epochs),
        }
    }
    let mut s = session.expect("clap requires one OBS file");
    s.epochs.sort_by(|a, b| a.time.diff(b.time).total_cmp(&0.0));
    s.epochs.dedup_by(|a, b| a.time == b.time);
    let t0 = s.first().add(args.from_hour * 3600.0);
    let t1 = args.hours.map(|h| t0.add(h * 3600.0));
    s.epochs
        .retain(|e| e.time.diff(t0) >= 0.0 && t1.is_none_or(|t1| e.time.diff(t1) < 0.0));
    if s.epochs.is_empty() {
        bail!(
            "{}: no observation epochs between --from-hour {} and the end of --hours",
            args.obs[0].display(),
            args.from_hour
        );
    }
    Ok(s)
}

fn text_of(flag: &str, path: &Path) -> Result<String> {
    crate::rinex::read_text(path).map_err(|e| anyhow!("{flag} {}: {e}", path.display()))
}

/// The product files as parsed, before they are checked against the observations.
pub struct Parsed {
    pub orbits: Result<(Sp3, Vec<ClockFile>)>,
    pub antex: Result<Option<Antex>>,
}

/// Parses the orbits (joined in time order), the clocks and the ANTEX file; this needs no
/// observation, so it runs while they are read.
pub fn parse(args: &SurveyArgs) -> Parsed {
    Parsed {
        orbits: parse_products(args),
        antex: args
            .atx
            .as_ref()
            .map(|path| {
                Antex::parse(&text_of("--atx", path)?)
                    .map_err(|e| anyhow!("--atx {}: {e}", path.display()))
            })
            .transpose(),
    }
}

fn parse_products(args: &SurveyArgs) -> Result<(Sp3, Vec<ClockFile>)> {
    let mut orbits: Vec<Sp3> = Vec::new();
    for path in &args.sp3 {
        let sp3 = Sp3::parse(&text_of("--sp3", path)?)
            .map_err(|e| anyhow!("--sp3 {}: {e}", path.display()))?;
        orbits.push(sp3);
    }
    orbits.sort_by(|a, b| span_sp3(a).0.diff(span_sp3(b).0).total_cmp(&0.0));
    let mut joined = orbits.remove(0);
    for o in orbits {
        joined
            .append(o)
            .map_err(|e| anyhow!("--sp3: cannot join the files: {e}"))?;
    }
    let mut clocks = Vec::new();
    for path in &args.clk {
        let c = ClockFile::parse(&text_of("--clk", path)?)
            .map_err(|e| anyhow!("--clk {}: {e}", path.display()))?;
        clocks.push(c);
    }
    Ok((joined, clocks))
}

/// Orbits and clocks, checked against the observations' span.
pub fn products(
    (joined, clocks): (Sp3, Vec<ClockFile>),
    session: &Session,
    warnings: &mut Vec<String>,
) -> Result<Products> {
    let (first, last) = (session.first(), session.last());
    let (o0, o1) = span_sp3(&joined);
    if o1.diff(first) < 0.0 || last.diff(o0) < 0.0 {
        bail!(
            "--sp3: the orbits cover {} to {}, the observations {} to {}: products for another day",
            fmt(o0),
            fmt(o1),
            fmt(first),
            fmt(last)
        );
    }
    let (c0, c1) = clocks
        .iter()
        .map(span_clk)
        .reduce(|a, b| (earlier(a.0, b.0), later(a.1, b.1)))
        .expect("clap requires one --clk");
    if c1.diff(first) < 0.0 || last.diff(c0) < 0.0 {
        bail!(
            "--clk: the clocks cover {} to {}, the observations {} to {}: products for another day",
            fmt(c0),
            fmt(c1),
            fmt(first),
            fmt(last)
        );
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

fn fmt(t: Gpst) -> String {
    t.calendar().format("%Y-%m-%d %H:%M:%S GPST").to_string()
}

fn earlier(a: Gpst, b: Gpst) -> Gpst {
    if a.diff(b) <= 0.0 { a } else { b }
}

fn later(a: Gpst, b: Gpst) -> Gpst {
    if a.diff(b) >= 0.0 { a } else { b }
}

fn span_sp3(s: &Sp3) -> (Gpst, Gpst) {
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

fn span_clk(c: &ClockFile) -> (Gpst, Gpst) {
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

/// The ANTEX file and the receiver antenna named in the observations' header.
pub fn antex(
    args: &SurveyArgs,
    antex: Option<Antex>,
    session: &Session,
) -> Result<(Antex, Antenna)> {
    let (Some(path), Some(antex)) = (&args.atx, antex) else {
        bail!(
            "PPP needs antenna phase centres: give --atx FILE (an IGS ANTEX file with the satellites and the receiver antenna {})",
            session.antenna.as_deref().unwrap_or("of the station")
        );
    };
    let Some(name) = &session.antenna else {
        bail!(
            "{}: no antenna type in the header (ANT # / TYPE): the phase centre would be a guess, several centimetres in height",
            args.obs[0].display()
        );
    };
    let antenna = antex
        .receiver_by_descriptor(name)
        .map_err(|e| {
            anyhow!(
                "--atx {}: {e}: the coordinate would be off by the antenna's phase-centre offset (typically 5-15 cm in height); give an ANTEX file that calibrates it",
                path.display()
            )
        })?
        .clone();
    Ok((antex, antenna))
}

/// Refuses observations without dual-frequency phase in the chosen systems.
pub fn require_phase(args: &SurveyArgs, session: &Session, systems: &[Gnss]) -> Result<()> {
    let ok = session.epochs.iter().any(|e| {
        e.sats.iter().any(|s| {
            systems.contains(&s.sys)
                && default_bands(s.sys)
                    .is_some_and(|[a, b]| pick(s, a).is_some() && pick(s, b).is_some())
        })
    });
    if !ok {
        let letters: String = systems.iter().map(|s| s.letter()).collect();
        bail!(
            "{}: no carrier phase with code on two bands for systems {letters}: PPP needs dual-frequency phase observations",
            args.obs[0].display()
        );
    }
    Ok(())
}
