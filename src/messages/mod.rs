//! Message decoding and encoding: RTCM3 (bit-level, nom), NMEA 0183, u-blox UBX (little-endian
//! tables, nom) and the broadcast navigation messages raw receivers pass on.
//!
//! Framing (finding where a message starts and ends, checking its CRC) lives in
//! [`crate::framing`]; this module only sees complete, checked payloads.

pub mod bits;
pub mod navmsg;
pub mod nmea;
pub mod rtcm3;
pub mod ubx;
