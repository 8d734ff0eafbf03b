//! `[[monitor]]` into the integrity monitors' settings: the mount must be one the caster
//! serves from the station (RTCM3, not a relay), the check receiver needs its known coordinates
//! in the station's frame, and its source is validated as any `[[source]]`.

use std::time::Duration;

use nalgebra::Vector3;

use super::{Validator, parse_duration, raw};
use crate::feeds::caster::CasterConfig;
use crate::feeds::message_set::Format;
use crate::sources::SourceSettings;
use crate::station::StationSettings;
use crate::station::monitor::MonitorSettings;

impl Validator<'_> {
    pub(super) fn monitors(
        &mut self,
        raw: Vec<raw::RawMonitor>,
        station: &StationSettings,
        casters: &[CasterConfig],
        sources: &[SourceSettings],
    ) -> Vec<MonitorSettings> {
        let mut out: Vec<MonitorSettings> = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            if let Some(m) = self.monitor(i, r, station, casters) {
                let taken = sources.iter().any(|s| s.name == m.source.name)
                    || out.iter().any(|o| o.source.name == m.source.name);
                if taken {
                    self.err(
                        "monitor.source",
                        Some(i),
                        "name",
                        format!(
                            "{:?} is used by another source; names must differ",
                            m.source.name
                        ),
                    );
                }
                if out.iter().any(|o| o.name == m.name) {
                    self.err(
                        "monitor",
                        Some(i),
                        "name",
                        format!("{:?} names another monitor too", m.name),
                    );
                }
                out.push(m);
            }
        }
        out
    }

    fn monitor(
        &mut self,
        i: usize,
        r: raw::RawMonitor,
        station: &StationSettings,
        casters: &[CasterConfig],
    ) -> Option<MonitorSettings> {
        let t = "monitor";
        let idx = Some(i);
        if r.name.trim().is_empty() || r.name.contains([' ', ',', '=', '"']) {
            self.err(
                t,
                idx,
                "name",
                format!(
                    "{:?}: a name without spaces, commas, quotes or '=' (it is a tag)",
                    r.name
                ),
            );
        }
        let mounts: Vec<_> = casters.iter().flat_map(|c| &c.mounts).collect();
        match mounts.iter().find(|m| m.name == r.mount) {
            None => {
                let names: Vec<&str> = mounts.iter().map(|m| m.name.as_str()).collect();
                self.err(
                    t,
                    idx,
                    "mount",
                    if names.is_empty() {
                        format!(
                            "{:?}: no [[caster.mount]] is configured; the monitor checks what a caster mount serves",
                            r.mount
                        )
                    } else {
                        format!(
                            "{:?} is not a mount of the caster (mounts: {})",
                            r.mount,
                            names.join(", ")
                        )
                    },
                );
            }
            Some(m) if m.relay_user.is_some() => self.err(
                t,
                idx,
                "mount",
                format!(
                    "{:?} is a relay mount: it carries another station's data, not this station's",
                    r.mount
                ),
            ),
            Some(m) if matches!(m.format, Format::Rtcm2 { .. }) => self.err(
                t,
                idx,
                "mount",
                format!(
                    "{:?} serves RTCM 2.3 code corrections, which give no carrier-phase fix: choose an RTCM3 mount",
                    r.mount
                ),
            ),
            Some(_) => {}
        }
        let position = match r.position {
            Some(p) => {
                let v = Vector3::new(p.x, p.y, p.z);
                if !(6_300_000.0..6_400_000.0).contains(&v.norm()) {
                    self.err(
                        t,
                        idx,
                        "position",
                        format!(
                            "{:.0} m from the Earth's centre: expected the check receiver's ECEF X, Y, Z in metres",
                            v.norm()
                        ),
                    );
                }
                v
            }
            None => {
                self.err(
                    t,
                    idx,
                    "position",
                    "the check receiver's known coordinates are needed: position = { x = ..., y = ..., z = ... } (ECEF, m, in [station]'s frame)",
                );
                Vector3::zeros()
            }
        };
        let frame = r.frame.unwrap_or_else(|| station.frame.clone());
        if frame != station.frame {
            self.err(
                t,
                idx,
                "frame",
                format!(
                    "{frame:?} differs from [station]'s {:?}: give the check receiver's coordinates in the station's frame (datums differ by metres)",
                    station.frame
                ),
            );
        }
        let max_wait_s = r.max_wait_s.unwrap_or(10.0);
        if !(max_wait_s > 0.0 && max_wait_s <= 60.0) {
            self.err(t, idx, "max_wait_s", "seconds between 0 and 60");
        }
        let reset_every = match r.reset.as_deref() {
            None | Some("off") => None,
            Some(s) => match parse_duration(s) {
                Some(d) if d >= Duration::from_secs(60) => Some(d),
                _ => {
                    self.err(
                        t,
                        idx,
                        "reset",
                        format!("{s:?}: \"off\" or a duration of at least 1m, such as \"1h\""),
                    );
                    None
                }
            },
        };
        let max_error_m = r.max_error_m.unwrap_or(0.05);
        if !(max_error_m > 0.0 && max_error_m < 10.0) {
            self.err(
                t,
                idx,
                "max_error_m",
                "metres, more than 0 and less than 10",
            );
        }
        let fix_window = match parse_duration(r.fix_window.as_deref().unwrap_or("10m")) {
            Some(d) if (30..=86_400).contains(&d.as_secs()) => d,
            _ => {
                self.err(
                    t,
                    idx,
                    "fix_window",
                    format!(
                        "{:?}: a duration from 30s to 24h, such as \"10m\"",
                        r.fix_window.as_deref().unwrap_or("")
                    ),
                );
                Duration::from_secs(600)
            }
        };
        let min_fix_percent = r.min_fix_percent.unwrap_or(90.0);
        if !(min_fix_percent > 0.0 && min_fix_percent <= 100.0) {
            self.err(
                t,
                idx,
                "min_fix_percent",
                "a percentage of the check epochs, more than 0 and at most 100",
            );
        }
        let Some(mut src) = r.source else {
            self.err(
                t,
                idx,
                "source",
                "the check receiver is needed: a [monitor.source] table with keys as in [[source]]",
            );
            return None;
        };
        if src.name.is_none() {
            src.name = Some(format!("{}-check", r.name));
        }
        let source = self.source_in("monitor.source", i, src)?;
        Some(MonitorSettings {
            name: r.name,
            mount: r.mount,
            source,
            position,
            frame,
            antenna: r.antenna.unwrap_or_default(),
            max_wait_s,
            reset_every,
            max_error_m,
            fix_window,
            min_fix_percent,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse;

    const BASE: &str = r#"
[station]
name = "STR2"
position = { x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }

[[source]]
kind = "tcp"
address = "127.0.0.1:5017"

[[caster]]
listen = "127.0.0.1:2101"
[[caster.mount]]
name = "STR2_MSM4"
messages = "1006(10),1074(1)"

[[monitor]]
name = "STR1"
mount = "STR2_MSM4"
position = { x = -4467103.2326, y = 2683039.4771, z = -3666948.7128 }
reset = "1h"
[monitor.source]
kind = "tcp"
address = "127.0.0.1:5018"
"#;

    #[test]
    fn a_monitor_is_read() {
        let s = parse(BASE, "c.toml", Path::new("/")).unwrap();
        let m = &s.monitors[0];
        assert_eq!((m.name.as_str(), m.mount.as_str()), ("STR1", "STR2_MSM4"));
        assert_eq!(m.source.name, "STR1-check");
        assert_eq!(m.reset_every, Some(std::time::Duration::from_secs(3600)));
        assert_eq!(m.frame, "ITRF2014");
    }

    #[test]
    fn bad_monitors_are_named_with_their_line() {
        let e = parse(
            &BASE.replace("mount = \"STR2_MSM4\"", "mount = \"NOPE\""),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("monitor[0].mount", 18), "{e}");
        assert!(e.message.contains("STR2_MSM4"), "{e}");
        let e = parse(
            &BASE.replace(
                "position = { x = -4467103.2326, y = 2683039.4771, z = -3666948.7128 }\n",
                "",
            ),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(e.key, "monitor[0].position", "{e}");
        assert!(e.message.contains("known coordinates"), "{e}");
        let e = parse(
            &BASE.replace("address = \"127.0.0.1:5018\"", "adress = \"x\""),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("adress", 23), "{e}");
        let e = parse(
            &BASE.replace("address = \"127.0.0.1:5018\"", "address = \"nowhere\""),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.line),
            ("monitor.source[0].address", 23),
            "{e}"
        );
    }

    #[test]
    fn mounts_broadcast_the_station_coordinates_unless_told() {
        use crate::feeds::message_set::Format;
        let arp = |c: &super::super::Settings| match &c.casters[0].mounts[0].format {
            Format::Rtcm3 { arp, .. } => *arp,
            Format::Rtcm2 { .. } => None,
        };
        let s = parse(BASE, "c.toml", Path::new("/")).unwrap();
        let a = arp(&s).expect("[station] position in 1005/1006");
        assert_eq!(a.ecef, [-4467075.2780, 2683011.8519, -3667007.0103]);
        assert_eq!(a.antenna_height_m, None);
        let with_height = BASE.replace(
            "name = \"STR2\"\n",
            "name = \"STR2\"\nantenna_height = 1.25\n",
        );
        let s = parse(&with_height, "c.toml", Path::new("/")).unwrap();
        assert_eq!(arp(&s).unwrap().antenna_height_m, Some(1.25));
        let receiver = BASE.replace(
            "name = \"STR2_MSM4\"\n",
            "name = \"STR2_MSM4\"\ncoordinates = \"receiver\"\n",
        );
        let s = parse(&receiver, "c.toml", Path::new("/")).unwrap();
        assert_eq!(arp(&s), None);
        let e = parse(
            &BASE.replace(
                "name = \"STR2_MSM4\"\n",
                "name = \"STR2_MSM4\"\ncoordinates = \"surveyed\"\n",
            ),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.line),
            ("caster.mount[0].coordinates", 14),
            "{e}"
        );
        assert!(e.message.contains("\"station\""), "{e}");
        let e = parse(
            &with_height.replace("antenna_height = 1.25", "antenna_height = -2"),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.line),
            ("station.antenna_height", 4),
            "{e}"
        );
    }

    #[test]
    fn the_fix_rate_window_is_checked() {
        let s = parse(BASE, "c.toml", Path::new("/")).unwrap();
        let m = &s.monitors[0];
        assert_eq!(m.fix_window, std::time::Duration::from_secs(600));
        assert_eq!(m.min_fix_percent, 90.0);
        let e = parse(
            &BASE.replace("reset = \"1h\"", "reset = \"1h\"\nfix_window = \"5s\""),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.line),
            ("monitor[0].fix_window", 21),
            "{e}"
        );
        let e = parse(
            &BASE.replace("reset = \"1h\"", "reset = \"1h\"\nmin_fix_percent = 120"),
            "c.toml",
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(e.key, "monitor[0].min_fix_percent", "{e}");
    }
}
