//! Accepted arcs on stdout (JSON lines or a table), the summary on stderr.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::gnss::median;
use crate::gnss::reflect::{ArcResult, Rejection, Signal};
use crate::gnss::time::Gpst;

#[derive(Serialize)]
struct ArcLine<'a> {
    /// Mid-arc, UTC.
    time: String,
    sat: String,
    signal: &'a str,
    /// The RINEX observation code read (`1C`, `2L`).
    code: &'a str,
    /// Mean azimuth over the arc.
    az: f64,
    /// Azimuth at the arc's lowest elevation: the one the sectors use.
    az_low: f64,
    rh: f64,
    amp: f64,
    pk2noise: f64,
    rising: bool,
    elev_min: f64,
    elev_max: f64,
    points: usize,
    minutes: f64,
}

fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

pub fn write(
    arcs: &[ArcResult],
    day0: Gpst,
    json: bool,
    sectors: &[f64],
    notes: &[String],
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !json {
        writeln!(
            out,
            "time                 sat signal    az   rh (m)   amp  pk2noise rising"
        )?;
    }
    for a in arcs.iter().filter(|a| a.rejected.is_none()) {
        let time = day0
            .add(a.t_mid)
            .to_utc()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let sat = crate::gnss::sat_name(a.sys, a.prn);
        if json {
            let line = ArcLine {
                time,
                sat,
                signal: a.signal.name(),
                code: a.code.as_str(),
                az: round(a.az, 2),
                az_low: round(a.az_low, 2),
                rh: round(a.rh, 3),
                amp: round(a.amp, 2),
                pk2noise: round(a.pk2noise, 2),
                rising: a.rising,
                elev_min: round(a.elev_min, 3),
                elev_max: round(a.elev_max, 3),
                points: a.points,
                minutes: round(a.duration_min, 1),
            };
            serde_json::to_writer(&mut out, &line)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{time} {sat} {:<6} {:6.1} {:7.3} {:6.1} {:8.2} {}",
                a.signal.name(),
                a.az,
                a.rh,
                a.amp,
                a.pk2noise,
                if a.rising { "rise" } else { "set" }
            )?;
        }
    }
    out.flush()?;
    eprint!("{}", summary(arcs, sectors, notes));
    Ok(())
}

/// Arcs tried and kept per signal (with why the others failed) and the median RH per sector.
pub fn summary(arcs: &[ArcResult], sectors: &[f64], notes: &[String]) -> String {
    let mut s = String::new();
    for n in notes {
        s.push_str(&format!("corsd reflect: {n}\n"));
    }
    let mut per: BTreeMap<Signal, (usize, usize, BTreeMap<Rejection, usize>)> = BTreeMap::new();
    for a in arcs {
        let e = per.entry(a.signal).or_default();
        e.0 += 1;
        match a.rejected {
            None => e.1 += 1,
            Some(r) => *e.2.entry(r).or_default() += 1,
        }
    }
    let kept: usize = per.values().map(|v| v.1).sum();
    s.push_str(&format!(
        "corsd reflect: {kept} arcs kept of {} tried\n  signal   tried  kept  rejected\n",
        arcs.len()
    ));
    for (sig, (tried, k, why)) in &per {
        let why: Vec<String> = why
            .iter()
            .map(|(r, n)| format!("{} {n}", r.name()))
            .collect();
        s.push_str(&format!(
            "  {:<7} {tried:>6} {k:>5}  {}\n",
            sig.label(),
            why.join(", ")
        ));
    }
    s.push_str("  azimuth      arcs  median RH (m)\n");
    for w in sectors.windows(2) {
        let last = w[1] >= sectors[sectors.len() - 1];
        let mut rh: Vec<f64> = arcs
            .iter()
            .filter(|a| a.rejected.is_none())
            .filter(|a| a.az_low >= w[0] && (a.az_low < w[1] || (last && a.az_low <= w[1])))
            .map(|a| a.rh)
            .collect();
        let n = rh.len();
        let m = median(&mut rh).map_or("-".to_string(), |m| format!("{m:.3}"));
        s.push_str(&format!("  {:>5.0}–{:<5.0} {n:>5}  {m}\n", w[0], w[1]));
    }
    s
}
