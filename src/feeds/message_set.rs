//! What a feed carries: RTCM3 on a message set (str2str's syntax, `1006(10),1074(1),1230`), or
//! RTCM 2.3 DGNSS corrections.

use crate::framing::rtcm3_frame;
use crate::messages::rtcm3::{self, Message, message_number};

/// One message of a set: the type and its minimum interval in data time (s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MessageRate {
    pub number: u16,
    pub interval_s: f64,
}

/// The station coordinates an RTCM3 feed broadcasts in 1005/1006 instead of the receiver's own
/// (which may be in another datum, or from before the station was surveyed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BroadcastArp {
    /// The antenna reference point (ECEF, m): `[station] position`.
    pub ecef: [f64; 3],
    /// 1006's antenna height above the marker (m); none: the receiver's.
    pub antenna_height_m: Option<f64>,
}

impl BroadcastArp {
    /// A whole RTCM3 frame with these coordinates, when `frame` is a 1005 or 1006 that decodes;
    /// `None` for every other frame. The rest of the message (station ID, ITRF year, flags) is
    /// the receiver's.
    pub fn rewrite(&self, frame: &[u8]) -> Option<Vec<u8>> {
        let payload = frame.get(3..frame.len().checked_sub(3)?)?;
        if !matches!(message_number(payload), Some(1005 | 1006)) {
            return None;
        }
        let Ok(Message::StationArp(mut arp)) = rtcm3::decode(payload) else {
            return None;
        };
        [arp.x_m, arp.y_m, arp.z_m] = self.ecef;
        if let (Some(h), Some(_)) = (self.antenna_height_m, arp.antenna_height_m) {
            arp.antenna_height_m = Some(h);
        }
        Some(rtcm3_frame(&arp.encode()))
    }
}

/// What a feed carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Format {
    /// RTCM3 frames; an empty set passes every frame untouched, except that 1005/1006 carry
    /// `arp` when one is given.
    Rtcm3 {
        messages: Vec<MessageRate>,
        arp: Option<BroadcastArp>,
    },
    /// RTCM 2.3 DGNSS corrections (types 1, 3, 31) against the station's surveyed position, with
    /// this reference station ID.
    Rtcm2 { station_id: u16 },
}

impl Format {
    /// The sourcetable's format field.
    pub fn sourcetable_format(&self) -> &'static str {
        match self {
            Format::Rtcm3 { .. } => "RTCM 3.3",
            Format::Rtcm2 { .. } => "RTCM 2.3",
        }
    }

    /// The RTCM3 message set (empty for RTCM 2.3).
    pub fn messages(&self) -> &[MessageRate] {
        match self {
            Format::Rtcm3 { messages, .. } => messages,
            Format::Rtcm2 { .. } => &[],
        }
    }
}

/// Why a message set could not be read; each names the part of the set it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageSetError {
    #[error("{part:?}: missing ')'")]
    Unclosed { part: String },
    #[error("{part:?}: interval {interval:?} is not a number of seconds")]
    IntervalNotNumber { part: String, interval: String },
    #[error("{part:?}: interval must be 0 or more seconds")]
    IntervalNegative { part: String },
    #[error("{part:?}: {number:?} is not an RTCM3 message number")]
    NotMessageNumber { part: String, number: String },
}

/// Read str2str's syntax: `1006(10),1074(1),1230` (no interval: every one).
pub fn parse(s: &str) -> Result<Vec<MessageRate>, MessageSetError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (num, rate) = match part.split_once('(') {
            Some((n, r)) => {
                let r = r
                    .strip_suffix(')')
                    .ok_or_else(|| MessageSetError::Unclosed { part: part.into() })?;
                let v: f64 = r
                    .trim()
                    .parse()
                    .map_err(|_| MessageSetError::IntervalNotNumber {
                        part: part.into(),
                        interval: r.into(),
                    })?;
                if !(v >= 0.0 && v.is_finite()) {
                    return Err(MessageSetError::IntervalNegative { part: part.into() });
                }
                (n, v)
            }
            None => (part, 0.0),
        };
        let number: u16 = num
            .trim()
            .parse()
            .ok()
            .filter(|n| (1001..=4095).contains(n))
            .ok_or_else(|| MessageSetError::NotMessageNumber {
                part: part.into(),
                number: num.into(),
            })?;
        out.push(MessageRate {
            number,
            interval_s: rate,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::rtcm3::station::StationArp;

    #[test]
    fn message_sets() {
        let m = parse("1006(10),1074(1), 1230").unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            MessageRate {
                number: 1006,
                interval_s: 10.0
            }
        );
        assert_eq!(m[2].interval_s, 0.0);
        assert!(matches!(
            parse("1006(ten)"),
            Err(MessageSetError::IntervalNotNumber { .. })
        ));
        assert!(matches!(
            parse("99(1)"),
            Err(MessageSetError::NotMessageNumber { .. })
        ));
        assert!(matches!(
            parse("1006(1"),
            Err(MessageSetError::Unclosed { .. })
        ));
        assert_eq!(
            parse("1006(1").unwrap_err().to_string(),
            "\"1006(1\": missing ')'"
        );
    }

    #[test]
    fn the_station_coordinates_replace_the_receivers() {
        let receiver = StationArp {
            number: 1006,
            station: 7,
            itrf_year: 0,
            gps: true,
            glonass: true,
            galileo: true,
            non_physical: false,
            x_m: -4467074.6,
            single_oscillator: false,
            reserved: false,
            y_m: 2683012.6,
            quarter_cycle: 0,
            z_m: -3667008.1,
            antenna_height_m: Some(0.0),
        };
        let frame = rtcm3_frame(&receiver.encode());
        let arp = BroadcastArp {
            ecef: [-4467075.2780, 2683011.8519, -3667007.0103],
            antenna_height_m: Some(1.5),
        };
        let out = arp.rewrite(&frame).unwrap();
        let got = StationArp::decode(&out[3..out.len() - 3]).unwrap();
        assert_eq!((got.number, got.station, got.glonass), (1006, 7, true));
        assert!((got.x_m - arp.ecef[0]).abs() < 1e-4 && (got.z_m - arp.ecef[2]).abs() < 1e-4);
        assert_eq!(got.antenna_height_m, Some(1.5));
        let as_1005 = StationArp {
            antenna_height_m: None,
            ..receiver
        };
        let out = arp.rewrite(&rtcm3_frame(&as_1005.encode())).unwrap();
        let got = StationArp::decode(&out[3..out.len() - 3]).unwrap();
        assert_eq!((got.number, got.antenna_height_m), (1005, None));
        assert_eq!(arp.rewrite(&rtcm3_frame(&[0x3E, 0xD0, 0, 0])), None);
        assert_eq!(arp.rewrite(&[0xD3]), None);
    }
}
