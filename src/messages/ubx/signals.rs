//! u-blox GNSS and signal identifiers (`gnssId`, `svId`, `sigId`, `freqId`) in corsd's
//! vocabulary: [`Gnss`], the system's satellite number, the RINEX 3 observation code and the
//! carrier frequency.
//!
//! The signal table is the u-blox F9/X20 interface description's (UBX-NAV-SIG, UBX-RXM-RAWX):
//!
//! | GNSS | sigId → RINEX |
//! |---|---|
//! | GPS | 0 L1C/A `1C`, 3 L2 CL `2L`, 4 L2 CM `2S`, 6 L5 I `5I`, 7 L5 Q `5Q` |
//! | SBAS | 0 L1C/A `1C` |
//! | Galileo | 0 E1 C `1C`, 1 E1 B `1B`, 3 E5a I `5I`, 4 E5a Q `5Q`, 5 E5b I `7I`, 6 E5b Q `7Q`, 8 E6 B `6B`, 9 E6 C `6C` |
//! | BeiDou | 0 B1I D1 and 1 B1I D2 `2I`, 2 B2I D1 and 3 B2I D2 `7I`, 4 B3I D1 and 10 B3I D2 `6I`, 5 B1C pilot `1P`, 6 B1C data `1D`, 7 B2a pilot `5P`, 8 B2a data `5D` |
//! | QZSS | 0 L1C/A `1C`, 1 L1S `1Z`, 4 L2 CM `2S`, 5 L2 CL `2L`, 8 L5 I `5I`, 9 L5 Q `5Q`, 12 L1C/B `1E` |
//! | GLONASS | 0 L1 OF `1C`, 2 L2 OF `2C` (FDMA: `freqId` is the channel + 7) |
//! | NavIC | 0 L5 A `5A` |
//!
//! Satellite numbers: QZSS `svId` 1–10 is PRN 193–202 (corsd's convention, RINEX J01–J10);
//! SBAS keeps its PRN 120–158; GLONASS `svId` 255 (slot not yet known) has no number.

use crate::gnss::Gnss;
use crate::gnss::obs::SignalCode;
use crate::gnss::signal::carrier_hz;

/// The system of a `gnssId` (4 is IMES, which corsd does not use).
pub fn gnss_of(gnss_id: u8) -> Option<Gnss> {
    Some(match gnss_id {
        0 => Gnss::Gps,
        1 => Gnss::Sbas,
        2 => Gnss::Galileo,
        3 => Gnss::Beidou,
        5 => Gnss::Qzss,
        6 => Gnss::Glonass,
        7 => Gnss::Navic,
        _ => return None,
    })
}

/// The u-blox `gnssId` of a system.
pub fn gnss_id(sys: Gnss) -> u8 {
    match sys {
        Gnss::Gps => 0,
        Gnss::Sbas => 1,
        Gnss::Galileo => 2,
        Gnss::Beidou => 3,
        Gnss::Qzss => 5,
        Gnss::Glonass => 6,
        Gnss::Navic => 7,
    }
}

/// The system and satellite number of a u-blox satellite, when it has one.
pub fn satellite(gnss_id: u8, sv_id: u8) -> Option<(Gnss, u8)> {
    let sys = gnss_of(gnss_id)?;
    let prn = match sys {
        Gnss::Qzss if (1..=10).contains(&sv_id) => sv_id + 192,
        Gnss::Sbas if (120..=158).contains(&sv_id) => sv_id,
        Gnss::Glonass if (1..=32).contains(&sv_id) => sv_id,
        Gnss::Gps | Gnss::Galileo if (1..=36).contains(&sv_id) => sv_id,
        Gnss::Beidou if (1..=63).contains(&sv_id) => sv_id,
        Gnss::Navic if (1..=14).contains(&sv_id) => sv_id,
        _ => return None,
    };
    Some((sys, prn))
}

/// The u-blox `svId` of a satellite (the inverse of [`satellite`]).
pub fn sv_id(sys: Gnss, prn: u8) -> u8 {
    match sys {
        Gnss::Qzss if prn > 192 => prn - 192,
        _ => prn,
    }
}

const fn code(s: &[u8; 2]) -> Option<SignalCode> {
    Some(SignalCode(*s))
}

/// The RINEX 3 observation code of a u-blox signal.
pub fn signal_code(sys: Gnss, sig_id: u8) -> Option<SignalCode> {
    match (sys, sig_id) {
        (Gnss::Gps, 0) | (Gnss::Sbas, 0) | (Gnss::Galileo, 0) | (Gnss::Qzss, 0) => code(b"1C"),
        (Gnss::Glonass, 0) => code(b"1C"),
        (Gnss::Gps, 3) | (Gnss::Qzss, 5) => code(b"2L"),
        (Gnss::Gps, 4) | (Gnss::Qzss, 4) => code(b"2S"),
        (Gnss::Gps, 6) | (Gnss::Qzss, 8) | (Gnss::Galileo, 3) => code(b"5I"),
        (Gnss::Gps, 7) | (Gnss::Qzss, 9) | (Gnss::Galileo, 4) => code(b"5Q"),
        (Gnss::Galileo, 1) => code(b"1B"),
        (Gnss::Galileo, 5) => code(b"7I"),
        (Gnss::Galileo, 6) => code(b"7Q"),
        (Gnss::Galileo, 8) => code(b"6B"),
        (Gnss::Galileo, 9) => code(b"6C"),
        (Gnss::Beidou, 0 | 1) => code(b"2I"),
        (Gnss::Beidou, 2 | 3) => code(b"7I"),
        (Gnss::Beidou, 4 | 10) => code(b"6I"),
        (Gnss::Beidou, 5) => code(b"1P"),
        (Gnss::Beidou, 6) => code(b"1D"),
        (Gnss::Beidou, 7) => code(b"5P"),
        (Gnss::Beidou, 8) => code(b"5D"),
        (Gnss::Qzss, 1) => code(b"1Z"),
        (Gnss::Qzss, 12) => code(b"1E"),
        (Gnss::Glonass, 2) => code(b"2C"),
        (Gnss::Navic, 0) => code(b"5A"),
        _ => None,
    }
}

/// The u-blox `sigId` of a RINEX code (for BeiDou B1I/B2I/B3I the D1 id; a GEO satellite's
/// D2 id is one more, B3I's D2 id is 10).
pub fn sig_id(sys: Gnss, code: SignalCode, beidou_geo: bool) -> Option<u8> {
    let id = (0..=12).find(|&id| signal_code(sys, id) == Some(code))?;
    Some(match (sys, id, beidou_geo) {
        (Gnss::Beidou, 0 | 2, true) => id + 1,
        (Gnss::Beidou, 4, true) => 10,
        _ => id,
    })
}

/// The GLONASS frequency channel (−7 … +6) of a `freqId`.
pub fn glonass_channel(freq_id: u8) -> Option<i8> {
    (freq_id <= 13).then(|| freq_id as i8 - 7)
}

/// Carrier frequency (Hz) of a signal; GLONASS needs its channel.
pub fn frequency_hz(sys: Gnss, code: SignalCode, freq_id: u8) -> Option<f64> {
    let channel = if sys == Gnss::Glonass {
        Some(glonass_channel(freq_id)?)
    } else {
        None
    };
    carrier_hz(sys, code.0[0], channel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signals_of_issue_23() {
        let c = |sys, id| signal_code(sys, id).map(|c| c.as_str().to_string());
        assert_eq!(c(Gnss::Gps, 0).as_deref(), Some("1C"));
        assert_eq!(c(Gnss::Gps, 3).as_deref(), Some("2L"));
        assert_eq!(c(Gnss::Gps, 7).as_deref(), Some("5Q"));
        assert_eq!(c(Gnss::Galileo, 0).as_deref(), Some("1C"));
        assert_eq!(c(Gnss::Galileo, 4).as_deref(), Some("5Q"));
        assert_eq!(c(Gnss::Galileo, 6).as_deref(), Some("7Q"));
        assert_eq!(c(Gnss::Beidou, 1).as_deref(), Some("2I"));
        assert_eq!(c(Gnss::Beidou, 3).as_deref(), Some("7I"));
        assert_eq!(c(Gnss::Beidou, 5).as_deref(), Some("1P"));
        assert_eq!(c(Gnss::Beidou, 7).as_deref(), Some("5P"));
        assert_eq!(c(Gnss::Glonass, 2).as_deref(), Some("2C"));
        assert_eq!(c(Gnss::Qzss, 5).as_deref(), Some("2L"));
        assert_eq!(c(Gnss::Gps, 1), None);
    }

    #[test]
    fn identifiers_round_trip() {
        for gnss_id in 0..8u8 {
            let Some(sys) = gnss_of(gnss_id) else {
                continue;
            };
            assert_eq!(super::gnss_id(sys), gnss_id);
            for id in 0..=12u8 {
                if let Some(code) = signal_code(sys, id) {
                    let geo = matches!(id, 1 | 3 | 10);
                    assert_eq!(sig_id(sys, code, geo), Some(id), "{sys:?} {id}");
                }
            }
        }
        assert_eq!(satellite(5, 1), Some((Gnss::Qzss, 193)));
        assert_eq!(sv_id(Gnss::Qzss, 193), 1);
        assert_eq!(satellite(6, 255), None);
        assert_eq!(satellite(4, 1), None);
    }

    #[test]
    fn glonass_frequencies_need_the_channel() {
        let l1 = SignalCode(*b"1C");
        assert_eq!(frequency_hz(Gnss::Glonass, l1, 7), Some(1_602e6));
        assert_eq!(
            frequency_hz(Gnss::Glonass, l1, 0),
            Some(1_602e6 - 7.0 * 562_500.0)
        );
        assert_eq!(frequency_hz(Gnss::Glonass, l1, 14), None);
        assert_eq!(
            frequency_hz(Gnss::Beidou, SignalCode(*b"2I"), 0),
            Some(1_561.098e6)
        );
    }
}
