//! What a feed carries: RTCM3 on a message set (str2str's syntax, `1006(10),1074(1),1230`), or
//! RTCM 2.3 DGNSS corrections.

/// One message of a set: the type and its minimum interval in data time (s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MessageRate {
    pub number: u16,
    pub interval_s: f64,
}

/// What a feed carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Format {
    /// RTCM3 frames; an empty set passes every frame untouched.
    Rtcm3(Vec<MessageRate>),
    /// RTCM 2.3 DGNSS corrections (types 1, 3, 31) against the station's surveyed position, with
    /// this reference station ID.
    Rtcm2 { station_id: u16 },
}

impl Format {
    /// The sourcetable's format field.
    pub fn sourcetable_format(&self) -> &'static str {
        match self {
            Format::Rtcm3(_) => "RTCM 3.3",
            Format::Rtcm2 { .. } => "RTCM 2.3",
        }
    }

    /// The RTCM3 message set (empty for RTCM 2.3).
    pub fn messages(&self) -> &[MessageRate] {
        match self {
            Format::Rtcm3(set) => set,
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
}
