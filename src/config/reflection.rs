//! `[reflection]` into the station's reflectometry settings.

use super::{Validator, raw};
use crate::gnss::reflect::{Settings, Signal};
use crate::station::reflection::ReflectionSettings;

impl Validator<'_> {
    pub(super) fn reflection(&mut self, r: raw::RawReflection) -> ReflectionSettings {
        let t = "reflection";
        let mut out = ReflectionSettings::default();
        let elev = match r.elevation.as_deref() {
            None => (5.0, 25.0),
            Some(&[a, b]) if a >= 0.0 && a < b && b <= 90.0 => (a, b),
            Some(v) => {
                self.err(
                    t,
                    None,
                    "elevation",
                    format!("{v:?}: [MIN, MAX] degrees with 0 ≤ MIN < MAX ≤ 90, such as [5, 25]"),
                );
                (5.0, 25.0)
            }
        };
        let rh = match r.rh.as_deref() {
            None => (0.5, 8.0),
            Some(&[a, b]) if a >= 0.0 && a < b && b <= 100.0 => (a, b),
            Some(v) => {
                self.err(
                    t,
                    None,
                    "rh",
                    format!("{v:?}: [MIN, MAX] metres with 0 ≤ MIN < MAX ≤ 100, such as [0.5, 8]"),
                );
                (0.5, 8.0)
            }
        };
        out.analysis = Settings::new(elev, rh);
        if let Some(v) = r.azimuth {
            if v.len() < 2
                || v.windows(2).any(|w| w[0] >= w[1])
                || v.iter().any(|a| !(0.0..=360.0).contains(a))
            {
                self.err(
                    t,
                    None,
                    "azimuth",
                    format!(
                        "{v:?}: at least two increasing sector boundaries between 0 and 360 \
                         degrees, such as [0, 90, 180, 270, 360]"
                    ),
                );
            } else {
                out.sectors = v;
            }
        }
        out.analysis.azim = vec![(out.sectors[0], out.sectors[out.sectors.len() - 1])];
        for name in r.signals.unwrap_or_default() {
            let found = Signal::parse(name.trim());
            if found.is_empty() {
                self.err(
                    t,
                    None,
                    "signals",
                    format!(
                        "unknown signal {name:?}: one of L1, L2C, L5, E1, E5a, E5b, E6, E5, B1I, \
                         B3I, B2I, B1C, B2a, or with the system letter (\"R L1\")"
                    ),
                );
            }
            out.signals.extend(found);
        }
        if let Some(h) = r.hours {
            if h.is_empty()
                || h.windows(2).any(|w| w[0] >= w[1])
                || h.iter().any(|x| !(0..=23).contains(x))
            {
                self.err(
                    t,
                    None,
                    "hours",
                    format!("{h:?}: increasing hours of the GPS day 0–23, such as [0] or [0, 12]"),
                );
            } else {
                out.hours = h.into_iter().map(|x| x as u8).collect();
            }
        }
        out.refraction = r.refraction.unwrap_or(true);
        if let Some(a) = r.min_amp {
            if a.is_finite() && a >= 0.0 {
                out.analysis.min_amp = a;
            } else {
                self.err(
                    t,
                    None,
                    "min_amp",
                    format!("{a}: volts/volts ≥ 0, such as 5"),
                );
            }
        }
        if let Some(a) = r.min_pk2noise {
            if a.is_finite() && a >= 0.0 {
                out.analysis.min_pk2noise = a;
            } else {
                self.err(
                    t,
                    None,
                    "min_pk2noise",
                    format!("{a}: a ratio ≥ 0, such as 2.8"),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const BASE: &str = "[station]\nname = \"TEST\"\n[[source]]\nkind = \"simulate\"\n";

    fn parse(extra: &str) -> Result<crate::config::Settings, crate::config::ConfigError> {
        crate::config::parse(&format!("{BASE}{extra}"), "t.toml", Path::new("."))
    }

    #[test]
    fn off_without_the_table_and_defaults_with_it() {
        assert!(parse("").unwrap().reflection.is_none());
        let r = parse("[reflection]\n").unwrap().reflection.unwrap();
        assert_eq!(r.analysis.elev, (5.0, 25.0));
        assert_eq!(r.analysis.rh, (0.5, 8.0));
        assert_eq!(r.hours, vec![0]);
        let r = parse("[reflection]\nazimuth = [0, 120, 250, 360]\nsignals = [\"L1\", \"E1\"]\n")
            .unwrap()
            .reflection
            .unwrap();
        assert_eq!(r.sectors.len(), 4);
        assert_eq!(r.signals.len(), 4);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = parse("[reflection]\nelevation = [5, 25]\nrh = [8, 0.5]\n").unwrap_err();
        assert_eq!(
            e.to_string().split(": ").take(2).collect::<Vec<_>>(),
            ["t.toml:7", "reflection.rh"]
        );
        let e = parse("[reflection]\nsignals = [\"L9\"]\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.toml:6: reflection.signals: unknown signal"),
            "{e}"
        );
        let e = parse("[reflection]\nhours = [12, 3]\n").unwrap_err();
        assert!(
            e.to_string().starts_with("t.toml:6: reflection.hours"),
            "{e}"
        );
        let e = parse("[reflection]\nazimuth = [0, 400]\n").unwrap_err();
        assert!(
            e.to_string().starts_with("t.toml:6: reflection.azimuth"),
            "{e}"
        );
        let e = parse("[reflection]\nheight = 3\n").unwrap_err();
        assert!(e.to_string().contains("height"), "{e}");
    }
}
