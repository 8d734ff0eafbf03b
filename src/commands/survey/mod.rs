//! `corsd survey OBS... --sp3 F... --clk F... --atx F...`: the static coordinate of a station's
//! marker by PPP from precise products, in the products' frame at the epoch of the data, with
//! sigmas, convergence and a summary a surveyor can paste.

mod inputs;
mod output;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};

use crate::gnss::ppp::{Ppp, PppOptions, Receiver, SatAntexPolicy};

#[derive(Debug, clap::Args)]
pub struct SurveyArgs {
    /// Observation files of the station (RINEX 3, also gzip and Hatanaka; or RTCM3), read as
    /// one session.
    #[arg(value_name = "OBS", required = true)]
    pub obs: Vec<PathBuf>,
    /// SP3-c/d precise orbits; consecutive days join (the day before helps the first hour).
    #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
    pub sp3: Vec<PathBuf>,
    /// RINEX clock files (30 s or 5 min satellite clocks).
    #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
    pub clk: Vec<PathBuf>,
    /// ANTEX files: the receiver antenna (by the header's type and radome) from the first file
    /// that calibrates it, satellite antennas from all (by PRN and validity; of two entries
    /// valid at once, the newer file's).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub atx: Vec<PathBuf>,
    /// RINEX 3 navigation files: the GLONASS frequency channels of satellites the observation
    /// header (`GLONASS SLOT / FRQ #`) does not give.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub nav: Vec<PathBuf>,
    /// Use only this many hours of data.
    #[arg(long, value_name = "H")]
    pub hours: Option<f64>,
    /// Start this many hours after the first epoch.
    #[arg(long = "from-hour", value_name = "H", default_value_t = 0.0)]
    pub from_hour: f64,
    /// Also give the coordinate in another frame: ETRF2000 (EUREF's ITRF2014 set), or any
    /// name with --helmert.
    #[arg(long, value_name = "ETRF2000|NAME")]
    pub frame: Option<String>,
    /// Helmert parameters for --frame NAME: a file with 7 numbers (T1 T2 T3 mm, D ppb, R1 R2 R3
    /// mas) or 15 (those, their rates per year, the reference epoch).
    #[arg(long, value_name = "FILE", requires = "frame")]
    pub helmert: Option<PathBuf>,
    /// The station's configured coordinate X,Y,Z (ECEF, m) to compare with (default: the
    /// RINEX header's approximate position).
    #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub position: Option<String>,
    /// Satellite antenna entries of an ANTEX file issued long before the data: `strict`
    /// excludes those satellites, `outdated-ok` uses them (RTKLIB's rule) and lists them,
    /// `by-signals` as well but replaces an entry of an older block than the satellite's
    /// signals allow (GPS L2C: IIR-M, L5: IIF, L1C: III; GLONASS L3: K1), or a missing one, with
    /// the files' newest entry of that block (Galileo FOC and IOV told by PRN).
    #[arg(long, default_value = "strict", value_parser = ["strict", "outdated-ok", "by-signals"])]
    pub sat_antex: String,
    /// Satellites to leave out, e.g. `G18,E14` (reported among the exclusions).
    #[arg(long, value_name = "SATS", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Systems as RINEX letters (G GPS, E Galileo, R GLONASS, C BeiDou, J QZSS): those the
    /// products have orbits and clocks for.
    #[arg(long, default_value = "G")]
    pub systems: String,
    /// Elevation mask (degrees).
    #[arg(long, default_value_t = 10.0)]
    pub mask: f64,
    /// A position per epoch (moving antenna) instead of one for the session.
    #[arg(long)]
    pub kinematic: bool,
    /// Write the convergence series (one CSV line per epoch: time, ECEF, E/N/U from the final
    /// coordinate, sigmas, ZTD, ZWD, satellites).
    #[arg(long, value_name = "FILE")]
    pub series: Option<PathBuf>,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,
    /// UTC date of RTCM3 observations (YYYY-MM-DD) whose stream has no 1013 message to date
    /// it.
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
}

/// A satellite as `G18`.
fn parse_sat(s: &str) -> Result<(crate::gnss::Gnss, u8)> {
    let s = s.trim();
    let mut chars = s.chars();
    let sys = chars.next().and_then(crate::gnss::Gnss::from_letter);
    let prn = chars
        .as_str()
        .parse::<u8>()
        .ok()
        .filter(|p| (1..=99).contains(p));
    match (sys, prn) {
        (Some(sys), Some(prn)) => Ok((sys, prn)),
        _ => bail!("--exclude {s}: a satellite as a system letter and a PRN, e.g. G18"),
    }
}

pub fn run(args: &SurveyArgs) -> Result<()> {
    let started = Instant::now();
    let systems = crate::commands::replay::systems(&args.systems)?;
    if systems.is_empty() {
        bail!("--systems: give at least one system letter");
    }
    if !(0.0..90.0).contains(&args.mask) {
        bail!("--mask {}: degrees between 0 and 90", args.mask);
    }
    if let Some(h) = args.hours
        && !(h.is_finite() && h > 0.0)
    {
        bail!("--hours {h}: a positive number of hours");
    }
    if !(args.from_hour.is_finite() && args.from_hour >= 0.0) {
        bail!("--from-hour {}: zero or more hours", args.from_hour);
    }
    let mut warnings = Vec::new();
    let (session, parsed) = std::thread::scope(|s| {
        let parsing = s.spawn(|| inputs::parse(args, &systems));
        let session = inputs::observations(args, &systems, &mut warnings);
        let parsed = parsing
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (session, parsed)
    });
    let session = session?;
    let products = inputs::products(parsed.orbits?, &session, &systems, &mut warnings)?;
    let (antex, antenna) = inputs::antex(args, parsed.antex?, &session)?;
    warnings.extend(antex.warnings.iter().cloned());
    inputs::require_phase(args, &session, &systems)?;
    let reference = match &args.position {
        Some(p) => Some((
            crate::commands::replay::parse_xyz(p).map_err(|e| anyhow!("--position: {e}"))?,
            "the configured position (--position)",
        )),
        None => session
            .arp
            .map(|a| (a.into(), "the RINEX header's approximate position")),
    };
    let transform = output::transformation(args, &products.orbits.frame)?;
    let opts = PppOptions {
        kinematic: args.kinematic,
        systems,
        mask: args.mask.to_radians(),
        sat_antex: match args.sat_antex.as_str() {
            "outdated-ok" => SatAntexPolicy::OutdatedOk,
            "by-signals" => SatAntexPolicy::BySignals,
            _ => SatAntexPolicy::Strict,
        },
        exclude: args
            .exclude
            .iter()
            .map(|s| parse_sat(s))
            .collect::<Result<_>>()?,
        ..Default::default()
    };
    let receiver = Receiver {
        antenna: Some(antenna),
        eccentricity_enu: session.eccentricity_enu.into(),
    };
    let mut ppp = Ppp::new(opts, products, antex, receiver);
    let solved =
        crate::station::survey::solve(&mut ppp, &session.epochs, &|| true).expect("never stopped");
    if solved.solutions.is_empty() {
        bail!(crate::station::survey::no_solution(
            &ppp,
            &solved,
            session.epochs.len(),
            &args.obs[0]
        ));
    }
    let (solutions, skips) = (solved.solutions, solved.skips);
    let report = output::Report::new(
        args,
        &session,
        &ppp,
        &solutions,
        &skips,
        reference,
        transform,
        warnings,
        started.elapsed().as_secs_f64(),
    );
    if let Some(path) = &args.series {
        output::write_series(path, &solutions)
            .map_err(|e| anyhow!("--series {}: {e}", path.display()))?;
    }
    report.print(args.json)
}
