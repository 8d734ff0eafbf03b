//! `corsd run [-c corsd.toml]`: the daemon. Without a configuration it runs the embedded demo
//! station: the simulator at the live clock, time series to line-protocol files (or InfluxDB
//! with `--influx-url`), health on 127.0.0.1:8080.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::config::{self, InfluxApi, InfluxSettings, Secret};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Without it: the demo station.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Demo only: where the demo keeps its files.
    #[arg(long, value_name = "DIR", default_value = "corsd-demo")]
    pub demo_dir: PathBuf,
    /// Demo only: write the time series to this InfluxDB (v2 API, or v1 with --influx-api v1).
    #[arg(long, value_name = "URL")]
    pub influx_url: Option<String>,
    #[arg(long, value_name = "v2|v1", default_value = "v2")]
    pub influx_api: String,
    #[arg(long, default_value = "corsd")]
    pub influx_org: String,
    #[arg(long, default_value = "cors")]
    pub influx_bucket: String,
    /// InfluxDB 1.x database.
    #[arg(long, default_value = "cors")]
    pub influx_db: String,
    #[arg(long, value_name = "FILE")]
    pub influx_token_file: Option<PathBuf>,
    /// Health endpoint address (overrides the configuration).
    #[arg(long, value_name = "ADDR:PORT")]
    pub health: Option<std::net::SocketAddr>,
}

/// Build the settings: from the file, or the demo.
pub fn settings(args: &RunArgs) -> Result<config::Settings, config::ConfigError> {
    let mut s = match &args.config {
        Some(p) => config::load(p)?,
        None => {
            let mut s = config::demo(args.demo_dir.clone());
            if let Some(url) = &args.influx_url {
                let token = match &args.influx_token_file {
                    Some(f) => Some(Secret::new(
                        std::fs::read_to_string(f)
                            .map_err(|e| config::ConfigError {
                                file: f.display().to_string(),
                                line: 0,
                                key: "--influx-token-file".into(),
                                message: e.to_string(),
                            })?
                            .trim(),
                    )),
                    None => None,
                };
                s.influx = Some(InfluxSettings {
                    url: url.trim_end_matches('/').to_string(),
                    api: if args.influx_api == "v1" {
                        InfluxApi::V1
                    } else {
                        InfluxApi::V2
                    },
                    org: args.influx_org.clone(),
                    bucket: args.influx_bucket.clone(),
                    token,
                    db: args.influx_db.clone(),
                    rp: None,
                    user: None,
                    password: None,
                    spool_dir: args.demo_dir.join("spool"),
                    spool_max_bytes: 256 << 20,
                    spool_max_age: std::time::Duration::from_secs(7 * 86400),
                    batch_points: 5000,
                    batch_bytes: 1 << 20,
                    batch_interval: std::time::Duration::from_secs(1),
                });
            }
            s
        }
    };
    if let Some(h) = args.health {
        s.health_listen = Some(h);
    }
    Ok(s)
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    let settings = settings(args)?;
    let demo = args.config.is_none();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    rt.block_on(async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let series = settings.series_dir.clone();
        let influx = settings.influx.as_ref().map(|i| i.url.clone());
        let station = settings.station.name.clone();
        let daemon = tokio::spawn(crate::app::run(settings, shutdown_signal(), Some(tx)));
        if let Ok(bound) = rx.await {
            if demo {
                eprintln!("corsd: demo station {station} (simulated receiver in Vientiane, live clock)");
            } else {
                eprintln!("corsd: station {station} running");
            }
            match influx {
                Some(u) => eprintln!("  time series  → {u}"),
                None => eprintln!("  time series  → {}/series-YYYYMMDD-HH.lp", series.display()),
            }
            if let Some(h) = bound.health {
                eprintln!("  health       → http://{h}/healthz   metrics → http://{h}/metrics");
            }
            eprintln!("  stop with Ctrl-C (or SIGTERM)");
        }
        daemon.await.context("the daemon task failed")?
    })
}
