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

/// Every rule of `profile` the message set breaks, as sentences for the operator.
pub fn check(profile: &str, messages: &[MessageRate]) -> Result<(), Vec<String>> {
    if profile != "f9p" {
        return Err(vec![format!(
            "unknown profile {profile:?} (known: {})",
            PROFILES.join(", ")
        )]);
    }
    let mut broken = Vec::new();
    if !messages.iter().any(|m| matches!(m.number, 1005 | 1006)) {
        broken.push("an F9P needs the reference station position: add 1005 or 1006".to_string());
    }
    let obs: Vec<(char, &MessageRate)> = messages
        .iter()
        .filter_map(|m| observation_system(m.number).map(|s| (s, m)))
        .collect();
    if obs.is_empty() {
        broken.push("no observation messages (MSM or 1004/1012)".into());
    }
    let mut seen: Vec<(char, u16)> = Vec::new();
    for (s, m) in &obs {
        if let Some((_, other)) = seen.iter().find(|(x, _)| x == s) {
            broken.push(format!(
                "{} and {other} both carry {s} observations: an F9P takes one type per GNSS",
                m.number
            ));
        } else {
            seen.push((*s, m.number));
        }
    }
    if let Some((_, first)) = obs.first() {
        let odd: Vec<String> = obs
            .iter()
            .filter(|(_, m)| m.interval_s != first.interval_s)
            .map(|(_, m)| format!("{}({})", m.number, m.interval_s))
            .collect();
        if !odd.is_empty() {
            broken.push(format!(
                "observation messages at different rates ({}({}) vs {}): an F9P wants them all at one rate",
                first.number,
                first.interval_s,
                odd.join(", ")
            ));
        }
    }
    if obs.iter().any(|(s, _)| *s == 'R') && !messages.iter().any(|m| m.number == 1230) {
        broken.push("GLONASS observations without 1230 (code-phase biases)".into());
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
        assert!(check("trimble", &[]).unwrap_err()[0].contains("unknown profile"));
    }
}
