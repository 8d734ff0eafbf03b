//! corsd — the data processor of a BeiDou/GNSS continuously operating reference station.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`framing`] | the resynchronising demultiplexer: finds RTCM3, NMEA and UBX frames in a byte stream, checks CRC-24Q / XOR / Fletcher checksums, counts discarded bytes and bad frames |
//! | [`messages`] | [`messages::bits`]: nom bit parsers and the data-field table type; [`messages::rtcm3`]: typed SI-unit structs for every decoded RTCM3 message, each with its encoder; [`messages::nmea`]: NMEA 0183/4.11 sentences and the merged sky view |
//! | [`gnss`] | systems, time scales (GPST/BDT/GST/GLONASST/UTC), geodesy, broadcast orbits and clocks (Kepler with BeiDou GEO rotation, GLONASS RK4), atmosphere models, the ephemeris store, observation epochs, RINEX 3 reading (plain, gzipped, Hatanaka CRINEX 3.0 expanded by corsd's own decoder), station state from a decoded stream (epoch assembly, time resolution), single point positioning (weighted least squares, RAIM, carrier smoothing) |
//! | [`simulate`] | the seeded station simulator: built-in five-GNSS sky, observation model, RTCM3 composition |
//! | [`commands`] | one module per subcommand (`decode`, `simulate`) |
//! | [`cli`] | the command line (clap) and exit codes |
//!
//! `main.rs` is thin: it calls [`cli::main`].

pub mod cli;
pub mod commands;
pub mod framing;
pub mod gnss;
pub mod messages;
pub mod simulate;
