//! `corsd rtk ROVER --base BASE`: carrier-phase positioning of a rover against a base from
//! two recordings (RTCM3 or RINEX 3 observations), matched by GNSS time, with ephemerides read
//! ahead from every input so that the first epoch is solvable.

pub mod input;
mod report;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use nalgebra::Vector3;

use crate::gnss::antex::Antex;
use crate::gnss::rtk::signals::parse_band_pair;
use crate::gnss::rtk::{Antennas, Rtk, RtkMode, RtkOptions, RtkSkip};
use crate::gnss::time::Gpst;
use crate::sinks::pos;

pub use report::Summary;

#[derive(Debug, clap::Args)]
pub struct RtkArgs {
    /// The rover's recording: an RTCM3 stream or a RINEX 3 observation file.
    #[arg(value_name = "ROVER")]
    pub rover: PathBuf,
    /// The base's recording (RTCM3 or RINEX 3 observations).
    #[arg(long, value_name = "BASE")]
    pub base: PathBuf,
    /// Base antenna reference point X,Y,Z (ECEF, m). Without it the base's 1005/1006 position
    /// is used, which is in the operator's datum (often a plate-fixed national one, metres from
    /// ITRF). Negative values need no quoting.
    #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub base_pos: Option<String>,
    /// `kinematic` (a position per epoch) or `static` (one position for the session).
    #[arg(long, default_value = "kinematic", value_parser = ["kinematic", "static"])]
    pub mode: String,
    /// Systems as RINEX letters (G GPS, R GLONASS, E Galileo, C BeiDou, J QZSS). GLONASS
    /// ambiguities stay float.
    #[arg(long, default_value = "GRECJ")]
    pub systems: String,
    /// Elevation mask (degrees).
    #[arg(long, default_value_t = 10.0)]
    pub mask: f64,
    /// Bands of a system as SYSTEM:BAND,BAND (RINEX band digits), e.g. `C:2,7` for BeiDou
    /// B1I/B2I or `E:1,7` for Galileo E1/E5b; repeat for several systems. Defaults: G:1,2
    /// J:1,2 R:1,2 E:1,5 C:2,6.
    #[arg(long = "signals", value_name = "SYS:B,B")]
    pub signals: Vec<String>,
    /// ANTEX file for receiver and satellite antenna phase centres (antenna names from the
    /// streams' 1008/1033 or the RINEX headers).
    #[arg(long, value_name = "FILE")]
    pub atx: Option<PathBuf>,
    /// RINEX 3 navigation files (needed for RINEX observations; added to the streams' own).
    #[arg(long, value_name = "FILE")]
    pub nav: Vec<PathBuf>,
    /// Write the solutions in RTKLIB's .pos layout (Q 1 fixed, 2 float), which RTKPLOT opens.
    #[arg(long, value_name = "FILE")]
    pub pos: Option<PathBuf>,
    /// Print each solution as a JSON line on standard output.
    #[arg(long)]
    pub json: bool,
    /// GPS week of the data, for streams without a 1013 message.
    #[arg(long, conflicts_with = "date")]
    pub week: Option<i64>,
    /// UTC date of the data (YYYY-MM-DD), for streams without a 1013 message.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Fix-and-hold: fixed integers constrain the float ambiguities afterwards.
    #[arg(long)]
    pub hold: bool,
    /// Minimum ratio test value for a fix.
    #[arg(long, default_value_t = 3.0)]
    pub ratio: f64,
}

/// The engine's options from the arguments.
pub fn options(args: &RtkArgs) -> Result<RtkOptions> {
    let systems = crate::commands::replay::systems(&args.systems)?;
    if systems.is_empty() {
        bail!("--systems: give at least one system letter");
    }
    if !(0.0..90.0).contains(&args.mask) {
        bail!("--mask {}: degrees between 0 and 90", args.mask);
    }
    if args.ratio.is_nan() || args.ratio < 1.0 {
        bail!("--ratio {}: 1 or more", args.ratio);
    }
    let bands = args
        .signals
        .iter()
        .map(|s| parse_band_pair(s).map_err(|e| anyhow!("--signals: {e}")))
        .collect::<Result<Vec<_>>>()?;
    Ok(RtkOptions {
        mode: if args.mode == "static" {
            RtkMode::Static
        } else {
            RtkMode::Kinematic
        },
        systems,
        mask: args.mask.to_radians(),
        bands,
        ratio: args.ratio,
        hold: args.hold,
        ..Default::default()
    })
}

/// The antenna models, with a warning for each antenna the file cannot serve.
fn antennas(
    args: &RtkArgs,
    rover: &input::Recording,
    base: &input::Recording,
    warn: &mut Vec<String>,
) -> Result<Antennas> {
    let Some(path) = &args.atx else {
        warn.push(
            "no --atx: antenna phase centres are not modelled; the baseline then joins the two antennas' mean L1/L2 phase centres, which for different antenna types differ by up to several centimetres in height".into(),
        );
        return Ok(Antennas::default());
    };
    let text =
        crate::rinex::read_text(path).map_err(|e| anyhow!("--atx {}: {e}", path.display()))?;
    // Only the two receivers' calibrations are read: the file holds hundreds.
    let wanted: Vec<&str> = [&rover.antenna, &base.antenna]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let antex = Antex::parse_receivers(&text, &wanted)
        .map_err(|e| anyhow!("--atx {}: {e}", path.display()))?;
    let mut pick = |rec: &input::Recording, role: &str| match &rec.antenna {
        None => {
            warn.push(format!(
                "{role} {}: no antenna name (no 1008/1033, no ANT # / TYPE): no phase-centre model; the {role} position refers to the mean phase centre, up to ~0.1 m from the antenna reference point",
                rec.path.display()
            ));
            None
        }
        Some(name) => match antex.receiver_by_descriptor(name) {
            Ok(a) => Some(a.clone()),
            Err(e) => {
                warn.push(format!(
                    "{role}: {e} ({}): no phase-centre model; the solution refers to the antenna reference point only to within that antenna's phase-centre offset, typically 5–15 cm in height",
                    path.display()
                ));
                None
            }
        },
    };
    let r = pick(rover, "rover");
    let b = pick(base, "base");
    Ok(Antennas {
        rover: r,
        base: b,
        satellites: Some(std::sync::Arc::new(antex)),
    })
}

pub fn run(args: &RtkArgs) -> Result<()> {
    let opts = options(args)?;
    let base_pos_arg = args
        .base_pos
        .as_deref()
        .map(crate::commands::replay::parse_xyz)
        .transpose()
        .map_err(|e| anyhow!("--base-pos: {e}"))?;
    let reference = match (args.week, args.date) {
        (Some(w), _) => Some(Gpst::from_week_tow(w, 0.0)),
        (_, Some(d)) => Some(Gpst::from_date(d)),
        _ => None,
    };
    let started = std::time::Instant::now();
    // Both recordings are opened at once; the ephemerides of every input serve every epoch.
    // Observations of systems left out are dropped as they are read: nothing uses them.
    let keep = Some(opts.systems.as_slice());
    let (rover, base) = std::thread::scope(|s| {
        let r = s.spawn(|| input::open(&args.rover, reference, keep));
        let b = input::open(&args.base, reference, keep);
        (
            r.join()
                .unwrap_or_else(|_| Err(anyhow!("reading the rover failed"))),
            b,
        )
    });
    let input::Opened {
        recording: rover,
        epochs: mut rover_epochs,
    } = rover.context("rover")?;
    let input::Opened {
        recording: base,
        epochs: mut base_epochs,
    } = base.context("base")?;
    let (mut store, _) = crate::commands::replay::load_nav(&args.nav)?;
    for e in rover.store.all().chain(base.store.all()) {
        store.insert(e.clone());
    }
    if store.is_empty() {
        bail!("no ephemerides in either recording: give the navigation data with --nav FILE");
    }
    let mut warn: Vec<String> = rover.notes.iter().chain(&base.notes).cloned().collect();
    let base_pos = match (base_pos_arg, base.arp) {
        (Some(p), _) => p,
        (None, Some(a)) => {
            warn.push(format!(
                "base position from {} ({:.4}, {:.4}, {:.4}): that is in the operator's datum, which may be metres from ITRF (give --base-pos for a known ITRF coordinate)",
                base.arp_source, a[0], a[1], a[2]
            ));
            Vector3::from(a)
        }
        (None, None) => bail!(
            "the base {} has no position (no 1005/1006 message, no header position): give --base-pos X,Y,Z",
            base.path.display()
        ),
    };
    if !(base_pos.norm() > 6.0e6 && base_pos.norm() < 6.5e6) {
        bail!(
            "base position ({:.3}, {:.3}, {:.3}) is not on the Earth's surface",
            base_pos.x,
            base_pos.y,
            base_pos.z
        );
    }
    let (r0, r1) = (rover_epochs.first, rover_epochs.last);
    let (b0, b1) = (base_epochs.first, base_epochs.last);
    if r1.diff(b0) < -opts.max_age_s || b1.diff(r0) < 0.0 {
        bail!(
            "mismatched dates: the rover spans {} – {} and the base {} – {} (GPST): they do not overlap",
            pos::time(r0),
            pos::time(r1),
            pos::time(b0),
            pos::time(b1)
        );
    }
    let ant = antennas(args, &rover, &base, &mut warn)?;
    for w in &warn {
        eprintln!("corsd rtk: warning: {w}");
    }
    let mut pos_out = match &args.pos {
        Some(p) => {
            let mut w = BufWriter::new(
                File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
            );
            let inputs = [
                args.rover.display().to_string(),
                args.base.display().to_string(),
            ];
            w.write_all(pos::rtk_header(&inputs, &opts, &base_pos).as_bytes())?;
            Some((p, w))
        }
        None => None,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let tty = io::stderr().is_terminal();
    let mut engine = Rtk::new(opts.clone(), base_pos, ant);
    let mut summary = Summary::new(opts.mode);
    let total = rover_epochs.len;
    // The base epoch in use and the one after it: each rover epoch takes the latest base epoch
    // at or before it (the first one when none is).
    let read =
        |e: &mut input::Epochs, role: &str| e.next_epoch().map_err(|e| anyhow!("{role}: {e}"));
    let mut b = read(&mut base_epochs, "base")?
        .ok_or_else(|| anyhow!("base {}: no epochs", base.path.display()))?;
    let mut next_b = read(&mut base_epochs, "base")?;
    let mut i = 0usize;
    while let Some(e) = read(&mut rover_epochs, "rover")? {
        while let Some(n) = next_b.take_if(|n| n.time <= e.time) {
            b = n;
            next_b = read(&mut base_epochs, "base")?;
        }
        let result = if b.time > e.time {
            Err(RtkSkip::NoBase {
                max_age_s: opts.max_age_s,
            })
        } else {
            engine.process(&e, &b, &store)
        };
        match result {
            Ok(s) => {
                if let Some((_, w)) = pos_out.as_mut() {
                    writeln!(w, "{}", pos::rtk_line(&s))?;
                }
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(&s)?)?;
                }
                summary.add(&s);
            }
            Err(skip) => summary.skip(e.time, &skip),
        }
        if tty && i % 200 == 0 {
            eprint!(
                "\rrtk: {i}/{total} epochs, {:.1} % fixed",
                summary.fixed_percent()
            );
        }
        i += 1;
    }
    if tty {
        eprintln!();
    }
    out.flush()?;
    if let Some((p, mut w)) = pos_out {
        w.flush()
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if summary.solutions() == 0 {
        bail!(
            "no solution from {} epochs: {}",
            total,
            summary.skip_reasons()
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    for l in summary.lines(total, elapsed) {
        eprintln!("corsd rtk: {l}");
    }
    Ok(())
}
