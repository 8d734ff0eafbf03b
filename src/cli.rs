//! The command line: `corsd <command>`.
//!
//! Exit codes (DESIGN §2): 0 ok, 2 bad usage or configuration, 1 runtime failure.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// corsd — data processor for a BeiDou/GNSS continuously operating reference station.
///
/// Reads the reference receiver's RTCM3/NMEA streams, checks and decodes them, and (in later
/// versions of this binary) serves corrections, archives raw data and writes time series.
#[derive(Debug, Parser)]
#[command(name = "corsd", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// multipath, gaps, cycle slips and corrupted frames.
    ///
    /// Examples:
    ///   corsd simulate --duration 3600 -o station.rtcm3
    ///   corsd simulate --msm 7 --noise --corrupt 0.01 --duration 600 -o faulty.rtcm3
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
    let result = match cli.command {
        Command::Decode(args) => commands::decode::run(&args),
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Replay(args) => commands::replay::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corsd: {e:#}");
            ExitCode::from(1)
        }
    }
}
