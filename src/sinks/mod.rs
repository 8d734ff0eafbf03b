//! Consumers of what the station publishes: time [`series`] (batched into the durable spool and
//! shipped to InfluxDB v2/v1 or VictoriaMetrics, or hourly line-protocol files without a
//! database) and the raw [`archive`] (frames in hourly files by GNSS time).

pub mod archive;
pub mod series;
