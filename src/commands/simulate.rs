//! `corsd simulate`: write a simulated station stream to a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::gnss::geodesy::Geodetic;
use crate::gnss::time::Gpst;
use crate::simulate::walk::{Canopy, Walk};
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
    /// Length of the stream in seconds (default 600; with `--rover`, the whole walk).
    #[arg(long)]
    pub duration: Option<u32>,
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
    /// A flat ground below the antenna whose reflection modulates every signal's C/N0: the
    /// antenna's height above it (m), or per azimuth sector `FROM:H,FROM:H,…` (degrees:
    /// metres, e.g. `0:7.2,120:3.2,250:1.6`).
    #[arg(long, value_name = "H|FROM:H,…")]
    pub reflector: Option<String>,
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
    /// Also simulate a rover walking through a forest plot near the station (canopy blockage,
    /// low C/N0, cycle slips, three dense stands that block every satellite) and write its MSM7
    /// stream here; the station's stream, with the same sky and atmosphere, goes to `--output`.
    #[arg(long, value_name = "FILE", requires = "truth")]
    pub rover: Option<PathBuf>,
    /// The rover's truth, one CSV line per epoch: GPS week and time of week, ECEF of the
    /// antenna reference point (the simulator models no phase-centre offset, so it is also the
    /// phase centre), canopy, satellites tracked, lock restarts and slips.
    #[arg(long, value_name = "FILE", requires = "rover")]
    pub truth: Option<PathBuf>,
    /// Also write precise products of the simulated satellites into this directory, named
    /// after --name: `NAME.sp3` (SP3-d, centres of mass every 5 min), `NAME.clk` (RINEX clock,
    /// 30 s) and `NAME.atx` (ANTEX of the satellites' and the receiver's antennas). The
    /// observations then carry what a PPP model removes: solid Earth tide, phase wind-up,
    /// receiver and satellite PCO/PCV, Shapiro delay, relativity and a troposphere of known
    /// zenith delay. GLONASS is not in the products.
    #[arg(long, value_name = "DIR")]
    pub products: Option<PathBuf>,
    /// Write the SP3-d orbits of the simulated satellites here (as with --products).
    #[arg(long, value_name = "FILE")]
    pub sp3: Option<PathBuf>,
    /// Write the 30 s RINEX clocks of the simulated satellites here (as with --products).
    #[arg(long, value_name = "FILE")]
    pub clk: Option<PathBuf>,
    /// Write the ANTEX file of the simulated antennas here (as with --products).
    #[arg(long, value_name = "FILE")]
    pub atx: Option<PathBuf>,
    /// Output file (`-` for standard output).
    #[arg(short, long)]
    pub output: PathBuf,
}

impl SimulateArgs {
    /// Where each precise product goes, when any is asked for.
    fn product_paths(&self) -> [Option<PathBuf>; 3] {
        let named = |ext: &str| {
            self.products
                .as_ref()
                .map(|d| d.join(format!("{}.{ext}", self.name.to_ascii_uppercase())))
        };
        [
            self.sp3.clone().or_else(|| named("sp3")),
            self.clk.clone().or_else(|| named("clk")),
            self.atx.clone().or_else(|| named("atx")),
        ]
    }

    fn wants_products(&self) -> bool {
        self.product_paths().iter().any(Option::is_some)
    }
}

/// Writes the precise products the arguments ask for.
fn write_products(args: &SimulateArgs, sim: &Simulator) -> Result<()> {
    let Some(p) = sim.precise() else {
        return Ok(());
    };
    if let Some(dir) = &args.products {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--products {}: cannot create it", dir.display()))?;
    }
    let cfg = sim.config();
    let end = cfg
        .start
        .add(f64::from(cfg.epochs) * f64::from(cfg.interval_s));
    let sats = sim.satellites();
    let [sp3, clk, atx] = args.product_paths();
    let files: [(Option<PathBuf>, &dyn Fn() -> String); 3] = [
        (sp3, &|| p.sp3(sats, cfg.start, end)),
        (clk, &|| p.clk(sats, cfg.start, end)),
        (atx, &|| p.antex_file().to_string()),
    ];
    for (path, text) in files {
        if let Some(path) = path {
            std::fs::write(&path, text())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("  products → {}", path.display());
        }
    }
    Ok(())
}

/// The rover of `--rover`: its own receiver, clock, ambiguities and noise under the same sky.
fn rover_config(base: &SimConfig) -> SimConfig {
    let walk = Walk::forest_plot(&base.position);
    SimConfig {
        name: "ROV1".into(),
        station_id: (base.station_id + 1) % 4096,
        position: walk.at(0.0).position,
        msm: 7,
        both_msm: false,
        seed: base.seed.wrapping_mul(31).wrapping_add(7),
        clock_ns: -27.0,
        walk: Some(walk),
        ..base.clone()
    }
}

fn create(path: &Path) -> Result<Box<dyn Write>> {
    Ok(if path.as_os_str() == "-" {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ))
    })
}

/// The station and the rover, epoch by epoch, and the rover's truth.
fn run_pair(args: &SimulateArgs, base_cfg: SimConfig, rover: &Path, truth: &Path) -> Result<()> {
    let mut base = Simulator::new(base_cfg);
    let mut rov = Simulator::new(rover_config(base.config()));
    let mut base_out = create(&args.output)?;
    let mut rov_out = create(rover)?;
    let mut truth_out = create(truth)?;
    let p = base.config().position;
    writeln!(
        truth_out,
        "# corsd simulate: rover ROV1 walking a forest plot near station {} (ARP ECEF {:.4},{:.4},{:.4} m)\n\
         # position: the rover's antenna reference point (ARP), ECEF WGS 84 (m); no phase-centre offset or variation is simulated, so it is the phase centre too\n\
         # canopy: open | light (partial blockage, 4-14 dB weaker, slips) | dense (every satellite blocked)\n\
         # lock_restarts: satellites tracked before whose lock began again (slip or re-acquisition); slips: of those, slips in view\n\
         {}",
        base.config().name,
        p.x,
        p.y,
        p.z,
        crate::simulate::Truth::CSV_HEADER
    )?;
    let (mut epochs, mut gaps, mut restarts, mut bytes) = (0u32, 0u32, 0usize, [0usize; 2]);
    let mut last_canopy = Canopy::Open;
    while let (Some(b), Some(r)) = (base.next_epoch(), rov.next_epoch()) {
        for f in &b {
            base_out.write_all(f)?;
            bytes[0] += f.len();
        }
        for f in &r {
            rov_out.write_all(f)?;
            bytes[1] += f.len();
        }
        if let Some(t) = rov.truth() {
            writeln!(truth_out, "{}", t.csv())?;
            if t.canopy == Canopy::Dense && last_canopy != Canopy::Dense {
                gaps += 1;
            }
            last_canopy = t.canopy;
            restarts += t.lock_restarts.len();
        }
        epochs += 1;
    }
    base_out.flush()?;
    rov_out.flush()?;
    truth_out.flush()?;
    eprintln!(
        "corsd simulate: {epochs} epochs; station {} bytes → {}; rover {} bytes → {}; truth → {}",
        bytes[0],
        args.output.display(),
        bytes[1],
        rover.display(),
        truth.display()
    );
    eprintln!(
        "  rover: {gaps} canopy gaps, {restarts} lock restarts ({} slips in view)",
        rov.faults_made.slips
    );
    Ok(())
}

pub fn run(args: &SimulateArgs) -> Result<()> {
    if args.rover.is_some() && args.wants_products() {
        bail!(
            "--rover: precise products (--products, --sp3, --clk, --atx) are made for a station alone"
        );
    }
    if args.rover.is_some() && (args.ubx || args.both_msm || args.obs_only) {
        bail!(
            "--rover: give neither --ubx, --both-msm nor --obs-only (the pair is MSM with station messages and ephemerides)"
        );
    }
    let config = config(args)?;
    if let (Some(rover), Some(truth)) = (&args.rover, &args.truth) {
        let stdout = [&args.output, rover, truth]
            .iter()
            .filter(|p| p.as_os_str() == "-")
            .count();
        if stdout > 1 {
            bail!("-o, --rover and --truth: only one of them can be `-` (standard output)");
        }
        return run_pair(args, config, rover, truth);
    }
    let mut sim = Simulator::new(config);
    let mut out = create(&args.output)?;
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
    write_products(args, &sim)?;
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
        epochs: args.duration.unwrap_or(if args.rover.is_some() {
            Walk::duration_s().ceil() as u32 + 1
        } else {
            600
        }) / args.interval,
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
        pair_model: args.rover.is_some(),
        clock_ns: if args.rover.is_some() { 12.0 } else { 0.0 },
        reflector: match &args.reflector {
            Some(r) => reflector(r)?,
            None => Vec::new(),
        },
        precise: args.wants_products(),
        ..Default::default()
    })
}

/// `H` or `FROM:H,FROM:H,…` into sectors sorted by their start azimuth.
fn reflector(s: &str) -> Result<Vec<(f64, f64)>> {
    let bad = || {
        anyhow::anyhow!(
            "--reflector {s:?}: give a height in metres, or FROM:H,… with azimuths 0–360 and \
             heights between 0 and 100 m"
        )
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        let (from, h) = match part.split_once(':') {
            Some((a, h)) => (a.trim().parse::<f64>(), h.trim().parse::<f64>()),
            None => (Ok(0.0), part.trim().parse::<f64>()),
        };
        let (Ok(from), Ok(h)) = (from, h) else {
            return Err(bad());
        };
        if !((0.0..360.0).contains(&from) && h > 0.0 && h <= 100.0) {
            return Err(bad());
        }
        out.push((from, h));
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out)
}
