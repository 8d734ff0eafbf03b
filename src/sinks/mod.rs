//! Where the pipeline's products go: [`influx`] (batched into the durable spool, shipped to
//! InfluxDB v2/v1 or VictoriaMetrics) or, without a database, [`files`] (hourly line-protocol
//! files), and [`archive`] (the raw frames in hourly files by GNSS time).

pub mod archive;
pub mod files;
pub mod influx;
