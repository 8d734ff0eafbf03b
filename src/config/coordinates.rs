//! `[coordinates]` into the daily survey's settings.

use std::path::{Path, PathBuf};

use super::{Validator, parse_duration, raw};
use crate::gnss::Gnss;
use crate::gnss::ppp::SatAntexPolicy;
use crate::station::survey::daily::DailySettings;

const T: &str = "coordinates";

impl Validator<'_> {
    pub(super) fn coordinates(
        &mut self,
        raw: raw::RawCoordinates,
        data_dir: &Path,
        station_atx: Option<&PathBuf>,
        archive: bool,
    ) -> DailySettings {
        let mut s = DailySettings {
            products: data_dir.join("products"),
            ..Default::default()
        };
        if !archive {
            self.err(
                T,
                None,
                "products",
                "the daily survey reads the archived days: add an [archive] table (hourly RINEX is on by default)",
            );
        }
        if let Some(p) = raw.products {
            s.products = self.path(&p);
            if !s.products.is_dir() {
                self.err(
                    T,
                    None,
                    "products",
                    format!(
                        "{} is not a directory: create it; the operator or a cron job puts the SP3 and clock files there",
                        s.products.display()
                    ),
                );
            }
        }
        let atx: Vec<PathBuf> = match raw.atx {
            Some(raw::Paths(list)) => list.iter().map(|a| self.path(a)).collect(),
            None => station_atx.cloned().into_iter().collect(),
        };
        if atx.is_empty() {
            self.err(
                T,
                None,
                "atx",
                "PPP needs antenna phase centres: set atx here or in [station] (an IGS ANTEX file such as igs20.atx, or a list of files)",
            );
        }
        for a in atx.iter().filter(|a| !a.is_file()) {
            self.err(
                T,
                None,
                "atx",
                format!("{}: no such file (an IGS ANTEX file with the satellites and the station's antenna)", a.display()),
            );
        }
        s.atx = atx;
        let mut metres = |key: &str, v: Option<f64>, default: f64, max: f64| match v {
            None => default,
            Some(m) if m > 0.0 && m <= max => m,
            Some(m) => {
                self.err(
                    T,
                    None,
                    key,
                    format!("{m}: metres, above 0 and at most {max}"),
                );
                default
            }
        };
        s.horizontal_m = metres("horizontal_m", raw.horizontal_m, s.horizontal_m, 10.0);
        s.up_m = metres("up_m", raw.up_m, s.up_m, 10.0);
        s.broadcast_bound_m = metres(
            "broadcast_bound_m",
            raw.broadcast_bound_m,
            s.broadcast_bound_m,
            1000.0,
        );
        if let Some(n) = raw.trend_days {
            if (3..=366).contains(&n) {
                s.trend_days = n;
            } else {
                self.err(T, None, "trend_days", format!("{n}: 3 to 366 days"));
            }
        }
        if let Some(r) = raw.recheck {
            match parse_duration(&r) {
                Some(d) if (1.0..=7.0 * 86_400.0).contains(&d.as_secs_f64()) => {
                    s.recheck_s = d.as_secs_f64()
                }
                _ => self.err(
                    T,
                    None,
                    "recheck",
                    format!("{r:?}: a duration from \"1s\" to \"7d\", such as \"1h\""),
                ),
            }
        }
        if let Some(h) = raw.hours {
            self.err(
                T,
                None,
                "hours",
                format!("{h}: replaced by recheck, a duration such as recheck = \"1h\""),
            );
        }
        if let Some(m) = raw.margin {
            match parse_duration(&m) {
                Some(d) => s.margin_s = d.as_secs_f64(),
                None => self.err(
                    T,
                    None,
                    "margin",
                    format!("{m:?} is not a duration such as \"30m\""),
                ),
            }
        }
        if let Some(b) = raw.broadcast_fallback {
            s.broadcast_fallback = b;
        }
        if let Some(letters) = raw.systems {
            let mut systems = Vec::new();
            for c in letters.chars() {
                match Gnss::from_letter(c) {
                    Some(g)
                        if [
                            Gnss::Gps,
                            Gnss::Galileo,
                            Gnss::Glonass,
                            Gnss::Beidou,
                            Gnss::Qzss,
                        ]
                        .contains(&g) =>
                    {
                        systems.push(g)
                    }
                    _ => self.err(
                        T,
                        None,
                        "systems",
                        format!("{c:?}: system letters G, E, R, C, J"),
                    ),
                }
            }
            if systems.is_empty() {
                self.err(
                    T,
                    None,
                    "systems",
                    "at least one system letter (G, E, R, C, J)",
                );
            } else {
                s.systems = systems;
            }
        }
        if let Some(d) = raw.backfill_days {
            s.backfill_days = d;
        }
        match raw.sat_antex.as_deref() {
            None | Some("strict") => {}
            Some("outdated-ok") => s.sat_antex = SatAntexPolicy::OutdatedOk,
            Some("by-signals") => s.sat_antex = SatAntexPolicy::BySignals,
            Some(o) => self.err(
                T,
                None,
                "sat_antex",
                format!("{o:?}: \"strict\", \"outdated-ok\" or \"by-signals\""),
            ),
        }
        if let Some(m) = raw.mask_deg {
            if (0.0..60.0).contains(&m) {
                s.mask_deg = m;
            } else {
                self.err(T, None, "mask_deg", format!("{m}: degrees, 0 to 60"));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse;

    const BASE: &str = r#"
[station]
name = "ESBC"

[[source]]
kind = "tcp"
address = "127.0.0.1:5017"

[archive]
"#;

    /// The message of a configuration `parse` refuses.
    fn refused(text: &str, base: &str) -> String {
        parse(text, "c.toml", Path::new(base))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn coordinates_are_read_with_defaults() {
        let atx = std::env::current_exe().unwrap();
        let text = format!(
            "{BASE}\n[coordinates]\natx = {:?}\nsystems = \"GE\"\n",
            atx.display().to_string()
        );
        let s = parse(&text, "c.toml", Path::new("/data")).unwrap();
        let c = s.coordinates.unwrap();
        assert_eq!(c.products, Path::new("/var/lib/corsd/products"));
        assert_eq!((c.horizontal_m, c.up_m, c.margin_s), (0.02, 0.04, 1800.0));
        assert_eq!(c.systems.len(), 2);
        assert!(c.broadcast_fallback);
        assert_eq!(c.recheck_s, 3600.0);
        assert_eq!(c.atx, [atx.clone()]);
        // Several ANTEX files; each one named when it is missing; a number is no path.
        let listed = text.replace(
            &format!("atx = {:?}", atx.display().to_string()),
            &format!(
                "atx = [{:?}, {:?}]",
                atx.display().to_string(),
                atx.display().to_string()
            ),
        );
        let c = parse(&listed, "c.toml", Path::new("/data"))
            .unwrap()
            .coordinates
            .unwrap();
        assert_eq!(c.atx, [atx.clone(), atx.clone()]);
        let e = refused(
            &listed.replacen(&atx.display().to_string(), "/nonexistent.atx", 1),
            "/data",
        );
        assert!(
            e.contains("c.toml:12: coordinates.atx: /nonexistent.atx: no such file"),
            "{e}"
        );
        let e = refused(
            &text.replace(&format!("atx = {:?}", atx.display().to_string()), "atx = 5"),
            "/data",
        );
        assert!(e.contains("a path or a list of paths"), "{e}");
        let e = refused(&format!("{text}recheck = \"0s\"\n"), "/data");
        assert!(
            e.contains("c.toml:14: coordinates.recheck: \"0s\": a duration from \"1s\""),
            "{e}"
        );
        let e = refused(&format!("{text}hours = 6\n"), "/data");
        assert!(
            e.contains("c.toml:14: coordinates.hours: 6: replaced by recheck"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let text = format!(
            "{BASE}\n[coordinates]\natx = \"/nonexistent.atx\"\nup_m = -1\nsat_antex = \"maybe\"\n"
        );
        let e = refused(&text, "/");
        assert!(
            e.contains("c.toml:12: coordinates.atx: /nonexistent.atx: no such file"),
            "{e}"
        );
        let without_archive = text.replace("[archive]\n", "");
        let e = refused(&without_archive, "/");
        assert!(e.contains("add an [archive] table"), "{e}");
    }
}
