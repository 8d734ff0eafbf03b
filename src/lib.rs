//! corsd — the data processor of a BeiDou/GNSS continuously operating reference station.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`framing`] | the resynchronising demultiplexer: finds RTCM3, NMEA and UBX frames in a byte stream, checks CRC-24Q / XOR / Fletcher checksums, counts discarded bytes and bad frames |
//! | [`messages`] | [`messages::bits`]: nom bit parsers and the data-field table type; [`messages::rtcm3`]: typed SI-unit structs for every decoded RTCM3 message, each with its encoder; [`messages::nmea`]: NMEA 0183/4.11 sentences and the merged sky view |
//! | [`gnss`] | systems, time scales (GPST/BDT/GST/GLONASST/UTC), geodesy, broadcast orbits and clocks (Kepler with BeiDou GEO rotation, GLONASS RK4), atmosphere models, the ephemeris store, observation epochs, RINEX 3 reading (plain, gzipped, Hatanaka CRINEX 3.0 expanded by corsd's own decoder), station state from a decoded stream (epoch assembly, time resolution), single point positioning (weighted least squares, RAIM, carrier smoothing), Doppler velocity, per-signal pseudorange/range-rate corrections and code multipath, and the observation QC summary (epochs expected/received, gaps, completeness per signal, slips) |
//! | [`convert`] | one output's message set over the station stream ([`convert::Transcoder`]: passthrough by data-time interval, MSM5–7 → MSM4 and MSM4–7 → 1004/1012 for older rovers, epoch grouping) and RTCM 2.3 DGNSS corrections (types 1, 3, 31) for GIS handhelds |
//! | [`pipeline`] | one source's station pipeline as a synchronous value: bytes → frames (raw fan-out) → messages → epochs → solutions → time-series points, shared by the daemon and `replay` |
//! | [`telemetry`] | time-series points (DESIGN §4) and their line-protocol encoding; GNSS time → UTC ns |
//! | [`config`] | the TOML configuration: raw serde structs (unknown keys refused, secrets from files) validated into settings, errors with file, line and key; the demo station |
//! | [`sources`] | source tasks: serial, TCP client/server, NTRIP v1/v2 client (chunked, GGA, TLS), UDP, file (paced by data time), stdin, simulator; state machine, watchdog, backoff, health snapshot |
//! | [`sinks`] | InfluxDB v2/v1 through the spool (batching, status-class retries, rejected batches set aside), line-protocol files, raw archive by GNSS hour, RINEX 3.04 observation files, feeds (an output's message set or RTCM 2.3, made once and shared), the embedded NTRIP caster (v1/v2, sourcetable, Basic auth, relay mounts fed by SOURCE/POST, request and per-address limits) writing through a non-blocking fan-out in blocks that every core takes from, pushes to remote casters (v1 SOURCE, v2 POST), TCP-server and serial outputs, and rover profiles (`f9p`) |
//! | [`spool`] | the durable on-disk queue: checksummed append-only segments, ack cursor, crash recovery, byte/age caps |
//! | [`backoff`] | jittered exponential backoff |
//! | [`app`] | the daemon: wiring, shutdown broadcast, `/healthz` `/metrics` `/status.json` and the live status page at `/` (`status_page.html`), systemd notify and watchdog |
//! | [`report`] | the station QC report: a collector of epochs and solutions (sampled, binned) and the self-contained HTML with plotters SVG plots (offsets, sky per GNSS with BeiDou GEO/IGSO/MEO, C/N0 against elevation, satellites and PDOP, completeness and gaps, slips, multipath) |
//! | [`simulate`] | the seeded station simulator: built-in five-GNSS sky, observation model, RTCM3 composition |
//! | [`commands`] | one module per subcommand (`run`, `check-config`, `decode`, `replay`, `report`, `simulate`) |
//! | [`cli`] | the command line (clap), logging and exit codes |
//!
//! `main.rs` is thin: it calls [`cli::main`].

pub mod app;
pub mod backoff;
pub mod cli;
pub mod commands;
pub mod config;
pub mod feeds;
pub mod framing;
pub mod gnss;
pub mod messages;
pub mod ntrip;
pub mod report;
pub mod rinex;
pub mod secret;
pub mod simulate;
pub mod sinks;
pub mod sources;
pub mod spool;
pub mod station;
pub mod telemetry;
