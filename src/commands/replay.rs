//! `corsd replay FILE...`: recorded RTCM3 streams through the station pipeline (framing,
//! decoding, epoch assembly, carrier smoothing, single point positioning), as fast as possible
//! and deterministic: the same input gives the same bytes out.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use nalgebra::Vector3;

use super::influx_args::InfluxArgs;
use crate::gnss::Gnss;
use crate::gnss::geodesy::enu;
use crate::gnss::spp::{Solution, SppOptions};
use crate::gnss::time::Gpst;
use crate::rinex::write::{ObsWriter, StationInfo, write_nav};
use crate::sinks::pos;
use crate::sinks::series::SinkStatus;
use crate::station::pipeline::{Output, Pipeline, PipelineConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Recorded RTCM3 streams or u-blox raw output (RXM-RAWX/SFRBX; mixed with NMEA is fine),
    /// or RINEX 3 observation files (plain, gzipped or Hatanaka-compressed; give their
    /// navigation files with --nav).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// RINEX 3 navigation file(s) for RINEX observation input (plain, gzipped). Their header's
    /// broadcast ionosphere (GPSA/GPSB) corrects single-frequency code; without one the
    /// solution is ionosphere-free.
    #[arg(long, value_name = "FILE")]
    pub nav: Vec<PathBuf>,
    /// Broadcast ionosphere coefficients α0,α1,α2,α3,β0,β1,β2,β3 (as in a navigation header's
    /// GPSA/GPSB lines), for data whose navigation files carry none: the values the GPS
    /// satellites broadcast on that day, from the receiver's own navigation data or a daily
    /// broadcast file. They replace a navigation header's and switch RINEX input to
    /// single-frequency carrier-smoothed code. Negative values need no quoting.
    #[arg(long, value_name = "A0,..,B3", allow_hyphen_values = true)]
    pub klobuchar: Option<String>,
    /// Write the solutions in RTKLIB's .pos layout (ECEF), which RTKPLOT opens.
    #[arg(long, value_name = "FILE")]
    pub pos: Option<PathBuf>,
    /// Print each solution as a JSON line on standard output.
    #[arg(long)]
    pub json: bool,
    /// Systems for the solution as RINEX letters (G GPS, R GLONASS, E Galileo, C BeiDou, J QZSS).
    #[arg(long, default_value = "GRECJ")]
    pub systems: String,
    /// GPS week of the data, when the stream has no 1013 message to date it.
    #[arg(long, conflicts_with = "date")]
    pub week: Option<i64>,
    /// UTC date of the data (YYYY-MM-DD), when the stream has no 1013 message to date it.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Surveyed antenna position X,Y,Z (ECEF, m): the summary gives the offsets from it.
    /// Negative coordinates need no quoting: `--station-pos -2364337.44,4870285.61,-3360809.63`.
    #[arg(long, value_name = "X,Y,Z", allow_hyphen_values = true)]
    pub station_pos: Option<String>,
    /// Elevation mask in degrees. Low satellites are down-weighted rather than dropped, so
    /// the default keeps them; 15 is RTKLIB's usual figure.
    #[arg(long, default_value_t = 5.0)]
    pub mask: f64,
    /// Carrier-smoothing window in epochs for RTCM input (1 = raw code). RINEX input, read
    /// whole, is smoothed over ±5 minutes centred on each epoch instead.
    #[arg(long, default_value_t = 100)]
    pub smoothing: u32,
    /// Station tag of the time series (default: a RINEX file's MARKER NAME, else the reference
    /// station ID of the stream's 1033/1008 when set, else the whole file name without its
    /// extension).
    #[arg(long, value_name = "NAME")]
    pub station: Option<String>,
    /// Write a RINEX 3.04 observation file per input into DIR (long name from --station and
    /// --country, span and interval from the data).
    #[arg(long, value_name = "DIR")]
    pub rinex: Option<PathBuf>,
    /// Country code (ISO 3166 alpha-3) for RINEX long names.
    #[arg(long, default_value = "XXX")]
    pub country: String,
    /// Write RTCM 2.3 DGNSS corrections (types 1 GPS, 3 station, 31 GLONASS; "6 of 8" bytes as
    /// sent to a radio or NTRIP) for every epoch into FILE, computed against --station-pos.
    #[arg(long, value_name = "FILE", requires = "station_pos")]
    pub rtcm2: Option<PathBuf>,
    /// Reference station ID (0–1023) in the RTCM 2.3 headers. Avoid multiples of 64: they put
    /// a byte 0x40 in every header, which gpsd's protocol sniffer takes for another protocol.
    #[arg(long, value_name = "ID", default_value_t = 1, value_parser = clap::value_parser!(u16).range(0..=1023))]
    pub rtcm2_station: u16,
    /// Write the time series (DESIGN §4) as hourly line-protocol files into DIR.
    #[arg(long, value_name = "DIR")]
    pub series: Option<PathBuf>,
    /// Backfill the time series into InfluxDB through the spool (idempotent: a second replay
    /// of the same log writes the same points, same timestamps and tags).
    #[command(flatten)]
    pub influx: InfluxArgs,
}

/// Where replayed time series go.
struct SeriesOut {
    tx: tokio::sync::mpsc::Sender<Vec<crate::telemetry::Point>>,
    task: tokio::task::JoinHandle<Result<(), crate::sinks::series::SeriesError>>,
    status: Arc<SinkStatus>,
    runtime: tokio::runtime::Runtime,
    _stop: tokio::sync::watch::Sender<bool>,
    what: String,
}

impl SeriesOut {
    fn start(args: &ReplayArgs) -> Result<Option<SeriesOut>> {
        let influx = args.influx.settings(PathBuf::from("corsd-replay-spool"))?;
        if influx.is_none() && args.series.is_none() {
            return Ok(None);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let status = Arc::new(SinkStatus::default());
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let (task, what) = match (influx, &args.series) {
            (Some(i), _) => {
                let what = format!("{} (spool {})", i.url, i.spool_dir.display());
                (
                    runtime.spawn(crate::sinks::series::influx::run(
                        i,
                        rx,
                        status.clone(),
                        stop_rx,
                        true,
                    )),
                    what,
                )
            }
            (None, Some(dir)) => (
                runtime.spawn(crate::sinks::series::files::run(
                    dir.clone(),
                    rx,
                    status.clone(),
                )),
                dir.display().to_string(),
            ),
            (None, None) => unreachable!("checked above"),
        };
        Ok(Some(SeriesOut {
            tx,
            task,
            status,
            runtime,
            _stop: stop,
            what,
        }))
    }

    fn send(&self, points: &mut Vec<crate::telemetry::Point>) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        self.tx
            .blocking_send(std::mem::take(points))
            .map_err(|_| anyhow::anyhow!("the time-series sink stopped"))
    }

    fn finish(self, show_progress: bool) -> Result<()> {
        let SeriesOut {
            tx,
            task,
            status,
            runtime,
            _stop,
            what,
        } = self;
        drop(tx);
        if show_progress {
            eprintln!("sending the time series to {what} …");
        }
        runtime.block_on(task)??;
        let written = status.points_written.load(Ordering::Relaxed);
        let rejected = status.points_rejected.load(Ordering::Relaxed);
        let left = status.spool_bytes.load(Ordering::Relaxed);
        eprintln!("corsd replay: {written} points written to {what}, {rejected} rejected");
        if left > 0 {
            bail!(
                "{left} bytes of time series could not be sent and wait in the spool; run the same replay again (with the same --spool-dir) once the database answers"
            );
        }
        Ok(())
    }
}

/// Ephemerides and the broadcast ionosphere (GPSA/GPSB) of RINEX navigation files.
pub(crate) fn load_nav(
    paths: &[PathBuf],
) -> Result<(
    crate::gnss::nav::EphemerisStore,
    Option<crate::gnss::atmosphere::Klobuchar>,
)> {
    let mut store = crate::gnss::nav::EphemerisStore::new();
    let mut klobuchar = None;
    for n in paths {
        let text = crate::rinex::read_text(n)
            .map_err(|e| anyhow::anyhow!("--nav {}: {e}", n.display()))?;
        klobuchar = klobuchar.or(crate::rinex::read_nav_klobuchar(&text));
        let (sets, _) = crate::rinex::read_nav(&text)
            .map_err(|e| anyhow::anyhow!("--nav {}: {e}", n.display()))?;
        for e in sets {
            store.insert(e);
        }
    }
    Ok((store, klobuchar))
}

/// Eight comma-separated Klobuchar coefficients.
pub(crate) fn parse_klobuchar(s: &str) -> Result<crate::gnss::atmosphere::Klobuchar> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().replace(['D', 'd'], "E").parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("--klobuchar {s}: {e}"))?;
    if v.len() != 8 || v.iter().any(|x| !x.is_finite()) {
        bail!("--klobuchar {s}: give eight numbers α0,α1,α2,α3,β0,β1,β2,β3");
    }
    Ok(crate::gnss::atmosphere::Klobuchar {
        alpha: [v[0], v[1], v[2], v[3]],
        beta: [v[4], v[5], v[6], v[7]],
    })
}

pub(crate) fn parse_xyz(s: &str) -> Result<Vector3<f64>> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--station-pos {s:?}: expected X,Y,Z in metres"))?;
    let [x, y, z] = v[..] else {
        bail!("--station-pos {s:?}: expected three numbers X,Y,Z");
    };
    Ok(Vector3::new(x, y, z))
}

pub(crate) fn systems(letters: &str) -> Result<Vec<Gnss>> {
    systems_of(
        letters,
        "is not part of the solution (G, R, E, C and J are)",
    )
}

/// `--systems` letters, each one of the five solved systems; `refusal` says why another is not.
pub(crate) fn systems_of(letters: &str, refusal: &str) -> Result<Vec<Gnss>> {
    let mut out = Vec::new();
    for c in letters.chars() {
        let g = Gnss::from_letter(c)
            .with_context(|| format!("--systems: unknown system letter {c:?}"))?;
        if !crate::gnss::spp::SYSTEMS.contains(&g) {
            bail!("--systems: {c} {refusal}");
        }
        out.push(g);
    }
    Ok(out)
}

/// What every file's replay shares.
struct FileCtx<'a> {
    args: &'a ReplayArgs,
    truth: Option<Vector3<f64>>,
    reference: Option<Gpst>,
    opt: &'a SppOptions,
    series: Option<&'a SeriesOut>,
    /// Ephemerides and broadcast ionosphere from --nav, for RINEX observation input.
    nav: &'a (
        crate::gnss::nav::EphemerisStore,
        Option<crate::gnss::atmosphere::Klobuchar>,
    ),
}

pub(crate) use crate::station::survey::recording::is_rinex_obs;

/// A RINEX observation file through the same solutions: carrier smoothing centred on each epoch
/// (the whole file is at hand), the navigation files' broadcast ionosphere on single-frequency
/// code when they have one.
fn replay_rinex(
    file: &std::path::Path,
    ctx: &FileCtx<'_>,
    emit: &mut dyn FnMut(&Solution) -> Result<()>,
    read_total: &AtomicU64,
) -> Result<FileResult> {
    let text =
        crate::rinex::read_text(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (mut epochs, approx) =
        crate::rinex::read_obs(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    read_total.fetch_add(
        std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
        Ordering::Relaxed,
    );
    let (store, klobuchar) = ctx.nav;
    if store.is_empty() {
        bail!(
            "{}: RINEX observations need their navigation data: give --nav FILE",
            file.display()
        );
    }
    crate::gnss::spp::smooth_centered(&mut epochs, 300.0);
    let mut opt = ctx.opt.clone();
    if klobuchar.is_some() {
        opt.klobuchar = *klobuchar;
        opt.iono_free = false;
    }
    let mut r = FileResult::default();
    // The epochs' `station_position` and `satellite` points; a RINEX file tells nothing about
    // the link, so no `stream` or `message` points.
    let mut series = ctx.series.map(|_| {
        let station = ctx.args.station.clone().unwrap_or_else(|| {
            let (tag, from) = super::station_tag::station_tag(file, true);
            r.messages.push(format!(
                "corsd replay: {}: station tag \"{tag}\" from {from}",
                file.display()
            ));
            tag
        });
        crate::station::series::Series::new(&station, "replay", ctx.truth, &opt)
    });
    let mut points = Vec::new();
    let mut qc = crate::gnss::qc::Qc::new();
    let mut last = approx.map(Vector3::from);
    for e in &epochs {
        qc.add(e);
        r.epochs += 1;
        let sol = crate::gnss::spp::solve(e, store, &opt, last);
        if let (Some(series), Some(sink)) = (series.as_mut(), ctx.series) {
            series.observe(e);
            if let Some(s) = &sol {
                let v = crate::gnss::spp::velocity(e, store, s);
                points.push(series.position(s, e.sats.len(), v));
            }
            let approx = sol.as_ref().map(|s| Vector3::from(s.position)).or(last);
            series.satellites(e, sol.as_ref(), store, approx, &mut points);
            if points.len() >= 4096 {
                sink.send(&mut points)?;
            }
        }
        if let Some(s) = sol {
            last = Some(Vector3::from(s.position));
            r.solved += 1;
            if let Some(t) = ctx.truth {
                let p = Vector3::from(s.position);
                r.sum2 += (p - t).norm_squared();
                r.sum_enu += enu(&t, &p);
            }
            emit(&s)?;
        }
    }
    if let Some(sink) = ctx.series {
        sink.send(&mut points)?;
    }
    r.messages.push(format!(
        "corsd replay: {}: RINEX observations, {}",
        file.display(),
        if ctx.args.klobuchar.is_some() {
            "single-frequency code with the broadcast ionosphere of --klobuchar"
        } else if klobuchar.is_some() {
            "single-frequency code with the navigation file's broadcast ionosphere"
        } else {
            "ionosphere-free code (the navigation files carry no broadcast ionosphere)"
        }
    ));
    for l in qc.lines() {
        r.messages.push(format!("  {l}"));
    }
    Ok(r)
}

/// What one file gave.
#[derive(Default)]
struct FileResult {
    epochs: usize,
    solved: usize,
    sum2: f64,
    sum_enu: Vector3<f64>,
    pos_text: String,
    json_text: String,
    /// RTCM 2.3 bytes, written in file order.
    rtcm2: Vec<u8>,
    /// Lines for the operator, printed in file order.
    messages: Vec<String>,
}

/// Replay one file; each solution goes to `emit` as it is found.
fn replay_file(
    file: &std::path::Path,
    ctx: &FileCtx<'_>,
    emit: &mut dyn FnMut(&Solution) -> Result<()>,
    read_total: &AtomicU64,
) -> Result<FileResult> {
    if is_rinex_obs(file) {
        return replay_rinex(file, ctx, emit, read_total);
    }
    let args = ctx.args;
    let truth = ctx.truth;
    let mut r = FileResult::default();
    let mut input = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let station = args.station.clone().unwrap_or_else(|| {
        let (tag, from) = super::station_tag::station_tag(file, false);
        r.messages.push(format!(
            "corsd replay: {}: station tag \"{tag}\" from {from}",
            file.display()
        ));
        tag
    });
    let mut pipeline = Pipeline::new(PipelineConfig {
        station,
        source: "replay".into(),
        truth,
        spp: ctx.opt.clone(),
        smoothing: args.smoothing,
        reference: ctx.reference,
        points: ctx.series.is_some(),
        data_clock: true,
        dgnss: args.rtcm2.is_some(),
        ..Default::default()
    });
    let mut rinex = match &args.rinex {
        Some(dir) => Some(ObsWriter::create(
            dir,
            StationInfo {
                name: pipeline.config().station.clone(),
                country: args.country.clone(),
                position: truth,
                ..Default::default()
            },
            "",
        )?),
        None => None,
    };
    // The station's corrections, encoded as an RTCM 2.3 output would.
    let mut rtcm2 = args
        .rtcm2
        .as_ref()
        .map(|_| crate::feeds::rtcm2::Rtcm2Encoder::new(args.rtcm2_station));
    let mut produced = Output::default();
    let mut qc = crate::gnss::qc::Qc::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = input
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", file.display()))?;
        produced.clear();
        if n == 0 {
            pipeline.finish(&mut produced);
        } else {
            pipeline.push(&buf[..n], &mut produced);
            read_total.fetch_add(n as u64, Ordering::Relaxed);
        }
        r.epochs += produced.epochs.len();
        for e in &produced.epochs {
            qc.add(e);
        }
        if let Some(enc) = rtcm2.as_mut() {
            for c in &produced.corrections {
                r.rtcm2.extend(enc.encode(c));
            }
        }
        if let Some(w) = rinex.as_mut() {
            for e in &produced.epochs {
                w.write(e)?;
            }
        }
        if let Some(sink) = ctx.series {
            sink.send(&mut produced.points)?;
        }
        for s in &produced.solutions {
            r.solved += 1;
            if let Some(t) = truth {
                let p = Vector3::from(s.position);
                r.sum2 += (p - t).norm_squared();
                r.sum_enu += enu(&t, &p);
            }
            emit(s)?;
        }
        if n == 0 {
            break;
        }
    }
    let fs = pipeline.framer_stats();
    r.messages.push(format!(
        "corsd replay: {}: {} frames, {} with a bad CRC, {} bytes outside frames",
        file.display(),
        fs.rtcm3_frames + fs.nmea_frames + fs.ubx_frames,
        fs.rtcm3_crc_errors + fs.nmea_errors + fs.ubx_checksum_errors,
        fs.discarded_bytes
    ));
    for l in qc.lines() {
        r.messages.push(format!("  {l}"));
    }
    if let Some(w) = rinex.as_mut() {
        w.learn(&pipeline.state.told());
    }
    if let Some(w) = rinex
        && let Some(start) = w.start()
    {
        let (span, station) = (w.span_label(), w.station().clone());
        if let Some(path) = w.close()? {
            r.messages.push(format!(
                "corsd replay: RINEX observations in {}",
                path.display()
            ));
        }
        let dir = args.rinex.as_deref().unwrap_or(std::path::Path::new("."));
        if let Some(path) = write_nav(dir, &station, &pipeline.state.store, start, &span)? {
            r.messages.push(format!(
                "corsd replay: RINEX navigation in {}",
                path.display()
            ));
        }
    }
    if pipeline.state.unreferenced > 0 && pipeline.state.reference.is_none() {
        r.messages.push(format!(
            "corsd replay: {}: no 1013 message dates this stream; give --week or --date",
            file.display()
        ));
    }
    Ok(r)
}

pub fn run(args: &ReplayArgs) -> Result<()> {
    let systems = systems(&args.systems)?;
    let truth = args.station_pos.as_deref().map(parse_xyz).transpose()?;
    if !(0.0..90.0).contains(&args.mask) {
        bail!("--mask {}: degrees between 0 and 90", args.mask);
    }
    let reference = match (args.week, args.date) {
        (Some(w), _) => Some(Gpst::from_week_tow(w, 0.0)),
        (_, Some(d)) => Some(Gpst::from_date(d)),
        _ => None,
    };
    let mut nav = load_nav(&args.nav)?;
    if let Some(k) = &args.klobuchar {
        nav.1 = Some(parse_klobuchar(k)?);
    }
    // Dual-frequency stays first for RTCM input; the broadcast ionosphere serves the
    // satellites that have one frequency only.
    let opt = SppOptions {
        systems: systems.clone(),
        mask: args.mask.to_radians(),
        klobuchar: nav.1,
        ..Default::default()
    };
    let mut pos_out = match &args.pos {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    if let Some(w) = pos_out.as_mut() {
        let names: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
        let ionosphere = match (nav.1.is_some(), args.klobuchar.is_some()) {
            (true, true) => "Broadcast (RINEX input: --klobuchar, carrier-smoothed code)",
            (true, false) => {
                "Broadcast (RINEX input: navigation file's GPSA/GPSB, carrier-smoothed code)"
            }
            (false, _) => "Dual-Frequency (ionosphere-free, carrier-smoothed code)",
        };
        w.write_all(pos::header(&names, args.mask, ionosphere, &systems).as_bytes())?;
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let show_progress = io::stderr().is_terminal();
    let series = SeriesOut::start(args)?;
    let ctx = FileCtx {
        args,
        truth,
        reference,
        opt: &opt,
        series: series.as_ref(),
        nav: &nav,
    };
    let total: u64 = args
        .files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let read = AtomicU64::new(0);
    let solved_live = AtomicU64::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut results: Vec<Result<FileResult>> = Vec::new();
    let next = AtomicU64::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result<FileResult>>>> = args
        .files
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|scope| {
        if show_progress && total > 0 {
            scope.spawn(|| {
                let mut last = u64::MAX;
                while !done.load(Ordering::Relaxed) {
                    let pct = read.load(Ordering::Relaxed) * 100 / total;
                    if pct != last {
                        last = pct;
                        eprint!(
                            "\rreplay: {pct:3}% of {} file(s), {} solutions",
                            args.files.len(),
                            solved_live.load(Ordering::Relaxed)
                        );
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                eprintln!();
            });
        }
        if args.files.len() == 1 {
            // One file: positions stream straight out.
            let mut emit = |s: &Solution| -> Result<()> {
                solved_live.fetch_add(1, Ordering::Relaxed);
                if let Some(w) = pos_out.as_mut() {
                    writeln!(w, "{}", pos::line(s))?;
                }
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(s)?)?;
                }
                Ok(())
            };
            results.push(replay_file(&args.files[0], &ctx, &mut emit, &read));
        } else {
            // Several files in parallel; their outputs are kept and written in the order the
            // files were given, so the output does not depend on which finished first.
            let workers = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(args.files.len());
            let mut handles = Vec::new();
            for _ in 0..workers {
                handles.push(scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let Some(file) = args.files.get(i) else { break };
                        let mut text = (String::new(), String::new());
                        let mut emit = |s: &Solution| -> Result<()> {
                            solved_live.fetch_add(1, Ordering::Relaxed);
                            if args.pos.is_some() {
                                text.0.push_str(&pos::line(s));
                                text.0.push('\n');
                            }
                            if args.json {
                                text.1.push_str(&serde_json::to_string(s)?);
                                text.1.push('\n');
                            }
                            Ok(())
                        };
                        let r = replay_file(file, &ctx, &mut emit, &read).map(|mut fr| {
                            fr.pos_text = std::mem::take(&mut text.0);
                            fr.json_text = std::mem::take(&mut text.1);
                            fr
                        });
                        *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                    }
                }));
            }
            for h in handles {
                let _ = h.join();
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    for s in slots {
        if let Some(r) = s.into_inner().unwrap_or_else(|p| p.into_inner()) {
            results.push(r);
        }
    }
    let mut rtcm2_out = match &args.rtcm2 {
        Some(p) => Some((
            p,
            BufWriter::new(
                File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
            ),
            0usize,
        )),
        None => None,
    };
    let (mut epochs, mut solved, mut sum2) = (0usize, 0usize, 0.0f64);
    let mut sum_enu = Vector3::zeros();
    for r in results {
        let r = r?;
        epochs += r.epochs;
        solved += r.solved;
        sum2 += r.sum2;
        sum_enu += r.sum_enu;
        if let Some(w) = pos_out.as_mut() {
            w.write_all(r.pos_text.as_bytes())?;
        }
        out.write_all(r.json_text.as_bytes())?;
        if let Some((_, w, n)) = rtcm2_out.as_mut() {
            w.write_all(&r.rtcm2)?;
            *n += r.rtcm2.len();
        }
        for m in r.messages {
            eprintln!("{m}");
        }
    }
    out.flush()?;
    if let Some(sink) = series {
        sink.finish(show_progress)?;
    }
    if let Some(mut w) = pos_out {
        w.flush()?;
    }
    if let Some((p, mut w, n)) = rtcm2_out {
        w.flush()?;
        eprintln!(
            "corsd replay: RTCM 2.3 corrections in {} ({n} bytes)",
            p.display()
        );
    }
    eprintln!("corsd replay: {epochs} epochs, {solved} solutions");
    if truth.is_some() && solved > 0 {
        let m = sum_enu / solved as f64;
        eprintln!(
            "  3D RMS from the station position: {:.3} m; mean offset E {:.3} N {:.3} U {:.3} m",
            (sum2 / solved as f64).sqrt(),
            m.x,
            m.y,
            m.z
        );
    }
    Ok(())
}
