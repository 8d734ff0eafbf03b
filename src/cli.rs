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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corsd: {e:#}");
            ExitCode::from(1)
        }
    }
}
