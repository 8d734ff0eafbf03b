//! One module per subcommand; each takes its clap arguments and returns `anyhow::Result`.

pub mod decode;
pub mod replay;
pub mod simulate;
