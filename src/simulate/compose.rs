//! Turning the simulated sky into RTCM3 messages: broadcast ephemerides, MSM observations and
//! station messages.

use std::f64::consts::{PI, TAU};

use crate::gnss::Gnss;
use crate::gnss::orbit::{GLONASS_MU, GLONASS_OMEGA_E, Kepler, SystemConstants, kepler_position};
use crate::gnss::time::{Gpst, SECONDS_PER_WEEK};
use crate::messages::rtcm3::ephemeris::{BdsEph, GalEph, GalInav, GloEph, GpsEph, QzsEph};
use crate::messages::rtcm3::msm::{self, Msm, MsmCell, MsmSat};
use crate::messages::rtcm3::station::{
    AntennaDescriptor, GloBiases, ReceiverDescriptor, StationArp, Text,
};
use crate::messages::rtcm3::{self, Message};

use super::sky::{SimOrbit, SimSat};
use super::{EpochObs, Issued, Simulator};

/// The instant at which the nominal elements hold (start of GPS week 2400, 2026-01-04): the sky
/// is laid out then and moves by Kepler's laws from there.
fn reference_epoch() -> Gpst {
    Gpst::from_week_tow(2400, 0.0)
}

/// Light-millisecond in metres.
const LMS: f64 = 299_792.458;

fn wrap_pi(x: f64) -> f64 {
    let y = x.rem_euclid(TAU);
    if y >= PI { y - TAU } else { y }
}

/// Broadcast Keplerian elements describing the nominal orbit with reference time `toe_gpst`,
/// whose system time of week is `toe_sow`.
fn elements_at(nominal: &Kepler, c: &SystemConstants, toe_gpst: Gpst, toe_sow: f64) -> Kepler {
    let dt = toe_gpst.diff(reference_epoch());
    let a = nominal.sqrt_a * nominal.sqrt_a;
    let n0 = (c.mu / (a * a * a)).sqrt();
    let node = nominal.omega0 + (nominal.omega_dot - c.omega_e) * dt;
    Kepler {
        m0: wrap_pi(nominal.m0 + n0 * dt),
        omega0: wrap_pi(node + c.omega_e * toe_sow),
        i0: nominal.i0 + nominal.idot * dt,
        toe: toe_sow,
        toc: toe_sow,
        ..*nominal
    }
}

/// Round an instant down to a multiple of `step` seconds of its week.
fn floor_to(t: Gpst, step: f64) -> Gpst {
    let tow = t.tow();
    t.add((tow / step).floor() * step - tow)
}

/// Make the ephemeris of `sat` in force at `t`: encode it as its RTCM message, decode it back,
/// and keep the decoded orbit (so observables and stream agree to the last bit).
pub(crate) fn issue_ephemeris(sat: &SimSat, t: Gpst) -> Issued {
    let (msg, next) = match &sat.orbit {
        SimOrbit::Kepler {
            elements,
            constants,
            ..
        } => kepler_message(sat, elements, constants, t),
        SimOrbit::Glonass { elements, channel } => glonass_message(sat.prn, elements, *channel, t),
    };
    let payload = msg.encode();
    // The simulator built the message itself; decoding its own encoding cannot fail, but if it
    // ever did, the original message is still a faithful description.
    let decoded = rtcm3::decode(&payload).unwrap_or(msg);
    Issued {
        payload,
        orbit: orbit_of(decoded, t),
        next_issue: next,
    }
}

fn orbit_of(m: Message, t: Gpst) -> crate::gnss::nav::Ephemeris {
    match m {
        Message::GpsEph(e) => e.to_ephemeris(t),
        Message::BdsEph(e) => e.to_ephemeris(t),
        Message::GalEph(e) => e.to_ephemeris(t),
        Message::QzsEph(e) => e.to_ephemeris(t),
        Message::GloEph(e) => e.to_ephemeris(t),
        other => unreachable_message(other),
    }
}

/// The orbit and clock of a Keplerian satellite around `t` before any rounding to the RTCM
/// fields: one set describes the nominal orbit exactly for any time, so it serves a whole run
/// as the satellite's true motion.
pub(crate) fn exact_orbit(sat: &SimSat, t: Gpst) -> crate::gnss::nav::Ephemeris {
    let msg = match &sat.orbit {
        SimOrbit::Kepler {
            elements,
            constants,
            ..
        } => kepler_message(sat, elements, constants, t).0,
        SimOrbit::Glonass { elements, channel } => {
            glonass_message(sat.prn, elements, *channel, t).0
        }
    };
    orbit_of(msg, t)
}

fn unreachable_message(m: Message) -> crate::gnss::nav::Ephemeris {
    // Only ephemeris messages are built above; keep a harmless value instead of panicking.
    let _ = m;
    crate::gnss::nav::Ephemeris {
        sys: Gnss::Gps,
        prn: 0,
        toe: Gpst::default(),
        toc: Gpst::default(),
        iode: 0,
        healthy: false,
        accuracy_m: None,
        tgd: [0.0; 2],
        fit_half_s: 0.0,
        orbit: crate::gnss::nav::OrbitParams::Kepler {
            elements: Kepler::default(),
            constants: crate::gnss::orbit::GPS_CONSTANTS,
            beidou_geo: false,
        },
    }
}

/// An ephemeris struct literal whose Keplerian orbit and clock come from `k` (the clock terms
/// named per system), plus the listed message-specific fields.
macro_rules! with_orbit {
    ($t:ident, $k:expr, $af0:ident, $af1:ident, $af2:ident, { $($f:ident: $v:expr),* $(,)? }) => {
        $t {
            idot: $k.idot,
            crs: $k.crs,
            delta_n: $k.delta_n,
            m0: $k.m0,
            cuc: $k.cuc,
            e: $k.e,
            cus: $k.cus,
            sqrt_a: $k.sqrt_a,
            toe: $k.toe,
            cic: $k.cic,
            omega0: $k.omega0,
            cis: $k.cis,
            i0: $k.i0,
            crc: $k.crc,
            omega: $k.omega,
            omega_dot: $k.omega_dot,
            toc: $k.toc,
            $af0: $k.af0,
            $af1: $k.af1,
            $af2: $k.af2,
            $($f: $v),*
        }
    };
}

fn kepler_message(sat: &SimSat, nominal: &Kepler, c: &SystemConstants, t: Gpst) -> (Message, Gpst) {
    let (step, offset) = match sat.sys {
        Gnss::Beidou => (3600.0, -14.0),
        Gnss::Galileo => (600.0, 0.0),
        _ => (7200.0, 0.0),
    };
    // Reference times on the system's own grid (BDT for BeiDou), valid from toe on.
    let sys_t = t.add(offset);
    let toe_sys = floor_to(sys_t, step);
    let toe_gpst = toe_sys.add(-offset);
    let toe_sow = toe_sys.tow();
    let k = elements_at(nominal, c, toe_gpst, toe_sow);
    let issue = ((toe_gpst.secs() / step as i64) % 240) as u8;
    let week = toe_sys.week();
    let msg = match sat.sys {
        Gnss::Beidou => Message::BdsEph(with_orbit!(BdsEph, k, a0, a1, a2, {
            sat: sat.prn,
            week: (week - crate::gnss::time::BDT_WEEK0_IN_GPS_WEEKS) as u16,
            urai: 0,
            aode: issue % 32,
            aodc: issue % 32,
            tgd1: 2.0e-9,
            tgd2: -1.0e-9,
            unhealthy: false,
        })),
        Gnss::Galileo => Message::GalEph(GalEph::Inav(with_orbit!(GalInav, k, af0, af1, af2, {
            sat: sat.prn,
            week: (week - crate::gnss::time::GST_WEEK0_IN_GPS_WEEKS) as u16,
            iodnav: issue as u16,
            sisa: 107,
            // Equal BGDs keep E1/E5a combinations exact with I/NAV's E1/E5b clock reference.
            bgd_e5a_e1: 1.0e-9,
            bgd_e5b_e1: 1.0e-9,
            e5b_health: 0,
            e5b_data_validity: false,
            e1b_health: 0,
            e1b_data_validity: false,
            reserved: 0,
        }))),
        Gnss::Qzss => Message::QzsEph(with_orbit!(QzsEph, k, af0, af1, af2, {
            sat: sat.prn,
            iode: issue,
            code_on_l2: 2,
            week: (week % 1024) as u16,
            ura_index: 1,
            health: 0,
            tgd: -3.0e-9,
            iodc: issue as u16,
            fit_interval: false,
        })),
        _ => Message::GpsEph(with_orbit!(GpsEph, k, af0, af1, af2, {
            sat: sat.prn,
            week: (week % 1024) as u16,
            ura_index: 1,
            code_on_l2: 1,
            iode: issue,
            iodc: issue as u16,
            tgd: -5.0e-9,
            health: 0,
            l2p_data_flag: false,
            fit_interval: false,
        })),
    };
    (msg, toe_gpst.add(step))
}

fn glonass_message(prn: u8, nominal: &Kepler, channel: i8, t: Gpst) -> (Message, Gpst) {
    // A satellite broadcasts, through each half hour of GLONASST, the set whose tb is that
    // half hour's middle (…:15, …:45), valid ±15 min: a receiver has the set in force as soon
    // as its half hour begins, never one from the half hour before.
    let (_, tod) = t.glonass_day_tod();
    let tb_tod = (tod / 1800.0).floor() * 1800.0 + 900.0;
    let tb = t.add(tb_tod - tod);
    let c = SystemConstants {
        mu: GLONASS_MU,
        omega_e: GLONASS_OMEGA_E,
    };
    let sow = tb.tow();
    let k = elements_at(nominal, &c, tb, sow);
    let pos = |dt: f64| kepler_position(&k, &c, sow + dt, false).0;
    let p = pos(0.0);
    // Velocity in the Earth-fixed frame, as GLONASS broadcasts it.
    let v = (pos(0.5) - pos(-0.5)) / 1.0;
    let tk_s = tb_tod as u32;
    let tk = (((tk_s / 3600) << 7) | (((tk_s / 60) % 60) << 1)) as u16;
    let msg = Message::GloEph(GloEph {
        sat: prn,
        channel_plus_7: (channel + 7) as u8,
        almanac_health: true,
        almanac_health_available: true,
        p1: 3,
        tk,
        bn_msb: false,
        p2: true,
        tb: tb_tod,
        vx: v.x,
        x: p.x,
        ax: 0.0,
        vy: v.y,
        y: p.y,
        ay: 0.0,
        vz: v.z,
        z: p.z,
        az: 0.0,
        p3: true,
        gamma_n: 0.0,
        p: 3,
        ln3: false,
        tau_n: 1.0e-5 * (prn as f64 * 0.7).sin(),
        delta_tau_n: 0.0,
        en: 0,
        p4: false,
        ft: 1,
        nt: 1,
        m: 1,
        additional_data: true,
        na: 1,
        tau_c: 0.0,
        n4: 8,
        tau_gps: 0.0,
        ln5: false,
        reserved: 0,
    });
    (msg, tb.add(900.0))
}

/// The epoch-time field of an MSM for system `sys` at GPS time `t`.
fn msm_epoch(sys: Gnss, t: Gpst) -> u32 {
    match sys {
        Gnss::Glonass => {
            let (day, tod) = t.glonass_day_tod();
            ((day as u32) << 27) | ((tod * 1000.0).round() as u32 & 0x07FF_FFFF)
        }
        Gnss::Beidou => {
            let (_, sow) = t.bdt();
            (sow * 1000.0).round() as u32
        }
        _ => (t.tow() * 1000.0).round() as u32 % (SECONDS_PER_WEEK as u32 * 1000),
    }
}

/// The MSM messages of one system for one epoch, split so that no message has more than 64
/// cells.
fn msm_messages(
    sys: Gnss,
    kind: u8,
    station: u16,
    t: Gpst,
    sats: &[(super::sky::SatObs, f64)],
) -> Vec<Msm> {
    let mut groups: Vec<Vec<&(super::sky::SatObs, f64)>> = Vec::new();
    let mut cur: Vec<&(super::sky::SatObs, f64)> = Vec::new();
    for s in sats {
        cur.push(s);
        if cur.len() * signal_ids(&cur).len() > 64 {
            cur.pop();
            groups.push(std::mem::take(&mut cur));
            cur.push(s);
        }
    }
    if !cur.is_empty() {
        groups.push(cur);
    }
    let ext = kind >= 6;
    let mut out = Vec::new();
    for g in groups {
        let mut g = g;
        g.sort_by_key(|(o, _)| o.prn);
        let ids = signal_ids(&g);
        let sig_mask = ids.iter().fold(0u32, |m, id| m | 1 << (32 - *id as u32));
        let mut msats = Vec::new();
        let mut cells = Vec::new();
        for (si, (o, lock_s)) in g.iter().enumerate() {
            let first = o.signals.first().map(|s| s.pseudorange_m).unwrap_or(0.0);
            let rough_ms = (first / LMS * 1024.0).round() / 1024.0;
            let int_ms = rough_ms.floor();
            let rough_m = rough_ms * LMS;
            let rate = o.signals.first().map(|s| s.range_rate_mps).unwrap_or(0.0);
            let rough_rate = rate.round();
            msats.push(MsmSat {
                id: o.prn,
                rough_int_m: Some(int_ms * LMS),
                ext_info: matches!(kind, 5 | 7).then(|| match sys {
                    Gnss::Glonass => glonass_ext(o),
                    _ => 0,
                }),
                rough_mod_m: (rough_ms - int_ms) * LMS,
                rough_rate_mps: matches!(kind, 5 | 7).then_some(rough_rate),
            });
            let mut sigs: Vec<_> = o.signals.iter().collect();
            sigs.sort_by_key(|s| s.msm_id);
            for s in sigs {
                let lock_ms = (lock_s * 1000.0) as u64;
                cells.push(MsmCell {
                    sat: si as u8,
                    signal: s.msm_id,
                    fine_pseudorange_m: Some(s.pseudorange_m - rough_m),
                    fine_phaserange_m: Some(s.phase_range_m - rough_m),
                    lock_indicator: Some(if ext {
                        msm::lock_indicator_ext(lock_ms)
                    } else {
                        msm::lock_indicator(lock_ms.min(u32::MAX as u64) as u32) as u16
                    }),
                    half_cycle: Some(false),
                    cnr_dbhz: Some(if ext {
                        (s.cn0_dbhz * 16.0).round() / 16.0
                    } else {
                        s.cn0_dbhz.round()
                    }),
                    fine_rate_mps: matches!(kind, 5 | 7).then_some(s.range_rate_mps - rough_rate),
                });
            }
        }
        let sat_mask = msats.iter().fold(0u64, |m, s| m | 1 << (64 - s.id as u32));
        out.push(Msm {
            system: sys,
            msm: kind,
            station,
            epoch_raw: msm_epoch(sys, t),
            multiple: true,
            iods: 0,
            reserved: 0,
            clock_steering: 1,
            external_clock: 0,
            smoothing: false,
            smoothing_interval: 0,
            sat_mask,
            sig_mask,
            sats: msats,
            cells,
            trailing: Vec::new(),
        });
    }
    out
}

/// The MSM signal IDs of a group of satellites, ascending, each once.
fn signal_ids(g: &[&(super::sky::SatObs, f64)]) -> Vec<u8> {
    let mut ids: Vec<u8> = g
        .iter()
        .flat_map(|(o, _)| o.signals.iter().map(|s| s.msm_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// GLONASS MSM5/7 extended info: frequency channel + 7, recovered from the G1 frequency.
fn glonass_ext(o: &super::sky::SatObs) -> u8 {
    let f = o.signals.first().map(|s| s.freq_hz).unwrap_or(1_602e6);
    (((f - 1_602e6) / 0.5625e6).round() as i64 + 7).clamp(0, 13) as u8
}

/// Every payload of one epoch, in transmission order.
pub(crate) fn epoch_payloads(sim: &mut Simulator, t: Gpst, obs: &EpochObs) -> Vec<Vec<u8>> {
    let cfg = sim.config().clone();
    let kinds: Vec<u8> = if cfg.both_msm {
        vec![4, 7]
    } else {
        vec![cfg.msm]
    };
    let mut out = Vec::new();
    for &kind in &kinds {
        let mut msgs: Vec<Msm> = Vec::new();
        for (sys, sats) in obs {
            msgs.extend(msm_messages(*sys, kind, cfg.station_id, t, sats));
        }
        if let Some(last) = msgs.last_mut() {
            last.multiple = false;
        }
        out.extend(msgs.iter().map(Msm::encode));
    }
    if cfg.obs_only {
        return out;
    }
    let sec = t.tow().round() as i64;
    // About every 10 s whatever the epoch interval: a stream at 5 s or 30 s announces its
    // station too.
    if sec % 10 < i64::from(cfg.interval_s.max(1)) {
        // A rover has no reference point to announce.
        let arp = StationArp {
            number: 1006,
            station: cfg.station_id,
            itrf_year: 0,
            gps: true,
            glonass: true,
            galileo: true,
            non_physical: false,
            x_m: cfg.position.x,
            single_oscillator: true,
            reserved: false,
            y_m: cfg.position.y,
            quarter_cycle: 0,
            z_m: cfg.position.z,
            antenna_height_m: Some(0.0),
        };
        if cfg.walk.is_none() {
            out.push(arp.encode());
        }
        out.push(
            AntennaDescriptor {
                number: 1008,
                station: cfg.station_id,
                descriptor: Text(cfg.antenna.as_bytes().to_vec()),
                setup_id: 0,
                serial: Some(Text(format!("{}-ANT", cfg.name).into_bytes())),
            }
            .encode(),
        );
        out.push(
            ReceiverDescriptor {
                station: cfg.station_id,
                antenna: Text(cfg.antenna.as_bytes().to_vec()),
                antenna_setup_id: 0,
                antenna_serial: Text(format!("{}-ANT", cfg.name).into_bytes()),
                receiver: Text(b"CORSD SIMULATOR".to_vec()),
                firmware: Text(env!("CARGO_PKG_VERSION").as_bytes().to_vec()),
                receiver_serial: Text(format!("{}-SIM", cfg.name).into_bytes()),
            }
            .encode(),
        );
        out.push(
            GloBiases {
                station: cfg.station_id,
                aligned: true,
                reserved: 0,
                l1_ca_m: Some(0.0),
                l1_p_m: Some(0.0),
                l2_ca_m: Some(0.0),
                l2_p_m: Some(0.0),
                invalid_mask: 0,
            }
            .encode(),
        );
    }
    for (sys, sats) in obs {
        let in_view: Vec<u8> = sats.iter().map(|(o, _)| o.prn).collect();
        if let Some(p) = sim.next_ephemeris(*sys, &in_view) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::geodesy::{Geodetic, elevation_azimuth};
    use crate::simulate::sky::{constellation, geometry};

    #[test]
    fn vientiane_sees_a_realistic_sky() {
        let rcv = Geodetic::from_degrees(17.9757, 102.6331, 180.0).to_ecef();
        let all = constellation(&[
            Gnss::Gps,
            Gnss::Glonass,
            Gnss::Galileo,
            Gnss::Beidou,
            Gnss::Qzss,
        ]);
        let t = Gpst::from_week_tow(2400, 345_600.0);
        let mut per = std::collections::BTreeMap::new();
        for s in &all {
            let SimOrbit::Kepler { .. } = &s.orbit else {
                continue;
            };
            let b = issue_ephemeris(s, t).orbit;
            let (_, _, p, _) = geometry(&b, &rcv, t);
            let (el, _) = elevation_azimuth(&rcv, &p);
            if el > 10f64.to_radians() {
                *per.entry(s.sys).or_insert(0) += 1;
            }
        }
        let total: i32 = per.values().sum();
        assert!(per[&Gnss::Beidou] >= 8, "{per:?}");
        assert!(per[&Gnss::Gps] >= 5, "{per:?}");
        assert!((20..=45).contains(&total), "{per:?}");
    }
}
