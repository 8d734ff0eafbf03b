//! What reading RINEX 3 observations needs whatever the packing: the header's observation
//! types, the epoch line, and a satellite's fields turned into signals. [`super::read`] reads
//! them from text, [`super::crinex`] straight from Hatanaka-compressed lines.

use std::collections::BTreeMap;

use crate::gnss::Gnss;
use crate::gnss::obs::{Epoch, SatObs, SignalCode, SignalObs};
use crate::gnss::time::{Gpst, SECONDS_PER_DAY};

use super::RinexError;

/// An observation file read whole: its header text, epochs and approximate position.
pub struct ObsFile {
    /// The RINEX header up to and including `END OF HEADER`.
    pub header: String,
    pub epochs: Vec<Epoch>,
    pub approx: Option<[f64; 3]>,
}

pub(super) fn num(s: &str) -> f64 {
    s.trim().replace(['D', 'd'], "E").parse().unwrap_or(0.0)
}

/// Seconds of the week from a calendar date and time (in whatever scale the file uses).
pub(super) fn calendar_secs(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: f64) -> (i64, f64) {
    // Days from 1980-01-06 by the civil-from-days algorithm.
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days_since_1970 = era * 146_097 + doe - 719_468;
    let days = days_since_1970 - 3657; // 1980-01-06
    let whole = days * SECONDS_PER_DAY + h * 3600 + mi * 60;
    (whole, s)
}

/// What an observation file's header says that reading its epochs needs.
pub(super) struct ObsHeader {
    /// Observation type names per system letter, in the file's order.
    pub types: BTreeMap<char, Vec<String>>,
    pub approx: Option<[f64; 3]>,
    /// GLONASS frequency channel by slot (`GLONASS SLOT / FRQ #`).
    pub glonass: Vec<(u8, i8)>,
}

/// Reads header lines up to `END OF HEADER`; a file that is not RINEX 3 is refused.
pub(super) fn obs_header<'a>(
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Result<ObsHeader, RinexError> {
    let mut types: BTreeMap<char, Vec<String>> = BTreeMap::new();
    let mut approx = None;
    let mut glonass = Vec::new();
    let mut last_sys = None;
    let mut version_ok = false;
    for (_, l) in lines {
        let label = l.get(60..).unwrap_or("");
        if label.starts_with("RINEX VERSION") && l.trim_start().starts_with('3') {
            version_ok = true;
        } else if label.starts_with("APPROX POSITION XYZ") {
            let v: Vec<f64> = l[..60].split_whitespace().map(num).collect();
            if let [x, y, z] = v[..] {
                approx = Some([x, y, z]);
            }
        } else if label.starts_with("SYS / # / OBS TYPES") {
            let c = l.chars().next().unwrap_or(' ');
            let sys = if c == ' ' { last_sys } else { Some(c) };
            if let Some(sys) = sys {
                last_sys = Some(sys);
                let list = types.entry(sys).or_default();
                list.extend(l[7..60].split_whitespace().map(str::to_string));
            }
        } else if label.starts_with("GLONASS SLOT / FRQ #") {
            glonass.extend(glonass_slots(l.get(..60).unwrap_or(l)));
        } else if label.starts_with("END OF HEADER") {
            break;
        }
    }
    if !version_ok {
        return Err(RinexError::NotRinex3("observation"));
    }
    Ok(ObsHeader {
        types,
        approx,
        glonass,
    })
}

/// The `Rnn k` pairs of a `GLONASS SLOT / FRQ #` line (the count in front is not a pair);
/// channels outside −7…+6 (ICD GLONASS 2008, 3.3.1.1) are not channels.
fn glonass_slots(fields: &str) -> impl Iterator<Item = (u8, i8)> + '_ {
    let tokens: Vec<&str> = fields.split_whitespace().collect();
    (0..tokens.len().saturating_sub(1)).filter_map(move |i| {
        let slot = tokens[i].strip_prefix('R')?.trim().parse::<u8>().ok()?;
        let k = tokens[i + 1]
            .parse::<i8>()
            .ok()
            .filter(|k| (-7..=6).contains(k))?;
        Some((slot, k))
    })
}

/// One observation type of a system's list, decoded once for the whole file.
#[derive(Clone, Copy, Debug)]
pub(super) struct ObsType {
    /// `C`, `L`, `D`, `S` (or another letter, whose values are not kept).
    kind: u8,
    code: Option<SignalCode>,
    freq_hz: Option<f64>,
}

/// The satellites' system and observation types by system letter (ASCII), for the systems
/// kept, and the GLONASS channels by slot.
pub(super) struct Systems(Vec<Option<(Gnss, Vec<ObsType>)>>, [Option<i8>; 64]);

impl Systems {
    pub fn new(header: &ObsHeader, keep: Option<&[Gnss]>) -> Systems {
        let types = &header.types;
        let mut by_letter = vec![None; 128];
        for (&c, names) in types {
            let Some(sys) = Gnss::from_letter(c) else {
                continue;
            };
            if !c.is_ascii() || keep.is_some_and(|keep| !keep.contains(&sys)) {
                continue;
            }
            let list = names
                .iter()
                .map(|t| {
                    let code = t.get(1..3).and_then(SignalCode::new);
                    ObsType {
                        kind: t.as_bytes()[0],
                        code,
                        freq_hz: code
                            .and_then(|c| crate::gnss::signal::carrier_hz(sys, c.0[0], None)),
                    }
                })
                .collect();
            by_letter[c as usize] = Some((sys, list));
        }
        let mut channels = [None; 64];
        for &(slot, k) in &header.glonass {
            if let Some(c) = channels.get_mut(usize::from(slot)) {
                *c = Some(k);
            }
        }
        Systems(by_letter, channels)
    }

    /// The header's frequency channel of a GLONASS slot.
    pub fn channel(&self, sys: Gnss, prn: u8) -> Option<i8> {
        if sys != Gnss::Glonass {
            return None;
        }
        self.1.get(usize::from(prn)).copied().flatten()
    }

    /// The system and types of a satellite line starting with `letter`, if kept.
    pub fn get(&self, letter: u8) -> Option<&(Gnss, Vec<ObsType>)> {
        self.0.get(usize::from(letter))?.as_ref()
    }
}

/// A satellite's observations from its fields: `field(k)` is the value of type `k` and its
/// LLI digit (0 when blank). Types of one signal (C1C, L1C, ...) join into one [`SignalObs`],
/// the signals in code order. `channel` dates a GLONASS satellite's FDMA carriers.
pub(super) fn sat_obs(
    sys: Gnss,
    prn: u8,
    channel: Option<i8>,
    types: &[ObsType],
    mut field: impl FnMut(usize) -> Option<(f64, u8)>,
) -> SatObs {
    let mut signals: Vec<SignalObs> = Vec::with_capacity(types.len() / 2);
    for (k, t) in types.iter().enumerate() {
        let Some((value, lli)) = field(k) else {
            continue;
        };
        let Some(code) = t.code else {
            continue;
        };
        let i = match signals.binary_search_by(|s| s.code.cmp(&code)) {
            Ok(i) => i,
            Err(i) => {
                signals.insert(
                    i,
                    SignalObs {
                        code,
                        freq_hz: t.freq_hz.or_else(|| {
                            channel.and_then(|k| {
                                crate::gnss::signal::carrier_hz(sys, code.0[0], Some(k))
                            })
                        }),
                        pseudorange_m: None,
                        phase_cycles: None,
                        doppler_hz: None,
                        cn0_dbhz: None,
                        lock_s: None,
                        slip: false,
                        half_cycle: false,
                    },
                );
                i
            }
        };
        let e = &mut signals[i];
        match t.kind {
            b'C' => e.pseudorange_m = Some(value),
            b'L' => {
                e.phase_cycles = Some(value);
                e.slip |= lli & 1 == 1;
                e.half_cycle |= lli & 2 == 2;
            }
            b'D' => e.doppler_hz = Some(value),
            b'S' => e.cn0_dbhz = Some(value),
            _ => {}
        }
    }
    SatObs {
        sys,
        prn: if sys == Gnss::Qzss {
            prn.saturating_add(192)
        } else {
            prn
        },
        signals,
    }
}

/// The time, flag and number of satellites (or records) of an epoch line after its `>`.
pub(super) fn epoch_head(rest: &str, line: usize) -> Result<(Gpst, u8, usize), RinexError> {
    let mut f = [""; 8];
    let mut n = 0;
    for (slot, x) in f.iter_mut().zip(rest.split_whitespace()) {
        *slot = x;
        n += 1;
    }
    if n < 8 {
        return Err(RinexError::Line {
            line,
            what: "epoch line".into(),
        });
    }
    let p = |i: usize| f[i].parse::<f64>().unwrap_or(0.0);
    let flag = f[6].parse::<u8>().unwrap_or(9);
    let count = f[7].parse().unwrap_or(0);
    let (whole, frac) = calendar_secs(
        p(0) as i64,
        p(1) as i64,
        p(2) as i64,
        p(3) as i64,
        p(4) as i64,
        p(5),
    );
    Ok((Gpst::new(whole, frac), flag, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glonass_channels_from_the_header() {
        let text =
            "     3.05           OBSERVATION DATA    M (MIXED)           RINEX VERSION / TYPE
R    4 C1C L1C C2P L2P                                      SYS / # / OBS TYPES
 23 R01  1 R02 -4 R03  5 R04  6 R05  1 R06 -4 R07  5 R08  6 GLONASS SLOT / FRQ #
    R09 -2 R10 -7 R11  0 R12 -1 R13 -2 R14 -7 R15  0 R16 -1 GLONASS SLOT / FRQ #
    R17  4 R18 -3 R19  3 R20  2 R21  4 R23  3 R24  9        GLONASS SLOT / FRQ #
                                                            END OF HEADER
";
        let mut lines = crate::gnss::lines::lines(text).enumerate();
        let h = obs_header(&mut lines).unwrap();
        assert_eq!(h.glonass.len(), 22, "R24's 9 is no channel");
        let kept = Systems::new(&h, None);
        assert_eq!(kept.channel(Gnss::Glonass, 10), Some(-7));
        assert_eq!(kept.channel(Gnss::Glonass, 24), None);
        assert_eq!(kept.channel(Gnss::Gps, 10), None);
        let (sys, types) = kept.get(b'R').unwrap();
        let sat = sat_obs(*sys, 10, kept.channel(*sys, 10), types, |k| {
            Some((2.0e7 + k as f64, 0))
        });
        let f: Vec<f64> = sat.signals.iter().filter_map(|s| s.freq_hz).collect();
        assert_eq!(f, vec![1_598.062_5e6, 1_242.937_5e6]);
        let blind = sat_obs(*sys, 24, None, types, |k| Some((2.0e7 + k as f64, 0)));
        assert!(blind.signals.iter().all(|s| s.freq_hz.is_none()));
    }
}
