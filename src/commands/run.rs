//! `corsd run [-c corsd.toml]`: the daemon. Without a configuration it runs the embedded demo
//! station: the simulator at the live clock, time series to line-protocol files (or InfluxDB
//! with `--influx-url`), health on 127.0.0.1:8080.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use super::influx_args::InfluxArgs;
use crate::config;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Without it: the demo station.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Demo only: where the demo keeps its files.
    #[arg(long, value_name = "DIR", default_value = "corsd-demo")]
    pub demo_dir: PathBuf,
    /// Demo only: the time series to InfluxDB instead of files.
    #[command(flatten)]
    pub influx: InfluxArgs,
    /// Demo only: where the demo's NTRIP caster listens.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:2101")]
    pub caster: std::net::SocketAddr,
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
            s.influx = args.influx.settings(args.demo_dir.join("spool"))?;
            for c in &mut s.casters {
                c.listen = args.caster;
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

/// What ended a run of the daemon.
enum Stop {
    Terminate,
    Reload,
}

/// The daemon's worker threads: one per core, at least two (a source and the fan-out to many
/// clients must not wait for each other), at most eight (beyond that a station gains nothing).
fn worker_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
}

/// glibc gives each thread that allocates its own heap arena (up to 8 per core), each holding on to
/// freed memory: on a small station computer that is megabytes of resident memory for a daemon
/// that allocates a few kB per second, and one arena serves it (with a check receiver, 1.2 MB less
/// resident memory). An operator's own `MALLOC_ARENA_MAX` wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called before the runtime
        // starts any thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

pub fn run(args: &RunArgs) -> Result<()> {
    limit_malloc_arenas();
    let mut settings = settings(args)?;
    let demo = args.config.is_none();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    rt.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
        let mut first = true;
        loop {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<Stop>();
            let describe = (
                settings.series_dir.clone(),
                settings.influx.as_ref().map(|i| i.url.clone()),
                settings.station.name.clone(),
                settings.archive.as_ref().map(|a| a.dir.clone()),
            );
            // After a reload the previous run's listeners may take a moment to close.
            let patience = if first {
                Duration::ZERO
            } else {
                Duration::from_secs(5)
            };
            let mut daemon = tokio::spawn(crate::app::run(
                settings.clone(),
                async move {
                    let _ = stop_rx.await;
                },
                Some(tx),
                patience,
            ));
            let Ok(bound) = rx.await else {
                // The daemon ended before every part started: its error says which part and why.
                daemon.await.context("the daemon task failed")??;
                anyhow::bail!("the daemon stopped while starting");
            };
            if first {
                let (series, influx, station, archive) = describe;
                if demo {
                    eprintln!("corsd: demo station {station} (simulated receiver in Vientiane, live clock)");
                } else {
                    eprintln!("corsd: station {station} running");
                }
                match influx {
                    Some(u) => eprintln!("  time series  → {u}"),
                    None => eprintln!("  time series  → {}/series-YYYYMMDD-HH.lp", series.display()),
                }
                if let Some(a) = archive {
                    eprintln!("  raw archive  → {}/{station}/YYYY/DDD/", a.display());
                }
                for c in &bound.casters {
                    eprintln!("  NTRIP caster → ntrip://{c}/ (v1 and v2; sourcetable at /)");
                }
                if let Some(h) = bound.health {
                    eprintln!("  health       → http://{h}/healthz   metrics → http://{h}/metrics");
                }
                eprintln!("  stop with Ctrl-C (or SIGTERM); SIGHUP reloads the configuration");
            }
            first = false;
            let why = tokio::select! {
                _ = shutdown_signal() => Stop::Terminate,
                _ = hup.recv() => Stop::Reload,
                r = &mut daemon => {
                    r.context("the daemon task failed")??;
                    anyhow::bail!("the daemon stopped on its own");
                }
            };
            let reload = matches!(why, Stop::Reload);
            let _ = stop_tx.send(why);
            daemon.await.context("the daemon task failed")??;
            if !reload {
                return Ok(());
            }
            match &args.config {
                Some(path) => match config::load(path) {
                    Ok(mut s) => {
                        if let Some(h) = args.health {
                            s.health_listen = Some(h);
                        }
                        tracing::info!(config = %path.display(), "configuration reloaded");
                        settings = s;
                    }
                    Err(e) => tracing::error!(error = %e, "the new configuration is invalid; running on with the previous one"),
                },
                None => tracing::info!("SIGHUP: the demo has no configuration file; restarting it"),
            }
        }
    })
}
