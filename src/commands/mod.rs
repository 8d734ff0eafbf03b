//! One module per subcommand; each takes its clap arguments and returns `anyhow::Result`.

pub mod check_config;
pub mod decode;
pub mod influx_args;
pub mod reflect;
pub mod replay;
pub mod report;
pub mod rtk;
pub mod run;
pub mod simulate;
pub mod station_tag;
pub mod survey;
