//! `[influx]` into the InfluxDB sink's settings.

use std::path::Path;
use std::time::Duration;

use super::{Validator, parse_bytes, parse_duration, raw};
use crate::sinks::series::influx::{InfluxApi, InfluxSettings};

impl Validator<'_> {
    pub(super) fn influx(&mut self, r: raw::RawInflux, data_dir: &Path) -> InfluxSettings {
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
