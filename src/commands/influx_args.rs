//! The `--influx-*` options shared by `run` (demo) and `replay`.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::ConfigError;
use crate::secret::Secret;
use crate::sinks::series::influx::{InfluxApi, InfluxSettings};

#[derive(Debug, Clone, clap::Args)]
pub struct InfluxArgs {
    /// Write the time series to this InfluxDB-compatible server (http://host:port).
    #[arg(long, value_name = "URL")]
    pub influx_url: Option<String>,
    /// Write API: v2 (/api/v2/write: InfluxDB 2/3, VictoriaMetrics) or v1 (/write: InfluxDB 1.x).
    #[arg(long, value_name = "v2|v1", default_value = "v2", value_parser = ["v2", "v1"])]
    pub influx_api: String,
    /// v2 organisation.
    #[arg(long, value_name = "O", default_value = "corsd")]
    pub influx_org: String,
    /// v2 bucket.
    #[arg(long, value_name = "B", default_value = "cors")]
    pub influx_bucket: String,
    /// v1 database (InfluxDB 1.x).
    #[arg(long, value_name = "DB", default_value = "cors")]
    pub influx_db: String,
    /// File holding the v2 token (never given on the command line, where `ps` would show it).
    #[arg(long, value_name = "FILE")]
    pub influx_token_file: Option<PathBuf>,
    /// Spool directory (the data waits here while the database is unreachable).
    #[arg(long, value_name = "DIR")]
    pub spool_dir: Option<PathBuf>,
}

impl InfluxArgs {
    /// The sink settings, when `--influx-url` is given.
    pub fn settings(&self, default_spool: PathBuf) -> Result<Option<InfluxSettings>, ConfigError> {
        let Some(url) = &self.influx_url else {
            return Ok(None);
        };
        let bad = |key: &str, message: String| ConfigError {
            file: "command line".into(),
            line: 0,
            key: key.into(),
            message,
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(bad(
                "--influx-url",
                format!("{url:?}: expected http://host:port"),
            ));
        }
        let token = match &self.influx_token_file {
            Some(f) => Some(Secret::new(
                std::fs::read_to_string(f)
                    .map_err(|e| {
                        bad(
                            "--influx-token-file",
                            format!("cannot read {}: {e}", f.display()),
                        )
                    })?
                    .trim(),
            )),
            None => None,
        };
        Ok(Some(InfluxSettings {
            url: url.trim_end_matches('/').to_string(),
            api: if self.influx_api == "v1" {
                InfluxApi::V1
            } else {
                InfluxApi::V2
            },
            org: self.influx_org.clone(),
            bucket: self.influx_bucket.clone(),
            token,
            db: self.influx_db.clone(),
            rp: None,
            user: None,
            password: None,
            spool_dir: self.spool_dir.clone().unwrap_or(default_spool),
            spool_max_bytes: 1 << 30,
            spool_max_age: Duration::from_secs(30 * 86400),
            batch_points: 5000,
            batch_bytes: 1 << 20,
            batch_interval: Duration::from_secs(1),
        }))
    }
}
