//! The `receiver` measurement: the station hardware's health over time, from what a u-blox
//! receiver says about itself — jamming and AGC per RF front end and the antenna supervisor
//! (MON-RF, or MON-HW from receivers without it), the spoofing detector (NAV-STATUS), and the
//! receiver's own fix (NAV-PVT), with its offset from the surveyed position.
//!
//! One point per stream slot (10 s), tagged `station` and `source` only, carrying the latest
//! value of each message received within the slot: a receiver that stops reporting leaves
//! gaps, never a stale value repeated. Per-front-end fields end in `_rf0` … `_rf3` (u-blox F9:
//! 0 is L1, 1 is L2/L5); the receiver-wide ones take the worst front end.
//!
//! | field | from | meaning |
//! |---|---|---|
//! | `jamming_state` | MON-RF/MON-HW | 0 unknown, 1 OK, 2 warning, 3 critical (worst front end) |
//! | `jam_ind` | MON-RF/MON-HW | continuous-wave jamming indicator 0–255 (largest) |
//! | `ant_status` | MON-RF/MON-HW | 0 init, 1 unknown, 2 OK, 3 short, 4 open (front end 0) |
//! | `ant_power` | MON-RF/MON-HW | 0 off, 1 on, 2 unknown (front end 0) |
//! | `agc_pct_rfN`, `jam_ind_rfN`, `jamming_state_rfN`, `noise_rfN` | MON-RF | per front end |
//! | `spoof_state` | NAV-STATUS | 0 unknown/off, 1 none indicated, 2 indicated, 3 several |
//! | `fix_type`, `fix_ok`, `num_sv` | NAV-PVT | 0 none … 3 3D, 5 time only; gnssFixOK; satellites used |
//! | `lat`, `lon`, `h`, `h_acc_m`, `v_acc_m` | NAV-PVT | the receiver's own fix |
//! | `de`, `dn`, `du` | NAV-PVT | that fix from the surveyed position (m) |

use nalgebra::Vector3;

use crate::gnss::geodesy::{Geodetic, enu};
use crate::messages::ubx::Ubx;
use crate::messages::ubx::mon::{AGC_FULL_SCALE, MonHw, MonRf};
use crate::messages::ubx::nav::{NavPvt, NavStatus};
use crate::telemetry::Point;

/// Front ends reported one by one (u-blox receivers have one or two).
const RF_FIELDS: usize = 4;
const AGC: [&str; RF_FIELDS] = ["agc_pct_rf0", "agc_pct_rf1", "agc_pct_rf2", "agc_pct_rf3"];
const JAM: [&str; RF_FIELDS] = ["jam_ind_rf0", "jam_ind_rf1", "jam_ind_rf2", "jam_ind_rf3"];
const STATE: [&str; RF_FIELDS] = [
    "jamming_state_rf0",
    "jamming_state_rf1",
    "jamming_state_rf2",
    "jamming_state_rf3",
];
const NOISE: [&str; RF_FIELDS] = ["noise_rf0", "noise_rf1", "noise_rf2", "noise_rf3"];

/// The latest of each health message within the current slot.
#[derive(Debug, Default)]
pub struct ReceiverHealth {
    rf: Option<MonRf>,
    hw: Option<MonHw>,
    pvt: Option<NavPvt>,
    status: Option<NavStatus>,
}

impl ReceiverHealth {
    /// Take in a message (others are ignored).
    pub fn take(&mut self, m: &Ubx) {
        match m {
            Ubx::MonRf(r) => self.rf = Some(r.clone()),
            Ubx::MonHw(h) => self.hw = Some(h.clone()),
            Ubx::NavPvt(p) => self.pvt = Some(p.clone()),
            Ubx::NavStatus(s) => self.status = Some(s.clone()),
            _ => {}
        }
    }

    /// The point of the slot at `at_ns`, if anything came; the slot starts empty again.
    pub fn point(
        &mut self,
        station: &str,
        source: &str,
        truth: Option<Vector3<f64>>,
        at_ns: i64,
    ) -> Option<Point> {
        let ReceiverHealth {
            rf,
            hw,
            pvt,
            status,
        } = std::mem::take(self);
        if rf.is_none() && hw.is_none() && pvt.is_none() && status.is_none() {
            return None;
        }
        let mut p = Point::new("receiver", at_ns)
            .tag("station", station)
            .tag("source", source);
        if let Some(rf) = rf.as_ref().filter(|r| !r.blocks.is_empty()) {
            let worst = rf.blocks.iter().map(|b| b.jamming_state()).max();
            let jam = rf.blocks.iter().map(|b| b.jam_ind).max();
            p = p
                .field_opt("jamming_state", worst.map(u64::from))
                .field_opt("jam_ind", jam.map(u64::from))
                .field("ant_status", u64::from(rf.blocks[0].ant_status))
                .field("ant_power", u64::from(rf.blocks[0].ant_power));
            for b in &rf.blocks {
                let k = usize::from(b.block_id);
                if k < RF_FIELDS {
                    p = p
                        .field(AGC[k], b.agc_percent())
                        .field(JAM[k], u64::from(b.jam_ind))
                        .field(STATE[k], u64::from(b.jamming_state()))
                        .field(NOISE[k], u64::from(b.noise_per_ms));
                }
            }
        } else if let Some(hw) = &hw {
            p = p
                .field("jamming_state", u64::from(hw.jamming_state()))
                .field("jam_ind", u64::from(hw.jam_ind))
                .field("ant_status", u64::from(hw.a_status))
                .field("ant_power", u64::from(hw.a_power))
                .field(AGC[0], f64::from(hw.agc_cnt) / AGC_FULL_SCALE * 100.0)
                .field(NOISE[0], u64::from(hw.noise_per_ms));
        }
        if let Some(s) = &status {
            p = p.field("spoof_state", u64::from(s.spoof_det_state()));
        }
        if let Some(v) = &pvt {
            p = p
                .field("fix_type", u64::from(v.fix_type))
                .field("fix_ok", v.gnss_fix_ok())
                .field("num_sv", u64::from(v.num_sv));
            if v.gnss_fix_ok() && !v.invalid_llh() {
                p = p
                    .field("lat", v.lat_deg)
                    .field("lon", v.lon_deg)
                    .field("h", v.height_m)
                    .field("h_acc_m", v.h_acc_m)
                    .field("v_acc_m", v.v_acc_m);
                if let Some(t) = truth {
                    let at = Geodetic::from_degrees(v.lat_deg, v.lon_deg, v.height_m).to_ecef();
                    let d = enu(&t, &at);
                    p = p.field("de", d.x).field("dn", d.y).field("du", d.z);
                }
            }
        }
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::ubx::mon::{MonRfBlock, MonRfHead};

    fn block(id: u8, flags: u8, jam: u8, agc: u16) -> MonRfBlock {
        MonRfBlock {
            block_id: id,
            flags,
            ant_status: 2,
            ant_power: 1,
            post_status: 0,
            reserved1: [0; 4],
            noise_per_ms: 80,
            agc_cnt: agc,
            jam_ind: jam,
            ofs_i: 0,
            mag_i: 0,
            ofs_q: 0,
            mag_q: 0,
            reserved2: [0; 3],
        }
    }

    #[test]
    fn worst_front_end_and_one_point_per_slot() {
        let mut h = ReceiverHealth::default();
        assert!(h.point("S", "s", None, 0).is_none());
        h.take(&Ubx::MonRf(MonRf {
            head: MonRfHead {
                version: 0,
                n_blocks: 2,
                reserved: [0; 2],
            },
            blocks: vec![block(0, 1, 12, 4000), block(1, 2, 40, 8191)],
        }));
        let p = h.point("S", "s", None, 5).unwrap();
        let line = p.to_line();
        assert!(line.starts_with("receiver,source=s,station=S "), "{line}");
        for f in [
            "jamming_state=2i",
            "jam_ind=40i",
            "ant_status=2i",
            "agc_pct_rf1=100",
            "jam_ind_rf0=12i",
        ] {
            assert!(line.contains(f), "{f} in {line}");
        }
        assert!(h.point("S", "s", None, 10).is_none());
    }
}
