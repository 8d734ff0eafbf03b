//! `[receiver]`: the receiver behind a source, set up as a base on every connection.

use super::{Validator, raw};
use crate::messages::ubx::cfg::{BaseMode, BaseSetup, LAYER_BBR, LAYER_RAM, Port, Systems};
use crate::sources::receiver::{ReceiverKind, ReceiverSettings};
use crate::sources::{SourceKind, SourceSettings};

const T: &str = "receiver";

impl Validator<'_> {
    /// Validate `[receiver]` and attach it to its source.
    pub(super) fn receiver(&mut self, r: raw::RawReceiver, sources: &mut [SourceSettings]) {
        if r.kind != "ublox-f9" {
            let more = if r.kind.eq_ignore_ascii_case("um980") || r.kind.starts_with("unicore") {
                " (Unicore UM980 set-up is not built yet: set the receiver up by hand and leave [receiver] out)"
            } else {
                ""
            };
            self.err(
                T,
                None,
                "kind",
                format!("{:?}: expected \"ublox-f9\"{more}", r.kind),
            );
            return;
        }
        let writable = |s: &SourceSettings| {
            matches!(s.kind, SourceKind::Serial { .. } | SourceKind::Tcp { .. })
        };
        let index = match &r.source {
            Some(name) => match sources.iter().position(|s| &s.name == name) {
                Some(i) if writable(&sources[i]) => Some(i),
                Some(_) => {
                    self.err(T, None, "source", format!("{name:?} is not a serial or tcp source: corsd can only set up a receiver it can write to"));
                    return;
                }
                None => {
                    self.err(
                        T,
                        None,
                        "source",
                        format!("{name:?}: no [[source]] has this name"),
                    );
                    return;
                }
            },
            None => sources.iter().position(writable),
        };
        let Some(index) = index else {
            self.err(
                T,
                None,
                "kind",
                "no serial or tcp [[source]] to set up: name one with source = \"...\"",
            );
            return;
        };
        let port = match r.port.as_deref() {
            None => Port::Usb,
            Some(p) => Port::parse(p).unwrap_or_else(|| {
                self.err(
                    T,
                    None,
                    "port",
                    format!("{p:?}: the receiver port this link is on, one of USB, UART1, UART2"),
                );
                Port::Usb
            }),
        };
        let rate_ms = r.interval_ms.unwrap_or(1000);
        if !(50..=10_000).contains(&rate_ms) {
            self.err(
                T,
                None,
                "interval_ms",
                format!("{rate_ms}: the measurement interval in ms, 50 to 10000"),
            );
        }
        let mut systems = Systems {
            gps: false,
            glonass: false,
            galileo: false,
            beidou: false,
            qzss: false,
        };
        match &r.systems {
            None => systems = Systems::default(),
            Some(list) => {
                for s in list {
                    match s.to_ascii_uppercase().as_str() {
                        "GPS" => systems.gps = true,
                        "GLONASS" => systems.glonass = true,
                        "GALILEO" => systems.galileo = true,
                        "BEIDOU" => systems.beidou = true,
                        "QZSS" => systems.qzss = true,
                        _ => self.err(
                            T,
                            None,
                            "systems",
                            format!("{s:?}: one of GPS, GLONASS, Galileo, BeiDou, QZSS"),
                        ),
                    }
                }
            }
        }
        let mode = match (r.mode.as_deref(), self.station_position) {
            (Some("fixed") | None, Some(ecef)) => BaseMode::Fixed {
                ecef,
                accuracy_m: r.accuracy_m.unwrap_or(0.02),
            },
            (Some("fixed"), None) => {
                self.err(
                    T,
                    None,
                    "mode",
                    "\"fixed\" needs [station] position (or use \"survey-in\")",
                );
                return;
            }
            (Some("survey-in") | None, _) => BaseMode::SurveyIn {
                min_s: r.survey_min_s.unwrap_or(300),
                accuracy_m: r.accuracy_m.unwrap_or(2.0),
            },
            (Some(m), _) => {
                self.err(
                    T,
                    None,
                    "mode",
                    format!("{m:?}: \"fixed\" (at [station] position) or \"survey-in\""),
                );
                return;
            }
        };
        if r.accuracy_m.is_some_and(|a| !(a > 0.0 && a < 100.0)) {
            self.err(T, None, "accuracy_m", "metres, above 0 and below 100");
        }
        sources[index].receiver = Some(ReceiverSettings {
            kind: ReceiverKind::UbloxF9(BaseSetup {
                port,
                rate_ms,
                systems,
                nmea: r.nmea.unwrap_or(false),
                mode,
                layers: LAYER_RAM | LAYER_BBR,
            }),
        });
    }
}
