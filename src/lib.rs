//! corsd — the data processor of a BeiDou/GNSS continuously operating reference station.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`framing`] | the resynchronising demultiplexer: finds RTCM3, NMEA and UBX frames in a byte stream, checks CRC-24Q / XOR / Fletcher checksums, counts discarded bytes and bad frames |
//! | [`messages`] | bit-level (nom) decoding and encoding of RTCM3 messages into typed SI-unit structs, and NMEA sentences |
//! | [`cli`] | the command line (clap) and the `decode` command |
//!
//! `main.rs` is thin: it parses the command line and calls into [`cli`].

pub mod cli;
pub mod commands;
pub mod framing;
pub mod gnss;
pub mod messages;
pub mod simulate;
