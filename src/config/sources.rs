//! `[[source]]` into the sources' settings.

use std::path::PathBuf;
use std::time::Duration;

use super::{Validator, parse_duration, raw};
use crate::sources::ntrip_client::NtripSettings;
use crate::sources::{InputFormat, SourceKind, SourceSettings};

impl Validator<'_> {
    pub(super) fn source(&mut self, i: usize, r: raw::RawSource) -> Option<SourceSettings> {
        self.source_in("source", i, r)
    }

    /// A source in table `t` (`source`, or `monitor.source` for a check receiver).
    pub(super) fn source_in(
        &mut self,
        t: &str,
        i: usize,
        r: raw::RawSource,
    ) -> Option<SourceSettings> {
        let idx = Some(i);
        let watchdog = match r.watchdog.as_deref() {
            None => Duration::from_secs(30),
            Some(w) => match parse_duration(w) {
                Some(d) if d >= Duration::from_secs(1) => d,
                _ => {
                    self.err(
                        t,
                        idx,
                        "watchdog",
                        format!("{w:?}: a duration of at least 1s, such as \"30s\""),
                    );
                    Duration::from_secs(30)
                }
            },
        };
        let need = |v: &mut Self, name: &str, x: &Option<String>| -> Option<String> {
            if x.is_none() {
                v.err(t, idx, name, format!("kind = {:?} needs {name}", r.kind));
            }
            x.clone()
        };
        let kind = match r.kind.as_str() {
            "serial" => {
                let path = need(self, "path", &r.path)?;
                let baud = r.baud.unwrap_or(115_200);
                if !(300..=4_000_000).contains(&baud) {
                    self.err(t, idx, "baud", format!("{baud} is not a serial speed"));
                }
                SourceKind::Serial {
                    path: PathBuf::from(path),
                    baud,
                }
            }
            "tcp" => {
                let address = need(self, "address", &r.address)?;
                if !address.contains(':') {
                    self.err(
                        t,
                        idx,
                        "address",
                        format!("{address:?}: expected host:port"),
                    );
                }
                SourceKind::Tcp { address }
            }
            "tcp-server" | "udp" => {
                let listen = need(self, "listen", &r.listen)?;
                let Ok(listen) = listen.parse() else {
                    self.err(
                        t,
                        idx,
                        "listen",
                        format!("{listen:?}: expected address:port such as \"0.0.0.0:5017\""),
                    );
                    return None;
                };
                if r.kind == "udp" {
                    SourceKind::Udp { listen }
                } else {
                    SourceKind::TcpServer { listen }
                }
            }
            "ntrip" => {
                let url = need(self, "url", &r.url)?;
                let Some(n) = parse_ntrip_url(&url) else {
                    self.err(
                        t,
                        idx,
                        "url",
                        format!("{url:?}: expected ntrip://host:port/MOUNT (or ntrips:// for TLS)"),
                    );
                    return None;
                };
                let version = r.version.unwrap_or(2);
                if !(1..=2).contains(&version) {
                    self.err(t, idx, "version", "NTRIP version 1 or 2");
                }
                let password = self.secret_file(t, idx, "password_file", &r.password_file);
                if r.user.is_some() != password.is_some() {
                    self.err(t, idx, "user", "user and password_file go together");
                }
                let gga = match r.gga.as_deref() {
                    None | Some("off") => None,
                    Some("auto") => Some(Duration::from_secs(10)),
                    Some(g) => match parse_duration(g) {
                        Some(d) if d >= Duration::from_secs(1) => Some(d),
                        _ => {
                            self.err(t, idx, "gga", format!("{g:?}: \"off\", \"auto\" (every 10 s) or a duration such as \"30s\""));
                            None
                        }
                    },
                };
                SourceKind::Ntrip(NtripSettings {
                    version,
                    user: r.user.clone(),
                    password,
                    gga,
                    ..n
                })
            }
            "file" => {
                let path = need(self, "path", &r.path)?;
                let path = self.path(&path);
                if !path.exists() {
                    self.err(t, idx, "path", format!("{} does not exist", path.display()));
                }
                let speed = r.speed.unwrap_or(1.0);
                if !(speed >= 0.0 && speed.is_finite()) {
                    self.err(
                        t,
                        idx,
                        "speed",
                        "0 (as fast as possible) or a positive factor of real time",
                    );
                }
                let date = match r.date.as_deref() {
                    None => None,
                    Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                        Ok(d) => Some(d),
                        Err(_) => {
                            self.err(
                                t,
                                idx,
                                "date",
                                format!("{d:?}: a date such as \"2026-03-01\""),
                            );
                            None
                        }
                    },
                };
                SourceKind::File {
                    path,
                    speed,
                    looped: r.r#loop.unwrap_or(false),
                    date,
                }
            }
            "stdin" => SourceKind::Stdin,
            "simulate" => {
                let msm = r.msm.unwrap_or(4);
                if msm != 4 && msm != 7 {
                    self.err(t, idx, "msm", "4 or 7");
                }
                SourceKind::Simulate {
                    seed: r.seed.unwrap_or(1),
                    msm,
                }
            }
            other => {
                self.err(
                    t,
                    idx,
                    "kind",
                    format!("{other:?}: one of serial, tcp, tcp-server, ntrip, udp, file, stdin, simulate"),
                );
                return None;
            }
        };
        let format = match r.format.as_deref() {
            None | Some("auto") => InputFormat::Auto,
            Some("rtcm3") => InputFormat::Rtcm3,
            Some("ubx") => InputFormat::Ubx,
            Some(other) => {
                self.err(
                    t,
                    idx,
                    "format",
                    format!("{other:?}: one of auto, rtcm3, ubx"),
                );
                InputFormat::Auto
            }
        };
        Some(SourceSettings {
            name: r.name.unwrap_or_else(|| format!("{}{}", r.kind, i)),
            kind,
            format,
            receiver: None,
            watchdog,
        })
    }
}

/// `ntrip://host:port/MOUNT`, `ntrips://…` for TLS; the port defaults to 2101 (443 with TLS).
pub fn parse_ntrip_url(url: &str) -> Option<NtripSettings> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("ntrips://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("ntrip://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        (true, url.strip_prefix("https://")?)
    };
    let (hostport, mount) = rest.split_once('/')?;
    if mount.is_empty() || mount.contains(['/', ' ']) {
        return None;
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (h, p.parse().ok()?),
        _ => (hostport, if tls { 443 } else { 2101 }),
    };
    if host.is_empty() {
        return None;
    }
    Some(NtripSettings {
        host: host.trim_matches(['[', ']']).to_string(),
        port,
        mountpoint: mount.to_string(),
        tls,
        version: 2,
        user: None,
        password: None,
        gga: None,
    })
}
