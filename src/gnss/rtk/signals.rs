//! Which two signals of each system the baseline uses, and what both receivers measured on them.
//!
//! A band is matched, not a tracking mode: RTCM MSM and RINEX 3 align the carrier phases of the
//! signals of one band (a Trimble's Galileo 1X and a Septentrio's 1C carry the same phase), so a
//! base and a rover of different makes still share the band when their codes differ. Inside a
//! band each receiver's signal is taken by the preference list below (the pilot or P(Y)-like
//! signals first, which most receivers track without half-cycle ambiguity).

use crate::gnss::Gnss;
use crate::gnss::obs::{SatObs, SignalObs};
use crate::gnss::signal::carrier_hz;

/// The two bands (RINEX band digits) of a system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BandPair {
    pub sys: Gnss,
    pub bands: [u8; 2],
}

/// Default bands: GPS and QZSS L1/L2, Galileo E1/E5a, BeiDou B1I/B3I, GLONASS G1/G2.
pub fn default_bands(sys: Gnss) -> Option<[u8; 2]> {
    Some(match sys {
        Gnss::Gps | Gnss::Qzss | Gnss::Glonass => [1, 2],
        Gnss::Galileo => [1, 5],
        Gnss::Beidou => [2, 6],
        _ => return None,
    })
}

/// Tracking attributes in order of preference within a band.
fn attributes(sys: Gnss, band: u8) -> &'static [u8] {
    match (sys, band) {
        (Gnss::Gps, 1) => b"CWPXLS",
        (Gnss::Gps, 2) => b"WPLXSCD",
        (Gnss::Gps, 5) => b"QXI",
        (Gnss::Qzss, 1) => b"CXLS",
        (Gnss::Qzss, 2) => b"LXS",
        (Gnss::Qzss, 5) => b"QXI",
        (Gnss::Glonass, 1 | 2) => b"CP",
        (Gnss::Galileo, 1) => b"CXB",
        (Gnss::Galileo, 5 | 7 | 8) => b"QXI",
        (Gnss::Galileo, 6) => b"CXB",
        (Gnss::Beidou, 2 | 6 | 7) => b"IXQ",
        (Gnss::Beidou, 1) => b"PXD",
        (Gnss::Beidou, 5) => b"PXD",
        _ => b"CXQIPWLSDB",
    }
}

/// The preferred signal of a band that carries both code and phase.
pub fn pick(sat: &SatObs, band: u8) -> Option<&SignalObs> {
    let digit = b'0' + band;
    attributes(sat.sys, band).iter().find_map(|&a| {
        sat.signals.iter().find(|s| {
            s.code.0 == [digit, a]
                && s.phase_cycles.is_some_and(|p| p.is_finite() && p != 0.0)
                && s.pseudorange_m.is_some_and(|p| p.is_finite() && p > 1.0e6)
        })
    })
}

/// Carrier frequency (Hz) of a signal: its own when the source knew it (GLONASS channels),
/// else the band's.
pub fn frequency(sys: Gnss, s: &SignalObs) -> Option<f64> {
    s.freq_hz
        .or_else(|| carrier_hz(sys, s.code.0[0], None))
        .filter(|f| f.is_finite() && *f > 1.0e8)
}

/// Parses a band choice such as `C:2,7` or `E:1,7` (system letter, two band digits).
pub fn parse_band_pair(s: &str) -> Result<BandPair, String> {
    let bad = || format!("signal choice {s:?}: expected SYSTEM:BAND,BAND such as C:2,7 or E:1,7");
    let (sys, bands) = s.split_once(':').ok_or_else(bad)?;
    let mut chars = sys.trim().chars();
    let (Some(letter), None) = (chars.next(), chars.next()) else {
        return Err(bad());
    };
    let sys = Gnss::from_letter(letter).ok_or_else(bad)?;
    let b: Vec<u8> = bands
        .split(',')
        .map(|x| x.trim().parse::<u8>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [b1, b2] = b[..] else {
        return Err(bad());
    };
    if b1 == b2
        || carrier_hz(sys, b'0' + b1, Some(0)).is_none()
        || carrier_hz(sys, b'0' + b2, Some(0)).is_none()
    {
        return Err(format!(
            "signal choice {s:?}: {letter} has no such pair of bands"
        ));
    }
    Ok(BandPair {
        sys,
        bands: [b1, b2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::obs::SignalCode;

    fn sig(code: &str) -> SignalObs {
        SignalObs {
            code: SignalCode::new(code).unwrap(),
            freq_hz: None,
            pseudorange_m: Some(2.2e7),
            phase_cycles: Some(1.1e8),
            doppler_hz: None,
            cn0_dbhz: Some(45.0),
            lock_s: None,
            slip: false,
            half_cycle: false,
        }
    }

    #[test]
    fn picks_by_band_and_preference() {
        let sat = SatObs {
            sys: Gnss::Gps,
            prn: 3,
            signals: vec![sig("1C"), sig("2L"), sig("2W")],
        };
        assert_eq!(pick(&sat, 2).unwrap().code.as_str(), "2W");
        assert_eq!(pick(&sat, 1).unwrap().code.as_str(), "1C");
        assert!(pick(&sat, 5).is_none());
        let gal = SatObs {
            sys: Gnss::Galileo,
            prn: 3,
            signals: vec![sig("1X"), sig("5X")],
        };
        assert_eq!(pick(&gal, 1).unwrap().code.as_str(), "1X");
    }

    #[test]
    fn band_choice_parses() {
        assert_eq!(
            parse_band_pair("C:2,7"),
            Ok(BandPair {
                sys: Gnss::Beidou,
                bands: [2, 7]
            })
        );
        assert!(parse_band_pair("C:2").is_err());
        assert!(parse_band_pair("X:1,2").is_err());
        assert!(parse_band_pair("G:1,1").is_err());
    }
}
