//! Message decoding and encoding: RTCM3 (bit-level, nom) and NMEA 0183.
//!
//! Framing (finding where a message starts and ends, checking its CRC) lives in
//! [`crate::framing`]; this module only sees complete, checked payloads.

pub mod bits;
pub mod nmea;
pub mod rtcm3;
