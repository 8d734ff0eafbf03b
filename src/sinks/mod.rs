//! Where the pipeline's products go: [`influx`] (batched into the durable spool, shipped to
//! InfluxDB v2/v1 or VictoriaMetrics) or, without a database, [`files`] (hourly line-protocol
//! files), [`archive`] (the raw frames in hourly files by GNSS time) and [`rinex`] (RINEX 3.04
//! observation files); [`caster`] serves the corrections, [`push`] sends them to remote casters,
//! [`output`] to TCP clients and radio modems, each through a [`feed`] (its message set, made
//! once), and [`profiles`] checks a message set against what a kind of rover needs.

pub mod archive;
pub mod caster;
pub mod fanout;
pub mod feed;
pub mod files;
pub mod influx;
pub mod output;
pub mod profiles;
pub mod push;
pub mod rinex;
