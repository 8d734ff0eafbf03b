//! `corsd check-config -c FILE`: validate a configuration without starting anything.

use std::path::PathBuf;

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// Configuration file (TOML).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
}

pub fn run(args: &CheckConfigArgs) -> Result<()> {
    let s = crate::config::load(&args.config)?;
    let reflection = match &s.reflection {
        None => String::new(),
        Some(r) => format!(
            "; reflector heights daily at GPS hour(s) {:?}, elevation {}–{}°, RH {}–{} m, {} sector(s)",
            r.hours,
            r.analysis.elev.0,
            r.analysis.elev.1,
            r.analysis.rh.0,
            r.analysis.rh.1,
            r.sectors.len() - 1
        ),
    };
    println!(
        "{}: ok — station {}, {} source(s): {}; time series to {}{reflection}",
        args.config.display(),
        s.station.name,
        s.sources.len(),
        s.sources
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        match &s.influx {
            Some(i) => i.url.clone(),
            None => s.series_dir.display().to_string(),
        }
    );
    Ok(())
}
