//! The survey's inputs from the command line, read and checked by the station layer's survey
//! (which the daemon's daily monitoring shares); messages name the flag and the file.

use anyhow::{Result, anyhow, bail};

use super::SurveyArgs;
use crate::gnss::Gnss;
use crate::gnss::antex::{Antenna, Antex};
use crate::gnss::clk::ClockFile;
use crate::gnss::ppp::Products;
use crate::gnss::sp3::Sp3;
pub use crate::station::survey::Session;

const LABELS: (&str, &str) = ("--sp3", "--clk");

/// All observation files as one session, cut to --from-hour/--hours.
pub fn observations(
    args: &SurveyArgs,
    systems: &[Gnss],
    warnings: &mut Vec<String>,
) -> Result<Session> {
    let mut s = crate::station::survey::observations(
        &args.obs,
        args.date.map(crate::gnss::time::Gpst::from_date),
        systems,
        warnings,
    )
    .map_err(anyhow::Error::msg)?;
    glonass_channels(args, &mut s, warnings)?;
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

/// GLONASS carriers the observation header left without a channel, from --nav records.
fn glonass_channels(args: &SurveyArgs, s: &mut Session, warnings: &mut Vec<String>) -> Result<()> {
    let mut channels: [Option<i8>; 64] = [None; 64];
    for path in &args.nav {
        let text =
            crate::rinex::read_text(path).map_err(|e| anyhow!("--nav {}: {e}", path.display()))?;
        let found = crate::rinex::read_nav_glonass_channels(&text)
            .map_err(|e| anyhow!("--nav {}: {e}", path.display()))?;
        for (slot, k) in found {
            channels[usize::from(slot)].get_or_insert(k);
        }
    }
    let mut filled = std::collections::BTreeSet::new();
    let mut lacking = std::collections::BTreeSet::new();
    for e in &mut s.epochs {
        for sat in e.sats.iter_mut().filter(|s| s.sys == Gnss::Glonass) {
            let k = channels.get(usize::from(sat.prn)).copied().flatten();
            for sig in sat.signals.iter_mut().filter(|g| g.freq_hz.is_none()) {
                match k {
                    Some(k) => {
                        sig.freq_hz =
                            crate::gnss::signal::carrier_hz(sat.sys, sig.code.0[0], Some(k));
                        filled.insert(sat.prn);
                    }
                    None => {
                        lacking.insert(sat.prn);
                    }
                }
            }
        }
    }
    let names = |set: &std::collections::BTreeSet<u8>| {
        set.iter()
            .map(|p| crate::gnss::sat_name(Gnss::Glonass, *p))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !filled.is_empty() {
        warnings.push(format!(
            "GLONASS channels from the navigation records (--nav), not the observation header: {}",
            names(&filled)
        ));
    }
    if !lacking.is_empty() && !args.nav.is_empty() {
        warnings.push(format!(
            "no GLONASS channel in the observation header nor in --nav for {}: their FDMA bands are left out",
            names(&lacking)
        ));
    }
    Ok(())
}

/// The product files as parsed, before they are checked against the observations.
pub struct Parsed {
    pub orbits: Result<(Sp3, Vec<ClockFile>)>,
    pub antex: Result<Option<Antex>>,
}

/// Parses the orbits (joined in time order), the clocks of `systems` and the ANTEX file; this
/// needs no observation, so it runs while they are read.
pub fn parse(args: &SurveyArgs, systems: &[Gnss]) -> Parsed {
    Parsed {
        orbits: crate::station::survey::parse_products(&args.sp3, &args.clk, Some(systems), LABELS)
            .map_err(anyhow::Error::msg),
        antex: parse_antex(args),
    }
}

/// The ANTEX files merged, the first file's receiver antennas ahead of the next's.
fn parse_antex(args: &SurveyArgs) -> Result<Option<Antex>> {
    if args.atx.is_empty() {
        return Ok(None);
    }
    let descriptor = receiver_descriptor(&args.obs[0]);
    crate::station::survey::read_antex(&args.atx, "--atx", descriptor.as_deref())
        .map(Some)
        .map_err(anyhow::Error::msg)
}

/// The antenna type and radome in a RINEX observation file's header (`ANT # / TYPE`): the one
/// receiver antenna whose calibration the survey reads. `None` for an RTCM recording.
fn receiver_descriptor(path: &std::path::Path) -> Option<String> {
    let header = crate::rinex::read_header(path).ok()?;
    header
        .lines()
        .find(|l| l.get(60..).is_some_and(|t| t.starts_with("ANT # / TYPE")))
        .and_then(|l| l.get(20..40))
        .map(|s| s.trim_end().to_string())
        .filter(|s| !s.trim().is_empty())
}

/// Orbits and clocks, checked against the observations' span.
pub fn products(
    parsed: (Sp3, Vec<ClockFile>),
    session: &Session,
    systems: &[Gnss],
    warnings: &mut Vec<String>,
) -> Result<Products> {
    clocks_per_system(&parsed.0, &parsed.1, systems, warnings)?;
    crate::station::survey::check_products(parsed, session, LABELS, warnings)
        .map_err(anyhow::Error::msg)
}

/// Every chosen system needs satellite clocks in the clock files: the SP3 clocks (every 5 or
/// 15 min) cannot stand in, a satellite clock wanders by decimetres between them. A survey of
/// only such systems is refused, a system among others is left out with a warning.
fn clocks_per_system(
    orbits: &Sp3,
    clocks: &[ClockFile],
    systems: &[Gnss],
    warnings: &mut Vec<String>,
) -> Result<()> {
    let mut lacking = Vec::new();
    for &sys in systems {
        if clocks
            .iter()
            .any(|c| c.satellites().iter().any(|(s, _)| *s == sys))
        {
            continue;
        }
        let in_sp3 = orbits
            .satellites
            .iter()
            .any(|(s, prn)| *s == sys && orbits.nodes(*s, *prn).iter().any(|n| n.clock.is_some()));
        let name = system_name(sys);
        let sp3_note = if in_sp3 {
            format!(
                "the SP3 orbits ({}) have {name} clocks only every {:.0} min, too coarse: a satellite clock wanders by decimetres between them",
                orbits.agency,
                orbits.interval_s / 60.0
            )
        } else {
            format!("the SP3 orbits have no {name} clocks either")
        };
        lacking.push(format!(
            "{name} PPP needs 30 s {name} satellite clocks, which the clock files (--clk) lack; {sp3_note}"
        ));
    }
    if lacking.len() == systems.len() {
        bail!("{}", lacking.join("\n"));
    }
    for l in lacking {
        warnings.push(format!("{l}: its satellites are left out"));
    }
    Ok(())
}

fn system_name(sys: Gnss) -> &'static str {
    match sys {
        Gnss::Gps => "GPS",
        Gnss::Glonass => "GLONASS",
        Gnss::Galileo => "Galileo",
        Gnss::Sbas => "SBAS",
        Gnss::Qzss => "QZSS",
        Gnss::Beidou => "BeiDou",
        Gnss::Navic => "NavIC",
    }
}

/// The ANTEX file and the receiver antenna named in the observations' header.
pub fn antex(
    args: &SurveyArgs,
    antex: Option<Antex>,
    session: &Session,
) -> Result<(Antex, Antenna)> {
    let (false, Some(antex)) = (args.atx.is_empty(), antex) else {
        bail!(
            "PPP needs antenna phase centres: give --atx FILE (an IGS ANTEX file with the satellites and the receiver antenna {})",
            session.antenna.as_deref().unwrap_or("of the station")
        );
    };
    let antenna =
        crate::station::survey::receiver_antenna(&antex, "--atx", &args.atx, session, &args.obs[0])
            .map_err(anyhow::Error::msg)?;
    Ok((antex, antenna))
}

/// Refuses observations without dual-frequency phase in the chosen systems.
pub fn require_phase(args: &SurveyArgs, session: &Session, systems: &[Gnss]) -> Result<()> {
    crate::station::survey::require_phase(session, systems, &args.obs[0])
        .map_err(anyhow::Error::msg)
}
