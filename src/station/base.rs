//! The RTCM3 a base station sends, made from a receiver that does not speak RTCM3 (a u-blox
//! receiver's RXM-RAWX epochs): MSM7 observations of every epoch, and every
//! [`STATION_EVERY_S`] of data time the station messages the receiver cannot know — 1006
//! (the surveyed position from `[station]`), 1033 (antenna and receiver names from
//! `[station]`) and 1230 (GLONASS code–phase biases, announced as not aligned: nothing says
//! what the receiver does). The caster's message sets make MSM4, 1004 and 1012 from the MSM7
//! as they do for an RTCM3 receiver, so a rover cannot tell the two apart.

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::obs::Epoch;
use crate::gnss::time::Gpst;
use crate::messages::rtcm3::obs_msm::{MsmEncodeStats, MsmEncoder};
use crate::messages::rtcm3::station::{GloBiases, ReceiverDescriptor, StationArp, Text};

/// Station messages are sent this often (s of data time).
pub const STATION_EVERY_S: f64 = 10.0;
/// The MSM the observations are sent as (the most detailed: every other is made from it).
pub const MADE_MSM: u8 = 7;

/// What the base says about itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BaseFacts {
    /// RTCM reference station ID (DF003).
    pub station_id: u16,
    /// Antenna reference point, ECEF (m).
    pub position: Option<Vector3<f64>>,
    pub antenna: String,
    pub receiver: String,
}

/// Makes one station's RTCM3 from its epochs.
#[derive(Debug)]
pub struct RtcmBase {
    facts: BaseFacts,
    msm: MsmEncoder,
    station_sent: Option<Gpst>,
}

impl RtcmBase {
    pub fn new(facts: BaseFacts) -> Self {
        RtcmBase {
            msm: MsmEncoder::new(facts.station_id),
            facts,
            station_sent: None,
        }
    }

    pub fn stats(&self) -> &MsmEncodeStats {
        &self.msm.stats
    }

    /// The payloads to send for one epoch, in order: station messages when due, then the MSMs
    /// (the last with its multiple-message bit clear).
    pub fn epoch(&mut self, e: &Epoch) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let due = self.station_sent.is_none_or(|t| {
            let dt = e.time.diff(t);
            // Time going back: a new stream (a looped recording), start over.
            !(0.0..STATION_EVERY_S - 1e-3).contains(&dt)
        });
        if due {
            if self.station_sent.is_some_and(|t| e.time.diff(t) < 0.0) {
                self.msm.reset();
            }
            self.station_sent = Some(e.time);
            self.station_messages(e, &mut out);
        }
        out.extend(self.msm.encode(e, MADE_MSM).iter().map(|m| m.encode()));
        out
    }

    fn station_messages(&self, e: &Epoch, out: &mut Vec<Vec<u8>>) {
        let f = &self.facts;
        let has = |sys: Gnss| e.sats.iter().any(|s| s.sys == sys);
        if let Some(p) = f.position {
            out.push(
                StationArp {
                    number: 1006,
                    station: f.station_id,
                    itrf_year: 0,
                    gps: has(Gnss::Gps),
                    glonass: has(Gnss::Glonass),
                    galileo: has(Gnss::Galileo),
                    non_physical: false,
                    x_m: p.x,
                    single_oscillator: true,
                    reserved: false,
                    y_m: p.y,
                    quarter_cycle: 0,
                    z_m: p.z,
                    // `[station] position` is the antenna reference point.
                    antenna_height_m: Some(0.0),
                }
                .encode(),
            );
        }
        out.push(
            ReceiverDescriptor {
                station: f.station_id,
                antenna: Text(f.antenna.as_bytes().to_vec()),
                antenna_setup_id: 0,
                antenna_serial: Text(Vec::new()),
                receiver: Text(f.receiver.as_bytes().to_vec()),
                firmware: Text(Vec::new()),
                receiver_serial: Text(Vec::new()),
            }
            .encode(),
        );
        if has(Gnss::Glonass) {
            out.push(
                GloBiases {
                    station: f.station_id,
                    aligned: false,
                    reserved: 0,
                    l1_ca_m: None,
                    l1_p_m: None,
                    l2_ca_m: None,
                    l2_p_m: None,
                    invalid_mask: 0,
                }
                .encode(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::obs::{SatObs, SignalCode, SignalObs};
    use crate::messages::rtcm3::{self, Message};

    fn epoch(t: Gpst) -> Epoch {
        let sig = |code: &str, f: f64| SignalObs {
            code: SignalCode::new(code).unwrap(),
            freq_hz: Some(f),
            pseudorange_m: Some(2.2e7),
            phase_cycles: Some(2.2e7 * f / crate::gnss::orbit::C),
            doppler_hz: Some(100.0),
            cn0_dbhz: Some(40.0),
            lock_s: Some(5.0),
            slip: false,
            half_cycle: false,
        };
        Epoch {
            time: t,
            sats: vec![
                SatObs {
                    sys: Gnss::Gps,
                    prn: 3,
                    signals: vec![sig("1C", 1_575.42e6)],
                },
                SatObs {
                    sys: Gnss::Glonass,
                    prn: 4,
                    signals: vec![sig("1C", 1_602e6 + 2.0 * 0.5625e6)],
                },
            ],
        }
    }

    #[test]
    fn station_messages_every_ten_seconds_then_msm7() {
        let mut b = RtcmBase::new(BaseFacts {
            station_id: 12,
            position: Some(Vector3::new(-1.0e6, 6.0e6, 1.5e6)),
            antenna: "TRM57971.00     NONE".into(),
            receiver: "U-BLOX ZED-F9P".into(),
        });
        let t = Gpst::from_week_tow(2300, 500.0);
        let numbers = |p: &[Vec<u8>]| -> Vec<u16> {
            p.iter().filter_map(|p| rtcm3::message_number(p)).collect()
        };
        let first = b.epoch(&epoch(t));
        assert_eq!(numbers(&first), [1006, 1033, 1230, 1077, 1087]);
        assert_eq!(numbers(&b.epoch(&epoch(t.add(1.0)))), [1077, 1087]);
        assert_eq!(
            numbers(&b.epoch(&epoch(t.add(10.0)))),
            [1006, 1033, 1230, 1077, 1087]
        );
        let Ok(Message::Msm(glo)) = rtcm3::decode(&first[4]) else {
            panic!("no GLONASS MSM7");
        };
        assert!(!glo.multiple);
        assert_eq!(glo.sats[0].ext_info, Some(9));
        assert_eq!(glo.station, 12);
        let Ok(Message::Receiver(r)) = rtcm3::decode(&first[1]) else {
            panic!("no 1033");
        };
        assert_eq!(r.receiver.as_str_lossy(), "U-BLOX ZED-F9P");
    }
}
