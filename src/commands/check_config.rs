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
    println!(
        "{}: ok — station {}, {} source(s): {}; time series to {}",
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
