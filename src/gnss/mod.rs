//! GNSS computations: systems, time scales, geodesy, orbits, atmosphere, the ephemeris store,
//! station state from a stream, and single point positioning (quality control lands next).

pub mod atmosphere;
pub mod crinex;
pub mod geodesy;
pub mod nav;
pub mod obs;
pub mod orbit;
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

/// BeiDou GEO satellites (C01–C05 and C59–C63) need their own orbit rotation.
pub fn is_beidou_geo(prn: u8) -> bool {
    matches!(prn, 1..=5 | 59..=63)
}
