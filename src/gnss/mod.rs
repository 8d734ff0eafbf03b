//! GNSS computations: systems, time scales, geodesy, orbits, atmosphere, the ephemeris store,
//! station state from a stream, single point positioning and Doppler velocity, per-signal
//! corrections and multipath; RINEX 3 and CRINEX reading.

pub mod atmosphere;
pub mod corrections;
pub mod crinex;
pub mod geodesy;
pub mod nav;
pub mod obs;
pub mod orbit;
pub mod qc;
pub mod rinex;
pub mod spp;
pub mod stream;
pub mod time;

use serde::Serialize;

/// A satellite navigation system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Gnss {
    Gps,
    Glonass,
    Galileo,
    Sbas,
    Qzss,
    Beidou,
    Navic,
}

impl Gnss {
    pub const ALL: [Gnss; 7] = [
        Gnss::Gps,
        Gnss::Glonass,
        Gnss::Galileo,
        Gnss::Sbas,
        Gnss::Qzss,
        Gnss::Beidou,
        Gnss::Navic,
    ];

    /// The RINEX 3 system letter (G R E S J C I).
    pub fn letter(self) -> char {
        match self {
            Gnss::Gps => 'G',
            Gnss::Glonass => 'R',
            Gnss::Galileo => 'E',
            Gnss::Sbas => 'S',
            Gnss::Qzss => 'J',
            Gnss::Beidou => 'C',
            Gnss::Navic => 'I',
        }
    }

    pub fn from_letter(c: char) -> Option<Gnss> {
        Gnss::ALL
            .into_iter()
            .find(|g| g.letter() == c.to_ascii_uppercase())
    }
}

/// The RINEX satellite name (`G05`, `C59`, `J02`): QZSS PRNs 193–202 become J01–J10 and SBAS
/// PRNs 120–158 become S20–S58, as RINEX writes them.
pub fn sat_name(sys: Gnss, prn: u8) -> String {
    let n = match sys {
        Gnss::Qzss if prn >= 193 => prn - 192,
        Gnss::Sbas if prn >= 100 => prn - 100,
        _ => prn,
    };
    format!("{}{:02}", sys.letter(), n)
}

/// BeiDou GEO satellites (C01–C05 and C59–C63) need their own orbit rotation.
pub fn is_beidou_geo(prn: u8) -> bool {
    matches!(prn, 1..=5 | 59..=63)
}
