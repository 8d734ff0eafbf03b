//! Rover profiles: what a kind of field receiver needs from a correction message set, checked
//! when the configuration is read, so that a mountpoint for u-blox F9P crews cannot be set up in
//! a way the receiver silently ignores.
//!
//! F9P (u-blox ZED-F9P integration manual, RTCM 3.3 input): one reference-station message (1005
//! or 1006); per GNSS one observation message type (legacy 1004/1012 or one MSM); all observation
//! messages at the same rate, since the receiver matches them by epoch; 1230 with GLONASS
//! observations, without which it will not fix GLONASS ambiguities against another make of
//! reference receiver.

use super::message_set::MessageRate;

/// The profiles a mountpoint or output can declare.
pub const PROFILES: &[&str] = &["f9p"];

/// The system an observation message carries (RINEX letter), if it is one.
fn observation_system(n: u16) -> Option<char> {
    match n {
        1001..=1004 => Some('G'),
        1009..=1012 => Some('R'),
        1071..=1077 => Some('G'),
        1081..=1087 => Some('R'),
        1091..=1097 => Some('E'),
        1101..=1107 => Some('S'),
        1111..=1117 => Some('J'),
        1121..=1127 => Some('C'),
        _ => None,
    }
}

/// A rule of a profile that a message set breaks; each says what to change.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Broken {
    #[error("unknown profile {name:?} (known: {})", PROFILES.join(", "))]
    UnknownProfile { name: String },
    #[error("an F9P needs the reference station position: add 1005 or 1006")]
    NoStationPosition,
    #[error("no observation messages (MSM or 1004/1012)")]
    NoObservations,
    #[error(
        "{second} and {first} both carry {system} observations: an F9P takes one type per GNSS"
    )]
    TwoTypesOneSystem {
        system: char,
        first: u16,
        second: u16,
    },
    #[error(
        "observation messages at different rates ({first}({first_interval_s}) vs {}): an F9P wants them all at one rate",
        others.iter().map(|(n, i)| format!("{n}({i})")).collect::<Vec<_>>().join(", ")
    )]
    MixedRates {
        first: u16,
        first_interval_s: f64,
        /// The observation messages at another interval, with theirs.
        others: Vec<(u16, f64)>,
    },
    #[error("GLONASS observations without 1230 (code-phase biases)")]
    GlonassWithout1230,
}

/// Every rule of `profile` the message set breaks.
pub fn check(profile: &str, messages: &[MessageRate]) -> Result<(), Vec<Broken>> {
    if profile != "f9p" {
        return Err(vec![Broken::UnknownProfile {
            name: profile.into(),
        }]);
    }
    let mut broken = Vec::new();
    if !messages.iter().any(|m| matches!(m.number, 1005 | 1006)) {
        broken.push(Broken::NoStationPosition);
    }
    let obs: Vec<(char, &MessageRate)> = messages
        .iter()
        .filter_map(|m| observation_system(m.number).map(|s| (s, m)))
        .collect();
    if obs.is_empty() {
        broken.push(Broken::NoObservations);
    }
    let mut seen: Vec<(char, u16)> = Vec::new();
    for (s, m) in &obs {
        if let Some((_, other)) = seen.iter().find(|(x, _)| x == s) {
            broken.push(Broken::TwoTypesOneSystem {
                system: *s,
                first: *other,
                second: m.number,
            });
        } else {
            seen.push((*s, m.number));
        }
    }
    if let Some((_, first)) = obs.first() {
        let others: Vec<(u16, f64)> = obs
            .iter()
            .filter(|(_, m)| m.interval_s != first.interval_s)
            .map(|(_, m)| (m.number, m.interval_s))
            .collect();
        if !others.is_empty() {
            broken.push(Broken::MixedRates {
                first: first.number,
                first_interval_s: first.interval_s,
                others,
            });
        }
    }
    if obs.iter().any(|(s, _)| *s == 'R') && !messages.iter().any(|m| m.number == 1230) {
        broken.push(Broken::GlonassWithout1230);
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::message_set::parse as parse_messages;

    fn f9p(s: &str) -> Result<(), Vec<String>> {
        check("f9p", &parse_messages(s).unwrap())
            .map_err(|b| b.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn f9p_rules() {
        assert_eq!(
            f9p("1005(10),1230(10),1074(1),1084(1),1094(1),1124(1)"),
            Ok(())
        );
        let e = f9p("1074(1),1077(1),1084(2)").unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].contains("1005 or 1006"));
        assert!(e[1].contains("1077 and 1074 both carry G"));
        assert!(e[2].contains("different rates"));
        assert!(e[3].contains("1230"));
        assert!(
            check("trimble", &[]).unwrap_err()[0]
                .to_string()
                .contains("unknown profile")
        );
    }
}
