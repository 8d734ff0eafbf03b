//! `corsd reflect`: reflector heights (GNSS interferometric reflectometry) from recorded C/N0.

mod input;
mod output;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::geodesy::ecef_to_geodetic;
use crate::gnss::reflect::{Settings, Signal, standard_atmosphere};
use crate::gnss::time::Gpst;

#[derive(Debug, clap::Args)]
pub struct ReflectArgs {
    /// RINEX 3 observation files (plain, .gz, Hatanaka .crx/.crx.gz) or RTCM3 recordings.
    #[arg(required = true, value_name = "OBS")]
    pub files: Vec<PathBuf>,
    /// Broadcast orbits: RINEX navigation files (an RTCM3 recording's own ephemerides count too).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub nav: Vec<PathBuf>,
    /// Precise orbits: SP3 files (plain or .gz), consecutive days joined.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "nav")]
    pub sp3: Vec<PathBuf>,
    /// Systems as RINEX letters (G GPS, R GLONASS, E Galileo, C BeiDou, J QZSS). Default GREC;
    /// a system named here that the orbits do not cover is an error.
    #[arg(long)]
    pub systems: Option<String>,
    /// Signals to use, comma-separated: L1, L2C, L5, E1, E5a, E5b, E6, E5, B1I, B3I, B2I,
    /// B1C, B2a, or with the system letter (`R L1`). Default: all.
    #[arg(long, value_delimiter = ',')]
    pub signals: Vec<String>,
    /// Elevation window (degrees).
    #[arg(long, value_name = "MIN,MAX", default_value = "5,25")]
    pub elev: String,
    /// Reflector height window (m); also the noise band of the peak-to-noise ratio.
    #[arg(long, value_name = "MIN,MAX", default_value = "0.5,8")]
    pub rh: String,
    /// Azimuth sector boundaries (degrees, increasing): arcs whose azimuth falls outside the
    /// first and last are not analysed, and the summary gives the median RH per sector.
    #[arg(long, value_name = "A,B,…", default_value = "0,90,180,270,360")]
    pub azim: String,
    /// Antenna position X,Y,Z (m, ECEF). Default: the RINEX header's APPROX POSITION or the
    /// stream's 1005/1006 ARP.
    #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub position: Option<String>,
    /// Leave elevations geometric (no refraction correction).
    #[arg(long)]
    pub no_refraction: bool,
    /// Date of an RTCM3 recording without a 1013 message.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// One JSON object per accepted arc on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ReflectArgs) -> Result<()> {
    let elev = pair(&args.elev, "--elev")?;
    if !(elev.0 >= 0.0 && elev.0 < elev.1 && elev.1 <= 90.0) {
        bail!(
            "--elev {}: give MIN,MAX with 0 ≤ MIN < MAX ≤ 90 degrees",
            args.elev
        );
    }
    let rh = pair(&args.rh, "--rh")?;
    if !(rh.0 >= 0.0 && rh.0 < rh.1) {
        bail!("--rh {}: give MIN,MAX with 0 ≤ MIN < MAX metres", args.rh);
    }
    let sectors = sectors(&args.azim)?;
    let explicit_systems = args.systems.is_some();
    let systems = match &args.systems {
        Some(s) => super::replay::systems_of(s, "has no reflection signals here")?,
        None => vec![Gnss::Gps, Gnss::Glonass, Gnss::Galileo, Gnss::Beidou],
    };
    let mut signals = Vec::new();
    for name in &args.signals {
        let found = Signal::parse(name.trim());
        if found.is_empty() {
            bail!(
                "--signals: unknown signal {name:?} (L1, L2C, L5, E1, E5a, E5b, E6, E5, B1I, B3I, \
                 B2I, B1C, B2a)"
            );
        }
        signals.extend(found);
    }

    let reference = args.date.map(Gpst::from_date);
    let rec = input::read(&args.files, reference)?;
    let rcv = match &args.position {
        Some(p) => super::replay::parse_xyz(p).context("--position")?,
        None => rec.position.context(
            "no antenna position: the RINEX header has no APPROX POSITION XYZ and the stream no \
             1005/1006; give --position X,Y,Z",
        )?,
    };
    let geo = check_position(&rcv, args.position.is_some())?;
    let orbits = input::orbits(&args.nav, &args.sp3, rec.store.clone())?;
    let Some(day0) = input::day_start(&rec) else {
        bail!("no observation epochs");
    };

    let mut set = Settings::new(elev, rh);
    set.azim = vec![(sectors[0], sectors[sectors.len() - 1])];
    if !args.no_refraction {
        set.refraction = Some(standard_atmosphere(geo.h));
    }
    let (sats, cov) = input::satellites(&rec, &orbits, &rcv, &systems, &signals, day0);
    let mut notes = Vec::new();
    for (sys, n) in &cov.observed {
        if cov.placed.get(sys).copied().unwrap_or(0) > 0 {
            continue;
        }
        let what = if orbits.covers(*sys) {
            "the orbit files cover none of its observed satellites at the observed times"
        } else {
            "the orbit files hold no satellite of it"
        };
        let msg = format!(
            "no orbits for {}: {what}; its {n} satellites are left out",
            system_name(*sys)
        );
        if explicit_systems || sats.is_empty() {
            bail!("{msg}");
        }
        notes.push(msg);
    }
    if sats.is_empty() {
        bail!("no satellite with both C/N0 on a reflection signal and an orbit");
    }
    if let Some(top) = crate::gnss::reflect::resolvable_rh(&sats, &set)
        && rh.1 > top
    {
        bail!(
            "--rh {}: the sampling of these observations resolves reflector heights up to \
             {top:.1} m (the Nyquist height of the arcs' median spacing in sin(elevation)); \
             lower the top of the RH window or record more often",
            args.rh
        );
    }
    let arcs = crate::gnss::reflect::analyse(&sats, &set);
    output::write(&arcs, day0, args.json, &sectors, &notes)
}

fn pair(s: &str, flag: &str) -> Result<(f64, f64)> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("{flag} {s:?}: expected MIN,MAX"))?;
    match v[..] {
        [a, b] if a.is_finite() && b.is_finite() => Ok((a, b)),
        _ => bail!("{flag} {s:?}: expected two numbers MIN,MAX"),
    }
}

fn sectors(s: &str) -> Result<Vec<f64>> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--azim {s:?}: expected degrees A,B,…"))?;
    if v.len() < 2
        || v.windows(2).any(|w| w[0] >= w[1])
        || v.iter().any(|a| !(0.0..=360.0).contains(a))
    {
        bail!("--azim {s:?}: give at least two increasing azimuths between 0 and 360 degrees");
    }
    Ok(v)
}

/// The antenna must be near the Earth's surface: a position that is not tells of a missing or
/// broken header, not of a station.
fn check_position(p: &Vector3<f64>, given: bool) -> Result<crate::gnss::geodesy::Geodetic> {
    let from = if given {
        "--position"
    } else {
        "the file's position (RINEX APPROX POSITION XYZ or RTCM 1005/1006)"
    };
    if !p.iter().all(|v| v.is_finite()) || p.norm() < 1e6 {
        bail!(
            "station position {:.1},{:.1},{:.1} from {from} is not on the Earth; give --position X,Y,Z",
            p.x,
            p.y,
            p.z
        );
    }
    let g = ecef_to_geodetic(p);
    if !(-500.0..=9000.0).contains(&g.h) {
        bail!(
            "station height {:.0} m above the ellipsoid (from {from}) makes no sense for an \
             antenna on the ground (−500 to 9000 m); give --position X,Y,Z",
            g.h
        );
    }
    Ok(g)
}

fn system_name(sys: Gnss) -> &'static str {
    match sys {
        Gnss::Gps => "GPS",
        Gnss::Glonass => "GLONASS",
        Gnss::Galileo => "Galileo",
        Gnss::Beidou => "BeiDou",
        Gnss::Qzss => "QZSS",
        Gnss::Sbas => "SBAS",
        Gnss::Navic => "NavIC",
    }
}
