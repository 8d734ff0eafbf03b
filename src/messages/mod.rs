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

/// The Keplerian elements of a decoded ephemeris (RTCM 1019/1042/1044/1045/1046, a broadcast
/// navigation message) whose fields carry [`Kepler`](crate::gnss::orbit::Kepler)'s names; the
/// reference times and clock terms are named per message.
macro_rules! kepler_elements {
    ($m:expr, $toe:ident, $toc:ident, $af0:ident, $af1:ident, $af2:ident) => {
        crate::gnss::orbit::Kepler {
            sqrt_a: $m.sqrt_a,
            e: $m.e,
            i0: $m.i0,
            idot: $m.idot,
            omega0: $m.omega0,
            omega_dot: $m.omega_dot,
            omega: $m.omega,
            m0: $m.m0,
            delta_n: $m.delta_n,
            cuc: $m.cuc,
            cus: $m.cus,
            crc: $m.crc,
            crs: $m.crs,
            cic: $m.cic,
            cis: $m.cis,
            toe: $m.$toe,
            toc: $m.$toc,
            af0: $m.$af0,
            af1: $m.$af1,
            af2: $m.$af2,
        }
    };
}
pub(crate) use kepler_elements;
