//! `[[caster]]`, `[[push]]` and `[[output]]` into the feeds' settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Validator, raw};
use crate::feeds::caster::{CasterConfig, Mount};
use crate::feeds::message_set::{self, BroadcastArp, Format};
use crate::feeds::output::{OutputKind, OutputSettings};
use crate::feeds::push::PushSettings;
use crate::secret::Secret;

impl Validator<'_> {
    pub(super) fn caster(&mut self, i: usize, c: raw::RawCaster) -> Option<CasterConfig> {
        let t = "caster";
        let Ok(listen) = c.listen.parse() else {
            self.err(
                t,
                Some(i),
                "listen",
                format!(
                    "{:?}: expected address:port such as \"0.0.0.0:2101\"",
                    c.listen
                ),
            );
            return None;
        };
        let mut credentials = BTreeMap::new();
        if let Some(f) = &c.credentials_file {
            let path = self.path(f);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    for l in text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    {
                        match l.split_once(':') {
                            Some((u, p)) => {
                                credentials.insert(u.to_string(), Secret::new(p));
                            }
                            None => self.err(
                                t,
                                Some(i),
                                "credentials_file",
                                format!("{}: lines are user:password", path.display()),
                            ),
                        }
                    }
                }
                Err(e) => self.err(
                    t,
                    Some(i),
                    "credentials_file",
                    format!("cannot read {}: {e}", path.display()),
                ),
            }
        }
        if c.mount.is_empty() {
            self.err(
                t,
                Some(i),
                "mount",
                "a caster needs at least one [[caster.mount]]",
            );
        }
        let mut mounts = Vec::new();
        for m in c.mount {
            let mi = Some(self.mounts_seen);
            self.mounts_seen += 1;
            let ok_name = !m.name.is_empty()
                && m.name.len() <= 100
                && m.name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch));
            if !ok_name {
                self.err(
                    "caster.mount",
                    mi,
                    "name",
                    format!("{:?}: letters, digits, - _ . (up to 100)", m.name),
                );
            }
            let format = self.format(
                "caster.mount",
                mi,
                m.messages.as_deref(),
                m.format.as_deref(),
                m.rtcm2_station,
                m.coordinates.as_deref(),
            );
            let messages = format.messages().to_vec();
            if let Some(u) = &m.relay_user {
                if !credentials.contains_key(u) {
                    self.err(
                        "caster.mount",
                        mi,
                        "relay_user",
                        format!("user {u:?} is not in the caster's credentials_file"),
                    );
                }
                if m.messages.is_some() || m.format.is_some() {
                    self.err(
                        "caster.mount",
                        mi,
                        "relay_user",
                        "a relay mount carries its source's bytes unchanged: drop messages and format",
                    );
                }
            }
            if let Some(p) = &m.profile
                && let Err(broken) = crate::feeds::profiles::check(p, &messages)
            {
                self.err(
                    "caster.mount",
                    mi,
                    "profile",
                    format!(
                        "mount {}: {}",
                        m.name,
                        broken
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                );
            }
            for u in &m.users {
                if !credentials.contains_key(u) {
                    self.err(
                        "caster.mount",
                        mi,
                        "users",
                        format!("user {u:?} is not in the caster's credentials_file"),
                    );
                }
            }
            mounts.push(Mount {
                name: m.name,
                format,
                users: m.users,
                relay_user: m.relay_user,
            });
        }
        Some(CasterConfig {
            listen,
            max_per_ip: c.max_clients_per_ip.unwrap_or(100).max(1),
            mounts,
            credentials,
        })
    }

    /// What an output carries: `messages` (str2str syntax) or `format = "rtcm2"`.
    pub(super) fn format(
        &mut self,
        table: &str,
        index: Option<usize>,
        messages: Option<&str>,
        format: Option<&str>,
        rtcm2_station: Option<u16>,
        coordinates: Option<&str>,
    ) -> Format {
        let arp = self.broadcast_arp(table, index, format, coordinates);
        let set = match message_set::parse(messages.unwrap_or("")) {
            Ok(v) => v,
            Err(e) => {
                self.err(table, index, "messages", e.to_string());
                Vec::new()
            }
        };
        match format.unwrap_or("rtcm3") {
            "rtcm3" => {
                if rtcm2_station.is_some() {
                    self.err(table, index, "rtcm2_station", "only for format = \"rtcm2\"");
                }
                Format::Rtcm3 { messages: set, arp }
            }
            "rtcm2" => {
                if messages.is_some() {
                    self.err(
                        table,
                        index,
                        "messages",
                        "RTCM 2.3 output is types 1, 3 and 31: no message set",
                    );
                }
                if self.station_position.is_none() {
                    self.err(
                        table,
                        index,
                        "format",
                        "RTCM 2.3 corrections are computed against the surveyed position: set [station] position",
                    );
                }
                let station_id = rtcm2_station.unwrap_or(1);
                if station_id > 1023 {
                    self.err(
                        table,
                        index,
                        "rtcm2_station",
                        "a reference station ID is 0–1023",
                    );
                }
                Format::Rtcm2 { station_id }
            }
            other => {
                self.err(
                    table,
                    index,
                    "format",
                    format!("{other:?}: \"rtcm3\" or \"rtcm2\""),
                );
                Format::Rtcm3 { messages: set, arp }
            }
        }
    }

    /// The coordinates an RTCM3 output broadcasts in 1005/1006: what a CORS operator expects
    /// is the surveyed `[station] position` whenever one is configured (the receiver's own may
    /// be in another datum, or from before the survey), the receiver's otherwise.
    fn broadcast_arp(
        &mut self,
        table: &str,
        index: Option<usize>,
        format: Option<&str>,
        coordinates: Option<&str>,
    ) -> Option<BroadcastArp> {
        let position = self.station_position;
        let ours = position.map(|p| BroadcastArp {
            ecef: [p.x, p.y, p.z],
            antenna_height_m: self.station_antenna_height,
        });
        match coordinates {
            None => ours,
            Some(_) if format == Some("rtcm2") => {
                self.err(
                    table,
                    index,
                    "coordinates",
                    "RTCM 2.3 output is computed against [station] position: only for RTCM3",
                );
                None
            }
            Some("station") => {
                if ours.is_none() {
                    self.err(
                        table,
                        index,
                        "coordinates",
                        "\"station\" broadcasts [station] position, which is not set: set it, or use \"receiver\"",
                    );
                }
                ours
            }
            Some("receiver") => None,
            Some(other) => {
                self.err(
                    table,
                    index,
                    "coordinates",
                    format!(
                        "{other:?}: \"station\" (1005/1006 carry [station] position) or \"receiver\" (the receiver's own)"
                    ),
                );
                None
            }
        }
    }

    pub(super) fn push(&mut self, i: usize, p: raw::RawPush) -> PushSettings {
        let t = "push";
        let version = p.version.unwrap_or(1);
        if !matches!(version, 1 | 2) {
            self.err(t, Some(i), "version", "1 (SOURCE) or 2 (POST)");
        }
        if !p.address.contains(':') {
            self.err(
                t,
                Some(i),
                "address",
                format!("{:?}: host:port of the remote caster", p.address),
            );
        }
        if version == 2 && p.user.is_none() {
            self.err(
                t,
                Some(i),
                "user",
                "an NTRIP v2 push authenticates with user and password_file",
            );
        }
        if version == 1 && p.user.is_some() {
            self.err(
                t,
                Some(i),
                "user",
                "NTRIP v1 SOURCE has no user name (password only)",
            );
        }
        let mount = p.mount.trim_start_matches('/').to_string();
        if mount.is_empty() {
            self.err(t, Some(i), "mount", "the remote mountpoint's name");
        }
        let password = self
            .secret_file(t, Some(i), "password_file", &Some(p.password_file))
            .unwrap_or_else(|| Secret::new(""));
        let format = self.format(
            t,
            Some(i),
            p.messages.as_deref(),
            p.format.as_deref(),
            p.rtcm2_station,
            p.coordinates.as_deref(),
        );
        PushSettings {
            name: p.name.unwrap_or_else(|| format!("push{i}")),
            address: p.address,
            mount,
            version,
            user: p.user,
            password,
            format,
        }
    }

    pub(super) fn output(&mut self, i: usize, o: raw::RawOutput) -> Option<OutputSettings> {
        let t = "output";
        let kind = match o.kind.as_str() {
            "tcp-server" => match o.listen.as_deref().map(str::parse) {
                Some(Ok(listen)) => OutputKind::TcpServer { listen },
                _ => {
                    self.err(
                        t,
                        Some(i),
                        "listen",
                        "a tcp-server output needs listen = \"address:port\"",
                    );
                    return None;
                }
            },
            "serial" => match &o.path {
                Some(path) => OutputKind::Serial {
                    path: PathBuf::from(path),
                    baud: o.baud.unwrap_or(38_400),
                },
                None => {
                    self.err(
                        t,
                        Some(i),
                        "path",
                        "a serial output needs path = \"/dev/ttyUSB0\"",
                    );
                    return None;
                }
            },
            other => {
                self.err(
                    t,
                    Some(i),
                    "kind",
                    format!("{other:?}: \"tcp-server\" or \"serial\""),
                );
                return None;
            }
        };
        let format = self.format(
            t,
            Some(i),
            o.messages.as_deref(),
            o.format.as_deref(),
            o.rtcm2_station,
            o.coordinates.as_deref(),
        );
        Some(OutputSettings {
            name: o.name.unwrap_or_else(|| format!("output{i}")),
            kind,
            format,
        })
    }
}
