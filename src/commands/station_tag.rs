//! The station tag of a replayed file given no `--station`: what the file says about its
//! station first, its name last. A tag made of the file name's first letters ("DROP" for
//! `dropped-packets-STR24.rtcm3`) names no station at all, so the whole stem is kept.

use std::io::Read;
use std::path::Path;

use crate::framing::{FrameKind, frames};
use crate::messages::rtcm3::{self, Message};

/// How much of a stream is searched for a station description (1033 and 1008 come every few
/// seconds to a minute; this is some minutes of a busy MSM7 stream).
const SEARCH_BYTES: u64 = 1 << 20;

/// The tag, and where it came from (for the log).
pub fn station_tag(file: &Path, rinex: bool) -> (String, &'static str) {
    if rinex && let Some(name) = marker_name(file) {
        return (name, "the RINEX header's MARKER NAME");
    }
    if let Some(id) = described_station(file) {
        return (
            id.to_string(),
            "the reference station ID of the stream's 1033/1008",
        );
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A tag value cannot end in a backslash nor hold a newline; spaces and commas are escaped
    // on the way out, the rest is kept as named.
    let stem: String = stem
        .chars()
        .filter(|c| !c.is_control() && *c != '\\')
        .collect();
    if stem.is_empty() {
        return ("replay".into(), "no station description and no file name");
    }
    (stem, "the file name (the stream describes no station)")
}

fn marker_name(file: &Path) -> Option<String> {
    let text = crate::rinex::read_text(file).ok()?;
    text.lines()
        .take_while(|l| {
            l.get(60..)
                .is_none_or(|label| !label.starts_with("END OF HEADER"))
        })
        .find(|l| {
            l.get(60..)
                .is_some_and(|label| label.starts_with("MARKER NAME"))
        })
        .map(|l| l.get(..60).unwrap_or(l).trim().to_string())
        .filter(|n| !n.is_empty())
}

/// The reference station ID of the first 1033 or 1008 (1007) with a non-zero one: zero is what
/// a receiver sends when nobody set it.
fn described_station(file: &Path) -> Option<u16> {
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(SEARCH_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    frames(&bytes)
        .0
        .iter()
        .filter(|(k, b)| *k == FrameKind::Rtcm3 && b.len() > 6)
        .filter_map(|(_, b)| match rtcm3::decode(&b[3..b.len() - 3]) {
            Ok(Message::Receiver(r)) => Some(r.station),
            Ok(Message::Antenna(a)) => Some(a.station),
            _ => None,
        })
        .find(|&id| id != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("corsd-tag-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn frame(payload: &[u8]) -> Vec<u8> {
        crate::framing::rtcm3_frame(payload)
    }

    #[test]
    fn station_id_then_whole_stem() {
        let antenna = |station| {
            rtcm3::station::AntennaDescriptor {
                number: 1008,
                station,
                descriptor: rtcm3::station::Text(b"LEIAR25.R3".to_vec()),
                setup_id: 0,
                serial: Some(rtcm3::station::Text(b"1".to_vec())),
            }
            .encode()
        };
        let unset = temp("dropped-packets-STR24.rtcm3", &frame(&antenna(0)));
        assert_eq!(
            station_tag(&unset, false),
            (
                "dropped-packets-STR24".to_string(),
                "the file name (the stream describes no station)"
            )
        );
        let mut both = frame(&antenna(0));
        both.extend(frame(&antenna(2047)));
        let set = temp("day.rtcm3", &both);
        assert_eq!(station_tag(&set, false).0, "2047");
    }

    #[test]
    fn rinex_marker_name() {
        let header = format!(
            "{:<60}{:<20}\n{:<60}{:<20}\n{:<60}{:<20}\n",
            "     3.04           OBSERVATION DATA    M",
            "RINEX VERSION / TYPE",
            "NYA1",
            "MARKER NAME",
            "",
            "END OF HEADER"
        );
        let p = temp("x.rnx", header.as_bytes());
        assert_eq!(station_tag(&p, true).0, "NYA1");
    }
}
