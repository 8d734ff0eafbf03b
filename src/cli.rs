//! The command line: `corsd <command>`.
//!
//! Exit codes (DESIGN §2): 0 ok, 2 bad usage or configuration, 1 runtime failure.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// corsd — data processor for a BeiDou/GNSS continuously operating reference station.
///
/// Reads the reference receiver's RTCM3/NMEA streams (serial, TCP, NTRIP, UDP, files), checks and
/// decodes them, positions the antenna, and writes the station's time series to InfluxDB (through
/// a durable on-disk spool) or to line-protocol files. `corsd run` with no configuration starts a
/// simulated demo station. Logs go to stderr; set RUST_LOG=debug for more.
#[derive(Debug, Parser)]
#[command(name = "corsd", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the station daemon.
    ///
    /// With -c FILE: the station in the configuration (see README for the keys). Without it: the
    /// embedded demo station, a simulated receiver in Vientiane at the live clock, writing time
    /// series to hourly line-protocol files under --demo-dir (or to InfluxDB with --influx-url)
    /// and serving /healthz and /metrics on 127.0.0.1:8080.
    ///
    /// SIGTERM or Ctrl-C stops it cleanly: the pending time series are flushed into the spool
    /// (or the files) and synced; nothing accepted is lost.
    ///
    /// Examples:
    ///   corsd run
    ///   corsd run --influx-url http://127.0.0.1:8428
    ///   corsd run -c /etc/corsd/corsd.toml
    Run(commands::run::RunArgs),
    /// Check a configuration file and exit: 0 when valid, 2 with the file, line and key of the
    /// first problem otherwise.
    CheckConfig(commands::check_config::CheckConfigArgs),
    /// Decode a recorded stream (RTCM3, NMEA and UBX, mixed) and print one line per frame.
    ///
    /// Frames are found by the same resynchronising framer as the daemon uses: bytes outside
    /// valid frames are counted as discarded, bad checksums are counted per protocol, and the
    /// rest of the stream goes on. A summary (frames per type, bad frames, discarded bytes)
    /// goes to stderr.
    ///
    /// Examples:
    ///   corsd decode station.rtcm3 | less
    ///   corsd decode --json capture.bin | jq 'select(.type == 1042)'
    ///   nc receiver 5017 | corsd decode --json -
    Decode(commands::decode::DecodeArgs),
    /// Write a simulated RTCM3 station stream: a known position (default: Vientiane, Laos),
    /// built-in GPS, GLONASS, Galileo, BeiDou (GEO/IGSO/MEO, BDS-2 and BDS-3 signals) and QZSS
    /// orbits, MSM4 or MSM7 observations, station messages and broadcast ephemerides.
    ///
    /// Seeded and reproducible: the same options give the same bytes. Optional noise,
    /// multipath, gaps, cycle slips and corrupted frames. With --rover, a base and a rover
    /// walking through a forest plot near it (canopy, low C/N0, slips), each with its own clock
    /// and ambiguities under the same sky and atmosphere, and the rover's truth trajectory.
    ///
    /// Examples:
    ///   corsd simulate --duration 3600 -o station.rtcm3
    ///   corsd simulate --msm 7 --noise --corrupt 0.01 --duration 600 -o faulty.rtcm3
    ///   corsd simulate --systems GECJ --noise --rover rover.rtcm3 --truth truth.csv -o base.rtcm3
    Simulate(commands::simulate::SimulateArgs),
    /// Replay recorded RTCM3 streams through the station pipeline and position the antenna.
    ///
    /// Frames, decodes, assembles epochs (resolving week rollovers from the stream's 1013 time or
    /// --week/--date, never the wall clock), smooths the code with the carrier, and solves a
    /// multi-GNSS single point position per epoch. Deterministic: the same input gives the same
    /// output. A progress line shows on a terminal.
    ///
    /// Examples:
    ///   corsd replay station.rtcm3 --pos station.pos --station-pos -4467075.278,2683011.852,-3667007.010
    ///   corsd replay --systems C --json day.rtcm3 | jq .pdop
    Replay(commands::replay::ReplayArgs),
    /// Carrier-phase positioning (RTK) of a rover against a base from two recordings.
    ///
    /// RTCM3 streams or RINEX 3 observations, matched by GNSS time (week rollovers resolved as
    /// replay does), ephemerides read ahead from every input. Double differences of code and
    /// phase on two bands per system, a Kalman filter on the rover position and the ambiguities,
    /// LAMBDA with the ratio test and a residual check; GLONASS ambiguities stay float. Writes
    /// RTKLIB .pos (Q 1 fixed, 2 float) or JSON lines, and a summary on stderr.
    ///
    /// Examples:
    ///   corsd rtk str1.rtcm3 --base str2.rtcm3 --base-pos -4467075.278,2683011.852,-3667007.010 --atx igs05.atx --pos str1.pos
    ///   corsd rtk rover.obs --base base.obs --nav brdc.rnx --mode static
    Rtk(commands::rtk::RtkArgs),
    /// The station's own coordinate by precise point positioning (PPP) from precise products.
    ///
    /// Dual-frequency ionosphere-free code and phase, SP3 orbits and RINEX clocks, ANTEX
    /// receiver and satellite antennas, solid Earth tide, wind-up, relativity, zenith wet delay
    /// estimated. Prints the marker's coordinate in the products' frame at the data's epoch
    /// with sigmas and the difference from the header or configured position; --frame
    /// transforms it (EUREF's ITRF2014 -> ETRF2000 set, or --helmert parameters).
    ///
    /// Examples:
    ///   corsd survey ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz --sp3 GRG176.SP3.gz GRG177.SP3.gz --clk GRG177.CLK.gz --atx igs14.atx
    ///   corsd survey day.rnx --sp3 a.sp3 --clk a.clk --atx igs20.atx --frame ETRF2000 --json
    Survey(commands::survey::SurveyArgs),
    /// Reflector heights from the C/N0 of low satellites (GNSS interferometric reflectometry).
    ///
    /// Per satellite and signal, the rising and setting arcs inside the elevation window: C/N0
    /// to linear volts/volts, a 4th-order polynomial in elevation removed, a Lomb–Scargle
    /// periodogram against sin(elevation)/(λ/2), the highest peak inside the RH window; kept
    /// when the peak's amplitude exceeds 5 and its peak-to-noise ratio 2.8 over the RH window
    /// and the arc spans the window (gnssrefl's defaults), refraction corrected. Prints the
    /// accepted arcs on stdout and the arcs tried and kept per signal and the median RH per
    /// azimuth sector on stderr.
    ///
    /// Examples:
    ///   corsd reflect ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz --sp3 GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz --azim 0,120,250,360
    ///   corsd reflect station.rtcm3 --signals L1,E1,B1I --json | jq .rh
    Reflect(commands::reflect::ReflectArgs),
    /// Write the station QC report: one self-contained HTML file (works offline) with SVG plots
    /// of a log or a day — position offsets east/north/up, sky per GNSS (BeiDou GEO/IGSO/MEO),
    /// C/N0 against elevation, satellites and PDOP, completeness and gaps, cycle slips, code
    /// multipath per signal.
    ///
    /// Examples:
    ///   corsd report station.rtcm3 --station-pos -4467075.278,2683011.852,-3667007.010
    ///   corsd report --from-archive 2026-11-24 --archive /var/lib/corsd/archive
    ///   corsd report NYA100NOR_S_20241240000_01D_30S_MO.crx.gz --nav BRDC.rnx.gz -o nya1.html
    Report(commands::report::ReportArgs),
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout with exit 0, usage errors to stderr with exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging();
    let result = match cli.command {
        Command::Run(args) => commands::run::run(&args),
        Command::CheckConfig(args) => commands::check_config::run(&args),
        Command::Decode(args) => commands::decode::run(&args),
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Replay(args) => commands::replay::run(&args),
        Command::Rtk(args) => commands::rtk::run(&args),
        Command::Survey(args) => commands::survey::run(&args),
        Command::Reflect(args) => commands::reflect::run(&args),
        Command::Report(args) => commands::report::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corsd: {e:#}");
            // A configuration error is bad usage (2); anything else failed at run time (1).
            if e.downcast_ref::<crate::config::ConfigError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Structured logs on stderr; `RUST_LOG` filters (default `info`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
