//! Configuration (DESIGN §3) in two stages: [`raw`] is what the TOML file says (serde,
//! unknown keys refused, secrets wrapped); the validator turns it into [`Settings`], a list of
//! each part's own settings type (defined beside the part: arrows go down only). One file per
//! part of the file: [`station`], [`sources`], [`receiver`], [`series`] (`[influx]`), [`feeds`] (`[[caster]]`,
//! `[[push]]`, `[[output]]`), [`monitor`] (`[[monitor]]`), [`coordinates`] (`[coordinates]`), [`reflection`] (`[reflection]`); [`demo`] is the station `corsd run` starts without a file. Every
//! error names the file, the line and the key, and says what is expected; nothing starts before
//! the whole file is valid.

mod coordinates;
pub mod demo;
mod feeds;
mod monitor;
pub mod raw;
mod receiver;
mod reflection;
mod series;
mod sources;
mod station;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nalgebra::Vector3;

use crate::feeds::caster::CasterConfig;
use crate::feeds::output::OutputSettings;
use crate::feeds::push::PushSettings;
use crate::secret::Secret;
use crate::sinks::archive::ArchiveSettings;
use crate::sinks::series::influx::InfluxSettings;
use crate::sources::SourceSettings;
use crate::station::StationSettings;
use crate::station::monitor::MonitorSettings;
use crate::station::reflection::ReflectionSettings;
use crate::station::survey::daily::DailySettings;
use raw::RawConfig;

pub use demo::demo;
pub use sources::parse_ntrip_url;

/// A configuration error, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
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
    pub pushes: Vec<PushSettings>,
    pub outputs: Vec<OutputSettings>,
    pub monitors: Vec<MonitorSettings>,
    /// `[coordinates]`: the daily PPP survey of the archived days.
    pub coordinates: Option<DailySettings>,
    /// `[reflection]`: off without the table.
    pub reflection: Option<ReflectionSettings>,
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
        station_antenna_height: None,
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
    station_antenna_height: Option<f64>,
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
    pub(super) fn err(
        &mut self,
        table: &str,
        index: Option<usize>,
        key: &str,
        message: impl Into<String>,
    ) {
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

    pub(super) fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// A secret from a file (first line, trimmed): the file must exist and be readable.
    pub(super) fn secret_file(
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
        let antenna_height = raw.station.antenna_height;
        let station = self.station(raw.station);
        self.station_antenna_height = antenna_height;
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
        if let Some(r) = raw.receiver {
            self.receiver(r, &mut sources);
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
        let casters: Vec<CasterConfig> = raw
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
        let monitors = self.monitors(raw.monitor, &station, &casters, &sources);
        let coordinates = raw
            .coordinates
            .map(|c| self.coordinates(c, &data_dir, station.atx.as_ref(), archive.is_some()));
        let reflection = raw.reflection.map(|r| self.reflection(r));
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
            monitors,
            coordinates,
            reflection,
        }
    }
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
                // `[monitor.source]` is a plain table, one inside each `[[monitor]]`.
                let nested = table.contains('.');
                match (index, is_array || nested) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SourceKind;

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
