//! Consumers of what the station publishes: time [`series`] (batched into the durable spool and
//! shipped to InfluxDB v2/v1 or VictoriaMetrics, or hourly line-protocol files without a
//! database), the raw [`archive`] (frames in hourly files by GNSS time), hourly RINEX
//! observation files ([`rinex_obs`]) and RTKLIB `.pos` solutions ([`pos`]).

pub mod archive;
pub mod pos;
pub mod rinex_obs;
pub mod series;
