//! Configuration (DESIGN §3) in two stages: [`raw`] is what the TOML file says (serde,
//! unknown keys refused, secrets wrapped), [`validate`] turns it into [`Settings`] that the
//! daemon is built from. Every error names the file, the line and the key, and says what is
//! expected; nothing starts before the whole file is valid.

pub mod raw;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nalgebra::Vector3;

use raw::RawConfig;

/// A configuration error, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

/// A password or token: never in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a source's bytes come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    Serial {
        path: PathBuf,
        baud: u32,
    },
    Tcp {
        address: String,
    },
    TcpServer {
        listen: SocketAddr,
    },
    Ntrip(NtripSettings),
    Udp {
        listen: SocketAddr,
    },
    File {
        path: PathBuf,
        speed: f64,
        looped: bool,
        /// Date of the recording (for streams without 1013).
        date: Option<chrono::NaiveDate>,
    },
    Stdin,
    /// The built-in simulator at the live clock (the demo station).
    Simulate {
        seed: u64,
        msm: u8,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct NtripSettings {
    pub host: String,
    pub port: u16,
    pub mountpoint: String,
    pub tls: bool,
    /// 1 or 2.
    pub version: u8,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Send the station position as GGA every this often (VRS-style casters want it).
    pub gga: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceSettings {
    pub name: String,
    pub kind: SourceKind,
    /// No byte for this long: the link is stalled and is reopened.
    pub watchdog: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfluxApi {
    V1,
    V2,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InfluxSettings {
    pub url: String,
    pub api: InfluxApi,
    pub org: String,
    pub bucket: String,
    pub token: Option<Secret>,
    pub db: String,
    pub rp: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub spool_dir: PathBuf,
    pub spool_max_bytes: u64,
    pub spool_max_age: Duration,
    pub batch_points: usize,
    pub batch_bytes: usize,
    pub batch_interval: Duration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StationSettings {
    pub name: String,
    pub position: Option<Vector3<f64>>,
    pub frame: String,
    pub antenna: String,
    pub receiver: String,
    pub country: String,
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub station: StationSettings,
    pub data_dir: PathBuf,
    pub sources: Vec<SourceSettings>,
    pub influx: Option<InfluxSettings>,
    /// Line-protocol files when there is no `[influx]`.
    pub series_dir: PathBuf,
    pub health_listen: Option<SocketAddr>,
    pub archive: Option<ArchiveSettings>,
    pub casters: Vec<CasterConfig>,
    pub pushes: Vec<crate::sinks::push::PushSettings>,
    pub outputs: Vec<crate::sinks::output::OutputSettings>,
}

/// One embedded caster.
#[derive(Clone, Debug, PartialEq)]
pub struct CasterConfig {
    pub listen: SocketAddr,
    pub max_per_ip: usize,
    pub mounts: Vec<MountConfig>,
    pub credentials: std::collections::BTreeMap<String, Secret>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MountConfig {
    pub name: String,
    pub format: crate::sinks::feed::Format,
    pub users: Vec<String>,
    pub relay_user: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArchiveSettings {
    pub dir: PathBuf,
    pub retention_days: u32,
    pub min_free_bytes: u64,
    /// Hourly RINEX observation files, written live.
    pub rinex: bool,
}

/// Read and validate a configuration file.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: 0,
        key: "-".into(),
        message: format!("cannot read the file: {e}"),
    })?;
    parse(&text, &file, path.parent().unwrap_or(Path::new(".")))
}

/// Parse and validate configuration text; `base` resolves relative paths.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Settings, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let (line, key) = locate_toml_error(text, &e);
        ConfigError {
            file: file.into(),
            line,
            key,
            message: e.message().to_string(),
        }
    })?;
    let mut v = Validator {
        text,
        file,
        base,
        errors: Vec::new(),
        mounts_seen: 0,
        station_position: None,
    };
    let s = v.settings(raw);
    match v.errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(s),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line and key of a TOML/serde error: an unknown key names itself in the message, and the
/// error's span gives the table; the key's own line is searched inside the span.
fn locate_toml_error(text: &str, e: &toml::de::Error) -> (usize, String) {
    let msg = e.message();
    let span = e.span().unwrap_or(0..0);
    let quoted = msg
        .split('`')
        .nth(1)
        .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"))
        .map(str::to_string);
    if let Some(k) = &quoted
        && msg.starts_with("unknown field")
    {
        let region = &text[span.start.min(text.len())..span.end.min(text.len())];
        for (i, l) in region.lines().enumerate() {
            let t = l.trim_start();
            if t.starts_with(k.as_str()) && t[k.len()..].trim_start().starts_with('=') {
                return (line_of(text, span.start) + i, k.clone());
            }
        }
    }
    let key = quoted.unwrap_or_else(|| {
        // The key whose value is at the span: the text before `=` on its line.
        let start = span.start.min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
        let l = &text[line_start..];
        l.split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['[', ']'])
            .to_string()
    });
    (line_of(text, span.start), key)
}

struct Validator<'a> {
    text: &'a str,
    file: &'a str,
    base: &'a Path,
    errors: Vec<ConfigError>,
    /// `[[caster.mount]]` tables met so far, across casters: the index that finds a mount's line.
    mounts_seen: usize,
    /// The station's surveyed position, once read (RTCM 2.3 outputs need it).
    station_position: Option<Vector3<f64>>,
}

/// `1.5GiB`, `200 MB`, `1048576`.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        "tib" => 1024f64.powi(4),
        _ => return None,
    };
    (n >= 0.0).then_some((n * mult) as u64)
}

/// `30s`, `5m`, `2h`, `7d`, `250ms`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

impl Validator<'_> {
    /// Record an error at `table` (`station`, or `source` with its index) and `key`.
    fn err(&mut self, table: &str, index: Option<usize>, key: &str, message: impl Into<String>) {
        let line = locate_key(self.text, table, index, key);
        let name = match index {
            Some(i) => format!("{table}[{i}].{key}"),
            None if table.is_empty() => key.to_string(),
            None => format!("{table}.{key}"),
        };
        self.errors.push(ConfigError {
            file: self.file.into(),
            line,
            key: name,
            message: message.into(),
        });
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// A secret from a file (first line, trimmed): the file must exist and be readable.
    fn secret_file(
        &mut self,
        table: &str,
        index: Option<usize>,
        key: &str,
        p: &Option<String>,
    ) -> Option<Secret> {
        let p = p.as_ref()?;
        let path = self.path(p);
        match std::fs::read_to_string(&path) {
            Ok(s) => Some(Secret::new(s.lines().next().unwrap_or("").trim())),
            Err(e) => {
                self.err(
                    table,
                    index,
                    key,
                    format!("cannot read {}: {e}", path.display()),
                );
                None
            }
        }
    }

    fn settings(&mut self, raw: RawConfig) -> Settings {
        let data_dir = self.path(raw.data_dir.as_deref().unwrap_or("/var/lib/corsd"));
        let station = self.station(raw.station);
        self.station_position = station.position;
        let mut sources = Vec::new();
        if raw.source.is_empty() {
            self.err(
                "",
                None,
                "source",
                "at least one [[source]] is needed (kind = serial, tcp, tcp-server, ntrip, udp, file, stdin or simulate)",
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in raw.source.into_iter().enumerate() {
            if let Some(s) = self.source(i, s) {
                if !names.insert(s.name.clone()) {
                    self.err(
                        "source",
                        Some(i),
                        "name",
                        format!("{:?} is used by another source; names must differ", s.name),
                    );
                }
                sources.push(s);
            }
        }
        let influx = raw.influx.map(|r| self.influx(r, &data_dir));
        let series_dir = match raw.files.and_then(|f| f.dir) {
            Some(d) => self.path(&d),
            None => data_dir.join("series"),
        };
        let health_listen = match raw.health.and_then(|h| h.listen) {
            Some(l) => match l.parse() {
                Ok(a) => Some(a),
                Err(_) => {
                    self.err(
                        "health",
                        None,
                        "listen",
                        format!("{l:?} is not an address:port such as \"127.0.0.1:8080\""),
                    );
                    None
                }
            },
            None => Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
        };
        let archive = raw.archive.map(|a| {
            let min_free = a.min_free.as_deref().unwrap_or("1GiB");
            let min_free_bytes = parse_bytes(min_free).unwrap_or_else(|| {
                self.err(
                    "archive",
                    None,
                    "min_free",
                    format!("{min_free:?} is not a size such as \"1GiB\""),
                );
                0
            });
            ArchiveSettings {
                dir: a
                    .dir
                    .map(|d| self.path(&d))
                    .unwrap_or_else(|| data_dir.join("archive")),
                retention_days: a.retention_days.unwrap_or(365),
                min_free_bytes,
                rinex: a.rinex.unwrap_or(true),
            }
        });
        let casters = raw
            .caster
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| self.caster(i, c))
            .collect();
        let pushes = raw
            .push
            .into_iter()
            .enumerate()
            .map(|(i, p)| self.push(i, p))
            .collect();
        let outputs = raw
            .output
            .into_iter()
            .enumerate()
            .filter_map(|(i, o)| self.output(i, o))
            .collect();
        Settings {
            station,
            data_dir,
            sources,
            influx,
            series_dir,
            health_listen,
            archive,
            casters,
            pushes,
            outputs,
        }
    }

    fn caster(&mut self, i: usize, c: raw::RawCaster) -> Option<CasterConfig> {
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
        let mut credentials = std::collections::BTreeMap::new();
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
            );
            let messages = match &format {
                crate::sinks::feed::Format::Rtcm3(set) => set.clone(),
                crate::sinks::feed::Format::Rtcm2 { .. } => Vec::new(),
            };
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
                && let Err(broken) = crate::sinks::profiles::check(p, &messages)
            {
                self.err(
                    "caster.mount",
                    mi,
                    "profile",
                    format!("mount {}: {}", m.name, broken.join("; ")),
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
            mounts.push(MountConfig {
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
    fn format(
        &mut self,
        table: &str,
        index: Option<usize>,
        messages: Option<&str>,
        format: Option<&str>,
        rtcm2_station: Option<u16>,
    ) -> crate::sinks::feed::Format {
        use crate::sinks::feed::Format;
        let set = match crate::sinks::caster::parse_messages(messages.unwrap_or("")) {
            Ok(v) => v,
            Err(e) => {
                self.err(table, index, "messages", e);
                Vec::new()
            }
        };
        match format.unwrap_or("rtcm3") {
            "rtcm3" => {
                if rtcm2_station.is_some() {
                    self.err(table, index, "rtcm2_station", "only for format = \"rtcm2\"");
                }
                Format::Rtcm3(set)
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
                Format::Rtcm3(set)
            }
        }
    }

    fn push(&mut self, i: usize, p: raw::RawPush) -> crate::sinks::push::PushSettings {
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
        );
        crate::sinks::push::PushSettings {
            name: p.name.unwrap_or_else(|| format!("push{i}")),
            address: p.address,
            mount,
            version,
            user: p.user,
            password,
            format,
        }
    }

    fn output(
        &mut self,
        i: usize,
        o: raw::RawOutput,
    ) -> Option<crate::sinks::output::OutputSettings> {
        use crate::sinks::output::OutputKind;
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
        );
        Some(crate::sinks::output::OutputSettings {
            name: o.name.unwrap_or_else(|| format!("output{i}")),
            kind,
            format,
        })
    }

    fn station(&mut self, raw: raw::RawStation) -> StationSettings {
        let name = raw.name.to_ascii_uppercase();
        if name.len() != 4 || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.err(
                "station",
                None,
                "name",
                format!(
                    "{:?}: the site id is 4 letters or digits (it names RINEX files and tags)",
                    raw.name
                ),
            );
        }
        let position = raw.position.map(|p| Vector3::new(p.x, p.y, p.z));
        if let Some(p) = position {
            let r = p.norm();
            if !(6_300_000.0..6_400_000.0).contains(&r) {
                self.err(
                    "station",
                    None,
                    "position",
                    format!(
                        "{r:.0} m from the Earth's centre: expected ECEF X, Y, Z in metres of a point near the surface"
                    ),
                );
            }
        }
        let country = raw
            .country
            .unwrap_or_else(|| "XXX".into())
            .to_ascii_uppercase();
        if country.len() != 3 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            self.err(
                "station",
                None,
                "country",
                "ISO 3166 alpha-3 code such as \"LAO\"",
            );
        }
        StationSettings {
            name,
            position,
            frame: raw.frame.unwrap_or_else(|| "ITRF2014".into()),
            antenna: raw.antenna.unwrap_or_default(),
            receiver: raw.receiver.unwrap_or_default(),
            country,
        }
    }

    fn source(&mut self, i: usize, r: raw::RawSource) -> Option<SourceSettings> {
        let t = "source";
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
        Some(SourceSettings {
            name: r.name.unwrap_or_else(|| format!("{}{}", r.kind, i)),
            kind,
            watchdog,
        })
    }

    fn influx(&mut self, r: raw::RawInflux, data_dir: &Path) -> InfluxSettings {
        let t = "influx";
        let api = match r.api.as_deref().unwrap_or("v2") {
            "v2" => InfluxApi::V2,
            "v1" => InfluxApi::V1,
            other => {
                self.err(
                    t,
                    None,
                    "api",
                    format!(
                        "{other:?}: \"v2\" (InfluxDB 2/3, VictoriaMetrics) or \"v1\" (InfluxDB 1.x)"
                    ),
                );
                InfluxApi::V2
            }
        };
        if !(r.url.starts_with("http://") || r.url.starts_with("https://")) {
            self.err(
                t,
                None,
                "url",
                format!("{:?}: expected http://host:port or https://…", r.url),
            );
        }
        let token = self.secret_file(t, None, "token_file", &r.token_file);
        let password = self.secret_file(t, None, "password_file", &r.password_file);
        if api == InfluxApi::V2 && (r.org.is_none() || r.bucket.is_none()) {
            self.err(
                t,
                None,
                if r.org.is_none() { "org" } else { "bucket" },
                "api = \"v2\" needs org and bucket",
            );
        }
        if api == InfluxApi::V1 && r.db.is_none() {
            self.err(t, None, "db", "api = \"v1\" needs db");
        }
        let max = r.spool_max_bytes.as_deref().unwrap_or("1GiB");
        let spool_max_bytes = parse_bytes(max).unwrap_or_else(|| {
            self.err(
                t,
                None,
                "spool_max_bytes",
                format!("{max:?} is not a size such as \"2GiB\""),
            );
            1 << 30
        });
        let age = r.spool_max_age.as_deref().unwrap_or("30d");
        let spool_max_age = parse_duration(age).unwrap_or_else(|| {
            self.err(
                t,
                None,
                "spool_max_age",
                format!("{age:?} is not a duration such as \"30d\""),
            );
            Duration::from_secs(30 * 86400)
        });
        let iv = r.batch_interval.as_deref().unwrap_or("1s");
        let batch_interval = parse_duration(iv).unwrap_or_else(|| {
            self.err(
                t,
                None,
                "batch_interval",
                format!("{iv:?} is not a duration such as \"1s\""),
            );
            Duration::from_secs(1)
        });
        InfluxSettings {
            url: r.url.trim_end_matches('/').to_string(),
            api,
            org: r.org.unwrap_or_default(),
            bucket: r.bucket.unwrap_or_default(),
            token,
            db: r.db.unwrap_or_default(),
            rp: r.rp,
            user: r.user,
            password,
            spool_dir: r
                .spool_dir
                .map(|d| self.path(&d))
                .unwrap_or_else(|| data_dir.join("spool")),
            spool_max_bytes,
            spool_max_age,
            batch_points: r.batch_points.unwrap_or(5000),
            batch_bytes: r
                .batch_bytes
                .as_deref()
                .and_then(parse_bytes)
                .map(|b| b as usize)
                .unwrap_or(1 << 20),
            batch_interval,
        }
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

/// The line of `key` in table `table` (the `index`-th of an array of tables); the table's header
/// line when the key is absent, 1 when the table is.
fn locate_key(text: &str, table: &str, index: Option<usize>, key: &str) -> usize {
    let mut in_table = table.is_empty();
    let mut seen = 0usize;
    let mut header_line = 1;
    for (n, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            let name = t.trim_matches(['[', ']', ' ']);
            let is_array = t.starts_with("[[");
            in_table = false;
            if name == table {
                match (index, is_array) {
                    (Some(i), true) => {
                        if seen == i {
                            in_table = true;
                            header_line = n + 1;
                        }
                        seen += 1;
                    }
                    (None, false) => {
                        in_table = true;
                        header_line = n + 1;
                    }
                    _ => {}
                }
            }
            continue;
        }
        if in_table
            && let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return n + 1;
        }
    }
    header_line
}

/// The demo station's settings (`corsd run` without a configuration).
pub fn demo(data_dir: PathBuf) -> Settings {
    let data_dir_archive = data_dir.join("archive");
    let position = crate::simulate::SimConfig::default().position;
    Settings {
        station: StationSettings {
            name: "VTE1".into(),
            position: Some(position),
            frame: "ITRF2014".into(),
            antenna: "CHCC220GR2      CHCD".into(),
            receiver: "CORSD SIMULATOR".into(),
            country: "LAO".into(),
        },
        series_dir: data_dir.join("series"),
        data_dir,
        sources: vec![SourceSettings {
            name: "demo".into(),
            kind: SourceKind::Simulate { seed: 1, msm: 4 },
            watchdog: Duration::from_secs(10),
        }],
        influx: None,
        health_listen: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
        archive: Some(ArchiveSettings {
            dir: data_dir_archive,
            retention_days: 7,
            min_free_bytes: 256 << 20,
            rinex: true,
        }),
        casters: vec![CasterConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 2101)),
            max_per_ip: 100,
            mounts: vec![
                MountConfig {
                    name: "VTE1".into(),
                    format: crate::sinks::feed::Format::Rtcm3(Vec::new()),
                    users: Vec::new(),
                    relay_user: None,
                },
                // RTCM 2.3 DGNSS for GIS handhelds.
                MountConfig {
                    name: "VTE1_RTCM2".into(),
                    format: crate::sinks::feed::Format::Rtcm2 { station_id: 1 },
                    users: Vec::new(),
                    relay_user: None,
                },
            ],
            credentials: Default::default(),
        }],
        pushes: Vec::new(),
        outputs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
data_dir = "/tmp/corsd-test"

[station]
name = "vte1"
position = { x = -1327313.145, y = 5921985.503, z = 1955881.955 }
country = "LAO"

[[source]]
kind = "ntrip"
name = "upstream"
url = "ntrip://127.0.0.1:2101/VTE1"
version = 1
gga = "auto"

[[source]]
kind = "tcp"
address = "receiver.local:5017"
watchdog = "5s"
"#;

    fn parse_str(s: &str) -> Result<Settings, ConfigError> {
        parse(s, "corsd.toml", Path::new("/etc/corsd"))
    }

    #[test]
    fn good_config() {
        let s = parse_str(GOOD).unwrap();
        assert_eq!(s.station.name, "VTE1");
        assert_eq!(s.sources.len(), 2);
        let SourceKind::Ntrip(n) = &s.sources[0].kind else {
            panic!()
        };
        assert_eq!(
            (n.host.as_str(), n.port, n.mountpoint.as_str(), n.version),
            ("127.0.0.1", 2101, "VTE1", 1)
        );
        assert_eq!(n.gga, Some(Duration::from_secs(10)));
        assert_eq!(s.sources[1].watchdog, Duration::from_secs(5));
        assert_eq!(s.sources[1].name, "tcp1");
        assert_eq!(s.series_dir, PathBuf::from("/tmp/corsd-test/series"));
    }

    #[test]
    fn unknown_key_named_with_its_line() {
        let bad = GOOD.replace("watchdog = \"5s\"", "watchdog = \"5s\"\nbaudrate = 9600");
        let e = parse_str(&bad).unwrap_err();
        assert_eq!(e.key, "baudrate", "{e}");
        assert_eq!(e.line, 20, "{e}");
        assert!(
            e.to_string()
                .starts_with("corsd.toml:20: baudrate: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_named() {
        let bad = GOOD.replace("watchdog = \"5s\"", "watchdog = \"soon\"");
        let e = parse_str(&bad).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("source[1].watchdog", 19), "{e}");
        let bad = GOOD.replace("x = -1327313.145", "x = -1327.145");
        let e = parse_str(&bad).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("station.position", 6), "{e}");
        let bad = GOOD.replace("ntrip://127.0.0.1:2101/VTE1", "127.0.0.1:2101");
        let e = parse_str(&bad).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("source[0].url", 12), "{e}");
        let bad = GOOD.replace("version = 1", "version = \"one\"");
        let e = parse_str(&bad).unwrap_err();
        assert_eq!(e.line, 13, "{e}");
        assert!(e.message.contains("invalid type"), "{e}");
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let dir = std::env::temp_dir().join(format!("corsd-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pw"), "hunter2\n").unwrap();
        let text = GOOD.replace(
            "gga = \"auto\"",
            "gga = \"auto\"\nuser = \"crew\"\npassword_file = \"pw\"",
        );
        let s = parse(&text, "c.toml", &dir).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let SourceKind::Ntrip(n) = &s.sources[0].kind else {
            panic!()
        };
        assert_eq!(n.password.as_ref().unwrap().expose(), "hunter2");
        let text = text.replace("password_file = \"pw\"", "password_file = \"missing\"");
        let e = parse(&text, "c.toml", &dir).unwrap_err();
        assert_eq!(e.key, "source[0].password_file");
        assert!(e.message.contains("cannot read"), "{e}");
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_bytes("2GiB"), Some(2 << 30));
        assert_eq!(parse_bytes("200 MB"), Some(200_000_000));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn ntrip_urls() {
        let n = parse_ntrip_url("ntrips://caster.example:443/MOUNT1").unwrap();
        assert!(n.tls);
        assert_eq!(n.port, 443);
        assert_eq!(parse_ntrip_url("ntrip://h/M").unwrap().port, 2101);
        assert!(parse_ntrip_url("ntrip://h:2101/").is_none());
        assert!(parse_ntrip_url("ftp://h/M").is_none());
    }
}
