//! corsd — the data processor of a BeiDou/GNSS continuously operating reference station.
//!
//! # Layout
//!
//! One source's bytes flow: [`sources`] → [`station`] (runner → [`framing`] → [`messages`] →
//! state → [`gnss`] engines) → broadcasts → [`sinks`] and [`feeds`]. Modules are listed top down;
//! each uses only modules below its own layer (`tests/layout.rs` holds the order), and
//! `sources`, `sinks` and `feeds` never use each other.
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the command line (clap), logging and exit codes; `main.rs` only calls [`cli::main`] |
//! | [`commands`] | one module per subcommand (`run`, `check-config`, `decode`, `replay`, `rtk`, `survey`, `reflect`, `report`, `simulate`); `anyhow` lives here and in `app` only |
//! | [`app`] | the daemon, the only place that wires parts: the start-up check (every port bound, every directory written, every serial device found before anything starts), then `run()` starts the series sink, archive, casters, pushes, outputs and one station runner per source and joins them at shutdown; the health of every part that can fail in `/healthz`, `/metrics`, `/status.json`, the last hour and day in bounded rings, the daily reflector heights (`/history.json`) and the live status page; systemd notify and watchdog; the daily coordinate survey on a low-priority thread |
//! | [`config`] | the TOML configuration: raw serde structs (unknown keys refused, secrets from files) validated into each part's own settings type, errors with file, line and key; the demo station |
//! | [`station`] | one source's data flow: the runner (reads a source, publishes raw frames, epochs and code corrections on broadcasts and points to the sink, outage events, the health snapshot), the pipeline (framer → decode (RTCM3, or a u-blox receiver's RAWX/SFRBX) → station state → SPP, corrections), the RTCM3 a base sends made from a raw receiver's epochs (MSM7, 1006, 1033, 1230), the time series of DESIGN §4 (with the receiver's own health), and the stream state (epoch assembly, time resolution, ephemerides); shared by the daemon and `replay`; reflectometry in the daemon (`[reflection]`: the C/N0 of low satellites kept per epoch, each day analysed on a blocking thread into `reflection` points); the integrity monitor (a check receiver solved in RTK against what a caster mount serves); the static PPP survey of recorded observations (`corsd survey`'s inputs and run; recordings read whole, or epoch by epoch after a first pass for `rtk`) and the daily coordinate monitoring of archived days (products found in a directory, broadcast fallback, thresholds, the record of surveyed days) |
//! | [`sources`] | bytes and link events only, one file per kind: serial, TCP client/server, NTRIP v1/v2 client (chunked, GGA, TLS), UDP, file, stdin, simulator; the state machine, no-data watchdog and backoff; setting a u-blox F9 receiver up as a base on connect (CFG-VALSET, ACK/NAK) |
//! | [`sinks`] | consumers of the station's products: time series to InfluxDB v2/v1 through the spool or to line-protocol files, the raw archive by GNSS hour, hourly RINEX 3.04 observation files, RTKLIB `.pos` |
//! | [`feeds`] | corrections for rovers, each output's stream made once and shared: message sets, the transcoder (MSM5–7 → MSM4, MSM → 1004/1012), RTCM 2.3 encoded from the station's corrections, the embedded NTRIP caster (v1/v2, relay mounts, limits, fan-out), pushes to remote casters, TCP/serial outputs, rover profiles |
//! | [`ntrip`] | NTRIP as client, caster and push share it: requests, answers, one chunked decoder, Basic auth with one base64, the sourcetable, the GGA sentence |
//! | [`rinex`] | RINEX 3 reading (plain, gzipped or Unix-compressed `.Z` by corsd's own LZW expander, Hatanaka CRINEX expanded by corsd's own decoder) and RINEX 3.04 observation and navigation writing |
//! | [`report`] | the station QC report: a collector of epochs and solutions (sampled, binned; reflector heights of the span) and the self-contained HTML with plotters SVG charts |
//! | [`simulate`] | the seeded station simulator: built-in five-GNSS sky, observation model (optionally a ground reflection of known height in the C/N0), RTCM3 composition; a rover walking a forest plot near the station (canopy blockage, C/N0-driven noise and slips) with its truth; precise products (SP3, clocks, ANTEX) of its own satellites for PPP |
//! | [`spool`] | the durable on-disk queue: checksummed append-only segments, ack cursor, crash recovery, byte/age caps |
//! | [`telemetry`] | time-series points (DESIGN §4) and their line-protocol encoding; GNSS time → UTC ns; a part's present and last problem, shared by the sinks and feeds that report to `/healthz` |
//! | [`messages`] | [`messages::bits`]: nom bit parsers and the data-field table type; [`messages::rtcm3`]: typed SI-unit structs for every decoded RTCM3 message, each with its encoder, and observation epochs as MSM4–7; [`messages::nmea`]: NMEA 0183/4.11 sentences and the merged sky view; [`messages::ubx`]: u-blox UBX (RXM-RAWX/SFRBX, NAV-PVT/STATUS/SAT/SIG, MON-RF/HW) as little-endian field tables with encoders, CFG-VALSET of a base's keys, and one receiver's stream as observation epochs (slip flags from lock times) and ephemerides; [`messages::navmsg`]: the broadcast navigation messages raw receivers pass on (GPS/QZSS LNAV, Galileo I/NAV, BeiDou D1/D2, GLONASS strings) with their parity, CRC-24Q, BCH and Hamming checks, assembled per issue of data into ephemerides |
//! | [`framing`] | the resynchronising demultiplexer: RTCM3, NMEA and UBX frames in a byte stream, CRC-24Q / XOR / Fletcher checksums, discarded bytes and bad frames counted; the raw frame the station publishes and the one RTCM3 header read (message number, multiple-message bit); uses nothing of the crate |
//! | [`gnss`] | vocabulary: systems, time scales (GPST/BDT/GST/GLONASST/UTC), signals and carrier frequencies, observations, geodesy, the ephemeris store; engines: broadcast orbits and clocks (Kepler with BeiDou GEO rotation, GLONASS RK4), atmosphere, carrier smoothing, single point positioning (weighted least squares, RAIM), Doppler velocity, per-signal corrections and multipath, observation QC, carrier-phase RTK (double differences in an information filter, LAMBDA with ratio and residual checks, ANTEX phase centres, tide, wind-up); precise products (SP3 orbits, RINEX clocks) and reference-frame (Helmert) transformations; precise point positioning (ionosphere-free float PPP on those products, zenith wet delay with Niell mapping); GNSS interferometric reflectometry (reflector heights from the C/N0 of low satellites, gnssrefl's method; a stream's C/N0 kept compactly for it); uses nothing of the crate |
//! | [`backoff`] | jittered exponential backoff |
//! | [`secret`] | passwords and tokens, never in logs or `Debug` output |

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
