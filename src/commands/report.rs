//! `corsd report FILE...|--from-archive DAY`: the station QC report as one HTML file.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{Datelike, NaiveDate};
use nalgebra::Vector3;

use super::replay::{is_rinex_obs, load_nav, parse_xyz, systems};
use crate::gnss::spp::SppOptions;
use crate::gnss::time::Gpst;
use crate::report::{Collector, Reference};
use crate::station::pipeline::{Output, Pipeline, PipelineConfig};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Recorded RTCM3 streams (taken as one stream, in the order given) or RINEX 3 observation
    /// files (plain, gzipped or Hatanaka-compressed; give their navigation files with --nav).
    #[arg(value_name = "FILE", required_unless_present = "from_archive")]
    pub files: Vec<PathBuf>,
    /// Report a day of the raw archive instead: YYYY-MM-DD or YYYY/DDD (GPS-time calendar day,
    /// as the archive's hour files are named).
    #[arg(long, value_name = "DAY", conflicts_with = "files")]
    pub from_archive: Option<String>,
    /// The raw archive's directory (the daemon's `[archive] dir`, by default under data_dir).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/corsd/archive")]
    pub archive: PathBuf,
    /// Station (four letters) in the archive; needed when it holds more than one.
    #[arg(long, value_name = "NAME")]
    pub station: Option<String>,
    /// RINEX 3 navigation file(s) for RINEX observation input.
    #[arg(long, value_name = "FILE")]
    pub nav: Vec<PathBuf>,
    /// Surveyed antenna position X,Y,Z (ECEF, m): offsets are plotted from it. Without it, the
    /// stream's 1005/1006 ARP (or the RINEX header's approximate position) is used.
    #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub station_pos: Option<String>,
    /// Systems for the positions as RINEX letters (G GPS, R GLONASS, E Galileo, C BeiDou, J QZSS).
    #[arg(long, default_value = "GRECJ")]
    pub systems: String,
    /// Elevation mask in degrees for the positions.
    #[arg(long, default_value_t = 5.0)]
    pub mask: f64,
    /// GPS week of the data, when the stream has no 1013 message to date it.
    #[arg(long, conflicts_with = "date")]
    pub week: Option<i64>,
    /// UTC date of the data (YYYY-MM-DD), when the stream has no 1013 message to date it.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Where to write the report (default: STATION_YYYYDDD_report.html, or FILE-report.html).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A calendar day from `YYYY-MM-DD` or `YYYY/DDD`.
fn parse_day(s: &str) -> Result<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Some((y, doy)) = s.split_once('/')
        && let (Ok(y), Ok(doy)) = (y.parse::<i32>(), doy.parse::<u32>())
        && let Some(d) = NaiveDate::from_yo_opt(y, doy)
    {
        return Ok(d);
    }
    bail!("--from-archive {s:?}: expected a day as YYYY-MM-DD or YYYY/DDD")
}

/// The hour files of a day in the archive, in time order, and the station.
fn archive_day(
    dir: &Path,
    station: Option<&str>,
    day: NaiveDate,
) -> Result<(String, Vec<PathBuf>)> {
    let station = match station {
        Some(s) => s.to_string(),
        None => {
            let names: Vec<String> = std::fs::read_dir(dir)
                .with_context(|| {
                    format!(
                        "cannot read the archive {} (give --archive DIR)",
                        dir.display()
                    )
                })?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            match names.as_slice() {
                [one] => one.clone(),
                [] => bail!("the archive {} holds no station", dir.display()),
                many => bail!(
                    "the archive {} holds several stations ({}): choose one with --station",
                    dir.display(),
                    many.join(", ")
                ),
            }
        }
    };
    let day_dir = dir
        .join(&station)
        .join(format!("{:04}", day.year()))
        .join(format!("{:03}", day.ordinal()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&day_dir)
        .with_context(|| {
            format!(
                "no archive for {station} on {day} ({} missing)",
                day_dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rtcm3"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{} holds no .rtcm3 hour files", day_dir.display());
    }
    Ok((station, files))
}

pub fn run(args: &ReportArgs) -> Result<()> {
    let systems = systems(&args.systems)?;
    if !(0.0..90.0).contains(&args.mask) {
        bail!("--mask {}: degrees between 0 and 90", args.mask);
    }
    let surveyed = args.station_pos.as_deref().map(parse_xyz).transpose()?;
    let (station, files) = match &args.from_archive {
        Some(day) => {
            let day = parse_day(day)?;
            let (station, files) = archive_day(&args.archive, args.station.as_deref(), day)?;
            (Some(station), files)
        }
        None => (args.station.clone(), args.files.clone()),
    };
    let reference = match (args.week, args.date) {
        (Some(w), _) => Some(Gpst::from_week_tow(w, 0.0)),
        (_, Some(d)) => Some(Gpst::from_date(d)),
        _ => None,
    };
    let opt = SppOptions {
        systems,
        mask: args.mask.to_radians(),
        ..Default::default()
    };
    let (store, klobuchar) = load_nav(&args.nav)?;
    let title_station = station.clone().unwrap_or_else(|| {
        // The file name up to its first dot: `NYA100NOR_S_…_MO.crx.gz` → `NYA100NOR_S_…_MO`.
        let name = files[0]
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.split('.').next().unwrap_or_default().to_string()
    });
    let mut col = Collector::new(&format!("{title_station} — station QC"), surveyed);
    let mut given: Option<(Vector3<f64>, String)> =
        surveyed.map(|p| (p, "the surveyed position (--station-pos)".to_string()));
    let show = std::io::stderr().is_terminal();
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let mut read = 0u64;
    let mut pipeline: Option<Pipeline> = None;
    let mut out = Output::default();
    let mut buf = vec![0u8; 1 << 16];
    for file in &files {
        col.inputs.push(file.display().to_string());
        if is_rinex_obs(file) {
            if store.is_empty() {
                bail!(
                    "{}: RINEX observations need their navigation data: give --nav FILE",
                    file.display()
                );
            }
            let text = crate::rinex::read_text(file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let (epochs, approx) = crate::rinex::read_obs(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            if let Some(a) = approx {
                let a = Vector3::from(a);
                col.know_position(a);
                given.get_or_insert((a, "the RINEX header's approximate position (give --station-pos for the surveyed one)".into()));
            }
            for e in &epochs {
                col.epoch(e, &store);
            }
            let mut smoothed = epochs;
            crate::gnss::spp::smooth_centered(&mut smoothed, 300.0);
            let mut o = opt.clone();
            if klobuchar.is_some() {
                o.klobuchar = klobuchar;
                o.iono_free = false;
            }
            let mut last = approx.map(Vector3::from);
            for e in &smoothed {
                if let Some(s) = crate::gnss::spp::solve(e, &store, &o, last) {
                    last = Some(Vector3::from(s.position));
                    col.solution(&s);
                }
            }
            read += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            continue;
        }
        let p = pipeline.get_or_insert_with(|| {
            Pipeline::new(PipelineConfig {
                station: title_station.clone(),
                source: "report".into(),
                truth: surveyed,
                spp: opt.clone(),
                reference,
                points: false,
                ..Default::default()
            })
        });
        let mut input =
            File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        loop {
            let n = input
                .read(&mut buf)
                .with_context(|| format!("cannot read {}", file.display()))?;
            if n == 0 {
                break;
            }
            read += n as u64;
            out.clear();
            p.push(&buf[..n], &mut out);
            take(&mut col, p, &mut out, &mut given);
            if show && total > 0 {
                eprint!("\rreport: {:3}% read", read * 100 / total);
            }
        }
    }
    if let Some(p) = pipeline.as_mut() {
        out.clear();
        p.finish(&mut out);
        take(&mut col, p, &mut out, &mut given);
        let fs = p.framer_stats();
        col.notes.push(format!(
            "{} frames, {} with a bad checksum, {} bytes outside frames",
            fs.rtcm3_frames + fs.nmea_frames + fs.ubx_frames,
            fs.rtcm3_crc_errors + fs.nmea_errors + fs.ubx_checksum_errors,
            fs.discarded_bytes
        ));
        if p.state.unreferenced > 0 && p.state.reference.is_none() {
            bail!("no 1013 message dates this stream: give --week or --date");
        }
    }
    if show {
        eprintln!();
    }
    let reference = match given {
        Some((p, how)) => Reference::Given(p, how),
        None => Reference::Mean,
    };
    col.finish();
    let html = col.html(&reference)?;
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| default_name(station.as_deref(), &files, &col));
    std::fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "corsd report: {} ({} epochs, {} of them solved) → {}",
        title_station,
        col.qc.epochs,
        col.solutions(),
        path.display()
    );
    Ok(())
}

fn take(
    col: &mut Collector,
    p: &Pipeline,
    out: &mut Output,
    given: &mut Option<(Vector3<f64>, String)>,
) {
    if let Some(arp) = p.state.arp {
        let a = Vector3::from(arp);
        col.know_position(a);
        given.get_or_insert((
            a,
            "the ARP in the stream's 1005/1006 message (a national datum may differ from ITRF by a metre or more: give --station-pos for the surveyed position)".into(),
        ));
    }
    for e in &out.epochs {
        col.epoch(e, &p.state.store);
    }
    for s in &out.solutions {
        col.solution(s);
    }
}

fn default_name(station: Option<&str>, files: &[PathBuf], col: &Collector) -> PathBuf {
    match (station, col.first_epoch()) {
        (Some(s), Some(t)) => {
            let c = t.calendar();
            PathBuf::from(format!("{s}_{:04}{:03}_report.html", c.year(), c.ordinal()))
        }
        _ => {
            let stem = files[0]
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "corsd".into());
            PathBuf::from(format!("{stem}-report.html"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        assert_eq!(
            parse_day("2024-05-03").unwrap(),
            NaiveDate::from_ymd_opt(2024, 5, 3).unwrap()
        );
        assert_eq!(
            parse_day("2024/124").unwrap(),
            NaiveDate::from_ymd_opt(2024, 5, 3).unwrap()
        );
        assert!(parse_day("yesterday").is_err());
    }
}
