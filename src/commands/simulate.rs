//! `corsd simulate`: write a simulated station stream to a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::gnss::geodesy::Geodetic;
use crate::gnss::time::Gpst;
use crate::simulate::{Faults, SimConfig, Simulator};

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Station position as latitude,longitude,height (degrees, degrees, metres above the
    /// ellipsoid). Default: a station in Vientiane, Laos.
    #[arg(
        long,
        value_name = "LAT,LON,H",
        default_value = "17.9757,102.6331,180.0"
    )]
    pub station: String,
    /// Four-character station name (used in 1008/1033 descriptors).
    #[arg(long, default_value = "VTE1")]
    pub name: String,
    /// RTCM reference station ID.
    #[arg(long, default_value_t = 1)]
    pub station_id: u16,
    /// First epoch, UTC (RFC 3339). Fixed by default so that the same command gives the same bytes.
    #[arg(long, default_value = "2026-03-01T00:00:00Z")]
    pub start: String,
    /// Length of the stream in seconds.
    #[arg(long, default_value_t = 600)]
    pub duration: u32,
    /// Seconds between epochs.
    #[arg(long, default_value_t = 1)]
    pub interval: u32,
    /// MSM flavour of the observation messages: 4 (compact) or 7 (full resolution + Doppler).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(4..=7))]
    pub msm: u8,
    /// Also emit the other flavour (MSM4 and MSM7 of the same epoch), as a benchmark mix.
    #[arg(long)]
    pub both_msm: bool,
    /// Emit only the MSM observation messages (no station messages, no ephemerides).
    #[arg(long)]
    pub obs_only: bool,
    /// Systems as RINEX letters: G GPS, R GLONASS, E Galileo, C BeiDou, J QZSS.
    #[arg(long, default_value = "GRECJ")]
    pub systems: String,
    /// Elevation mask in degrees.
    #[arg(long, default_value_t = 5.0)]
    pub mask: f64,
    /// Seed of every random choice (noise, ambiguities, faults).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Add code and phase noise.
    #[arg(long)]
    pub noise: bool,
    /// Add code multipath.
    #[arg(long)]
    pub multipath: bool,
    /// Leave out the ionosphere and troposphere (pure geometry and clocks).
    #[arg(long)]
    pub no_atmosphere: bool,
    /// Probability per epoch of a gap (the epoch is not sent).
    #[arg(long, default_value_t = 0.0)]
    pub gaps: f64,
    /// Probability per epoch and satellite of a cycle slip.
    #[arg(long, default_value_t = 0.0)]
    pub slips: f64,
    /// Probability per frame of a corrupted byte (the frame's CRC then fails).
    #[arg(long, default_value_t = 0.0)]
    pub corrupt: f64,
    /// Write each epoch as a u-blox RXM-RAWX (from its MSM7) instead of RTCM3: a simulated
    /// raw receiver. Needs `--msm 7` and `--obs-only`.
    #[arg(long)]
    pub ubx: bool,
    /// Output file (`-` for standard output).
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: &SimulateArgs) -> Result<()> {
    let config = config(args)?;
    let mut sim = Simulator::new(config);
    let mut out: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(File::create(&args.output).with_context(
            || format!("cannot create {}", args.output.display()),
        )?))
    };
    let mut bytes = 0usize;
    let mut frames = 0usize;
    let mut raw_receiver = args.ubx.then(|| RawReceiver::new(sim.config().start));
    while let Some(mut chunk) = sim.next_epoch() {
        if let Some(r) = &mut raw_receiver {
            chunk = r.frames(&chunk);
        }
        for f in &chunk {
            out.write_all(f)
                .with_context(|| format!("cannot write {}", args.output.display()))?;
            bytes += f.len();
        }
        frames += chunk.len();
    }
    out.flush()?;
    eprintln!(
        "corsd simulate: {} epochs, {frames} frames, {bytes} bytes → {}",
        sim.epochs_done(),
        args.output.display()
    );
    let f = sim.faults_made;
    if f != crate::simulate::FaultCounts::default() {
        eprintln!(
            "  faults: {} epochs left out, {} cycle slips, {} frames corrupted",
            f.gap_epochs, f.slips, f.corrupted_frames
        );
    }
    Ok(())
}

/// The epochs of the simulated MSM7 stream as RXM-RAWX frames.
struct RawReceiver {
    state: crate::station::state::StationState,
}

impl RawReceiver {
    fn new(start: Gpst) -> Self {
        RawReceiver {
            state: crate::station::state::StationState::new(Some(start)),
        }
    }

    fn frames(&mut self, rtcm: &[Vec<u8>]) -> Vec<Vec<u8>> {
        use crate::messages::ubx::{Ubx, rawx::Rawx};
        let mut out = Vec::new();
        for f in rtcm {
            let Ok(m) = crate::messages::rtcm3::decode(&f[3..f.len() - 3]) else {
                continue;
            };
            let done = self.state.push(&m);
            for e in done
                .into_iter()
                .chain(std::iter::from_fn(|| self.state.take_ready()))
            {
                out.push(Ubx::Rawx(Rawx::from_epoch(&e)).to_frame());
            }
        }
        out
    }
}

fn config(args: &SimulateArgs) -> Result<SimConfig> {
    let parts: Vec<f64> = args
        .station
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| {
            format!(
                "--station {:?}: expected LAT,LON,H in degrees and metres",
                args.station
            )
        })?;
    let [lat, lon, h] = parts[..] else {
        bail!(
            "--station {:?}: expected three numbers LAT,LON,H",
            args.station
        );
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=360.0).contains(&lon) {
        bail!(
            "--station {:?}: latitude or longitude out of range",
            args.station
        );
    }
    let start = chrono::DateTime::parse_from_rfc3339(&args.start).with_context(|| {
        format!(
            "--start {:?}: expected RFC 3339, e.g. 2026-03-01T00:00:00Z",
            args.start
        )
    })?;
    let systems = super::replay::systems_of(&args.systems, "is not simulated (use G R E C J)")?;
    if args.name.len() != 4 || !args.name.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!(
            "--name {:?}: a station name is 4 letters or digits",
            args.name
        );
    }
    for (flag, p) in [
        ("--gaps", args.gaps),
        ("--slips", args.slips),
        ("--corrupt", args.corrupt),
    ] {
        if !(0.0..=1.0).contains(&p) {
            bail!("{flag} {p}: a probability is between 0 and 1");
        }
    }
    if args.msm != 4 && args.msm != 7 {
        bail!("--msm {}: 4 or 7", args.msm);
    }
    if args.ubx && (args.msm != 7 || args.both_msm || !args.obs_only) {
        bail!("--ubx: give --msm 7 --obs-only (RAWX is made from the full MSM7 observations)");
    }
    if args.interval == 0 {
        bail!("--interval must be at least 1 s");
    }
    if args.station_id > 4095 {
        bail!(
            "--station-id {}: RTCM station IDs are 0..4095",
            args.station_id
        );
    }
    Ok(SimConfig {
        name: args.name.to_ascii_uppercase(),
        station_id: args.station_id,
        position: Geodetic::from_degrees(lat, lon, h).to_ecef(),
        start: Gpst::from_utc(start.with_timezone(&chrono::Utc)),
        epochs: args.duration / args.interval,
        interval_s: args.interval,
        msm: args.msm,
        both_msm: args.both_msm,
        obs_only: args.obs_only,
        systems,
        mask_deg: args.mask,
        seed: args.seed,
        noise: args.noise,
        multipath: args.multipath,
        atmosphere: !args.no_atmosphere,
        faults: Faults {
            gap: args.gaps,
            slip: args.slips,
            corrupt: args.corrupt,
        },
    })
}
