//! GPS satellite blocks from the signals a satellite sends, against the block of its ANTEX
//! entry. An ANTEX file issued years before the data holds, for a PRN since reassigned, the
//! entry of the retired satellite: a Block IIA's offset (x 0.279 m, z 2.3–2.7 m) applied to
//! the Block IIF that now flies under the PRN is wrong by a decimetre across and a metre along
//! the boresight. The signals give the block a lower bound (ICD-GPS-200/705/800): L2C from
//! IIR-M on, L5 from IIF on, L1C from III on. An entry older than that bound is not the flying
//! satellite's, and the file's newest entry of the bound's block is the nominal stand-in.
//!
//! GLONASS the same way: every satellite flying since 2011 is a GLONASS-M or newer, and the
//! CDMA L3 signal comes from GLONASS-K1 (and the last GLONASS-M, which the signals cannot tell
//! apart: such a satellite needs a K1 entry or stays out). Galileo satellites send the same
//! signals in both blocks; the four IOV satellites (GALILEO-1, GSAT0101–0104) have flown as
//! E11, E12, E19 and E20 since 2011–2012, every other PRN is a FOC satellite (GALILEO-2).

use crate::gnss::Gnss;
use crate::gnss::antex::{Antenna, Antex};
use crate::gnss::obs::SignalCode;
use crate::gnss::time::Gpst;

/// Order of the GPS blocks; `None` for a type that is not a GPS block.
pub fn gps_block_rank(kind: &str) -> Option<u8> {
    let b = kind.trim().strip_prefix("BLOCK ")?.trim();
    Some(match b {
        "I" => 1,
        "II" => 2,
        "IIA" => 3,
        "IIR" | "IIR-A" | "IIR-B" => 4,
        "IIR-M" => 5,
        "IIF" => 6,
        _ if b.starts_with("III") => 7,
        _ => return None,
    })
}

/// The oldest block that sends all of `signals` (0: any block).
pub fn gps_rank_from_signals(signals: impl IntoIterator<Item = SignalCode>) -> u8 {
    signals
        .into_iter()
        .map(|c| {
            let s = c.as_str().as_bytes();
            match (s[0], s[1]) {
                (b'1', b'S' | b'L' | b'X') => 7,
                (b'5', _) => 6,
                (b'2', b'S' | b'L' | b'X') => 5,
                _ => 0,
            }
        })
        .max()
        .unwrap_or(0)
}

/// A readable name of a block rank, for messages.
pub fn gps_block_name(rank: u8) -> &'static str {
    match rank {
        7 => "Block III",
        6 => "Block IIF",
        5 => "Block IIR-M",
        _ => "an older block",
    }
}

/// Order of a system's blocks (GPS above; GLONASS: GLONASS 1, -M 2, -K1 3, -K2 4; Galileo:
/// IOV 1, FOC 2); `None` for a type that is not a block of the system.
pub fn block_rank(sys: Gnss, kind: &str) -> Option<u8> {
    let kind = kind.trim();
    match sys {
        Gnss::Gps => gps_block_rank(kind),
        Gnss::Glonass => Some(match kind {
            "GLONASS" => 1,
            "GLONASS-M" => 2,
            "GLONASS-K1" => 3,
            "GLONASS-K2" => 4,
            _ => return None,
        }),
        Gnss::Galileo => Some(match kind {
            "GALILEO-0A" | "GALILEO-0B" | "GALILEO-1" => 1,
            "GALILEO-2" => 2,
            _ => return None,
        }),
        _ => None,
    }
}

/// The oldest block of `sys` that can be the satellite `prn` sending `signals` (0: any).
pub fn rank_from_signals(sys: Gnss, prn: u8, signals: impl IntoIterator<Item = SignalCode>) -> u8 {
    match sys {
        Gnss::Gps => gps_rank_from_signals(signals),
        Gnss::Glonass => {
            if signals.into_iter().any(|c| c.0[0] == b'3') {
                3
            } else {
                2
            }
        }
        Gnss::Galileo => {
            if matches!(prn, 11 | 12 | 19 | 20) {
                1
            } else {
                2
            }
        }
        _ => 0,
    }
}

/// A readable name of a block rank of `sys`, for messages.
pub fn block_name(sys: Gnss, rank: u8) -> &'static str {
    match (sys, rank) {
        (Gnss::Gps, r) => gps_block_name(r),
        (Gnss::Glonass, 2) => "GLONASS-M",
        (Gnss::Glonass, 3) => "GLONASS-K1 (its L3 signal; a late GLONASS-M sends it too)",
        (Gnss::Galileo, 1) => "GALILEO-1 (IOV, by its PRN)",
        (Gnss::Galileo, 2) => "GALILEO-2 (FOC, by its PRN)",
        _ => "an older block",
    }
}

/// The file's entry of `sys` and block `rank` valid at `t` whose validity began last (the
/// newest satellite of that block the file knows).
pub fn stand_in(antex: &Antex, sys: Gnss, rank: u8, t: Gpst) -> Option<&Antenna> {
    antex
        .satellites
        .iter()
        .filter(|a| a.serial.starts_with(sys.letter()) && block_rank(sys, &a.kind) == Some(rank))
        .filter(|a| a.valid_from.is_none_or(|f| f <= t) && a.valid_until.is_none_or(|u| t <= u))
        .max_by(|a, b| {
            a.valid_from
                .partial_cmp(&b.valid_from)
                .unwrap_or(std::cmp::Ordering::Equal)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_signals() {
        assert_eq!(gps_block_rank("BLOCK IIA"), Some(3));
        assert_eq!(gps_block_rank("BLOCK IIR-M"), Some(5));
        assert_eq!(gps_block_rank("BLOCK IIIA"), Some(7));
        assert_eq!(gps_block_rank("GLONASS-M"), None);
        let codes = |s: &[&str]| -> Vec<SignalCode> {
            s.iter().map(|c| SignalCode::new(c).unwrap()).collect()
        };
        assert_eq!(gps_rank_from_signals(codes(&["1C", "2W"])), 0);
        assert_eq!(gps_rank_from_signals(codes(&["1C", "2L", "2W"])), 5);
        assert_eq!(gps_rank_from_signals(codes(&["1C", "2L", "5Q"])), 6);
        assert_eq!(gps_rank_from_signals(codes(&["1L", "5Q"])), 7);
        assert_eq!(
            rank_from_signals(Gnss::Glonass, 9, codes(&["1C", "2P", "3Q"])),
            3
        );
        assert_eq!(rank_from_signals(Gnss::Glonass, 1, codes(&["1C", "2P"])), 2);
        assert_eq!(
            rank_from_signals(Gnss::Galileo, 11, codes(&["1C", "5Q"])),
            1
        );
        assert_eq!(rank_from_signals(Gnss::Galileo, 4, codes(&["1C", "5Q"])), 2);
        assert_eq!(block_rank(Gnss::Glonass, "GLONASS-M"), Some(2));
        assert_eq!(block_rank(Gnss::Galileo, "GALILEO-2"), Some(2));
        assert_eq!(block_rank(Gnss::Galileo, "BLOCK IIA"), None);
    }
}
