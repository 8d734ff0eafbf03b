//! The merged sky view: GSV sets from every talker and signal combined into one list keyed by
//! (system, satellite, signal), with the "used" marks of the latest GSA of each system.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Data, Sentence, talker_system};
use crate::gnss::Gnss;

/// One satellite on one signal.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SkySat {
    pub system: Gnss,
    /// The system's own satellite number (GPS PRN, GLONASS slot, BeiDou PRN 1–63 …).
    pub svid: u16,
    /// NMEA 4.10 signal ID, or "" when the receiver does not say.
    #[serde(skip)]
    pub signal: [u8; 2],
    pub elevation_deg: Option<f64>,
    pub azimuth_deg: Option<f64>,
    pub snr_dbhz: Option<f64>,
    pub used: bool,
}

/// The system and satellite number of an NMEA satellite ID, as gpsd and the NMEA 4.10+
/// standard number them (GP 33–64 SBAS, GP/GL 65–96 GLONASS, GB/BD 1–63 and legacy 201–263 /
/// 401–463 BeiDou, GQ 1–10 or 193–202 QZSS, GA 1–36 or 301–336 Galileo).
pub fn satellite_id(talker: Option<Gnss>, prn: u16) -> Option<(Gnss, u16)> {
    Some(match (talker, prn) {
        (Some(Gnss::Beidou), 1..=63) => (Gnss::Beidou, prn),
        // SiRF and others number BeiDou 201–263 even under the GN talker.
        (Some(Gnss::Beidou) | None, 201..=263) => (Gnss::Beidou, prn - 200),
        (_, 401..=463) => (Gnss::Beidou, prn - 400),
        (Some(Gnss::Galileo), 1..=36) => (Gnss::Galileo, prn),
        (_, 301..=336) => (Gnss::Galileo, prn - 300),
        (Some(Gnss::Qzss), 1..=10) => (Gnss::Qzss, prn),
        (_, 193..=202) => (Gnss::Qzss, prn - 192),
        (Some(Gnss::Glonass), 1..=32) => (Gnss::Glonass, prn),
        (_, 65..=96) => (Gnss::Glonass, prn - 64),
        (Some(Gnss::Navic), 1..=14) => (Gnss::Navic, prn),
        (_, 33..=64) => (Gnss::Sbas, prn + 87),
        (_, 120..=158) => (Gnss::Sbas, prn),
        (Some(Gnss::Gps) | None, 1..=32) => (Gnss::Gps, prn),
        _ => return None,
    })
}

/// NMEA 4.10 GSA/GBS system ID → system.
pub fn system_of_id(id: u8) -> Option<Gnss> {
    Some(match id {
        1 => Gnss::Gps,
        2 => Gnss::Glonass,
        3 => Gnss::Galileo,
        4 => Gnss::Beidou,
        5 => Gnss::Qzss,
        6 => Gnss::Navic,
        _ => return None,
    })
}

type Key = (Gnss, u16, [u8; 2]);

/// Sky view assembled from GSV and GSA sentences.
#[derive(Clone, Debug, Default)]
pub struct SkyView {
    /// Completed GSV sets, per (talker, signal).
    sets: BTreeMap<(String, [u8; 2]), Vec<(Key, SkySat)>>,
    /// The set being received, per (talker, signal).
    pending: BTreeMap<(String, [u8; 2]), Vec<(Key, SkySat)>>,
    /// Satellites used, per system, from the latest GSA of that system.
    used: BTreeMap<Gnss, Vec<u16>>,
    /// Order in which sets completed, per (talker, signal).
    seq: BTreeMap<(String, [u8; 2]), u64>,
    counter: u64,
    /// Whether the previous sentence was a GSA: receivers send one block of GSAs per fix (one
    /// per system or signal), and the satellites used are the union of that block.
    in_gsa_block: bool,
}

fn sig_key(s: &Option<String>) -> [u8; 2] {
    let b = s.as_deref().unwrap_or("").as_bytes();
    [
        b.first().copied().unwrap_or(0),
        b.get(1).copied().unwrap_or(0),
    ]
}

impl SkyView {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take in a sentence; returns true when a GSV set was completed (the view changed).
    pub fn update(&mut self, s: &Sentence) -> bool {
        let gsa = matches!(s.data, Data::Gsa(_));
        if gsa && !self.in_gsa_block {
            self.used.clear();
        }
        self.in_gsa_block = gsa;
        match &s.data {
            Data::Gsv(g) => {
                let talker = talker_system(&s.talker);
                let k = (s.talker.clone(), sig_key(&g.signal_id));
                if g.index <= 1 {
                    self.pending.insert(k.clone(), Vec::new());
                }
                let entry = self.pending.entry(k.clone()).or_default();
                for sat in &g.sats {
                    let Some((system, svid)) = satellite_id(talker, sat.prn) else {
                        continue;
                    };
                    let key = (system, svid, k.1);
                    entry.push((
                        key,
                        SkySat {
                            system,
                            svid,
                            signal: k.1,
                            elevation_deg: sat.elevation_deg,
                            azimuth_deg: sat.azimuth_deg,
                            snr_dbhz: sat.snr_dbhz,
                            used: false,
                        },
                    ));
                }
                if g.index >= g.total {
                    let done = self.pending.remove(&k).unwrap_or_default();
                    self.counter += 1;
                    self.seq.insert(k.clone(), self.counter);
                    self.sets.insert(k, done);
                    return true;
                }
                false
            }
            Data::Gsa(g) => {
                let system = g
                    .system_id
                    .and_then(system_of_id)
                    .or_else(|| talker_system(&s.talker))
                    .or_else(|| {
                        g.satellites
                            .first()
                            .and_then(|&p| satellite_id(None, p))
                            .map(|(sys, _)| sys)
                    });
                if let Some(sys) = system {
                    let talker = talker_system(&s.talker).or(Some(sys));
                    let ids = g
                        .satellites
                        .iter()
                        .filter_map(|&p| satellite_id(talker, p))
                        .collect::<Vec<_>>();
                    // A GPS GSA may list SBAS satellites (PRN 33–64) it uses.
                    for (s2, id) in ids {
                        self.used.entry(s2).or_default().push(id);
                    }
                }
                false
            }
            _ => false,
        }
    }

    /// Every satellite and signal in view, with "used" marks.
    pub fn satellites(&self) -> Vec<SkySat> {
        let mut all: BTreeMap<Key, SkySat> = BTreeMap::new();
        for set in self.sets.values() {
            for (k, s) in set {
                all.insert(*k, *s);
            }
        }
        all.into_values().map(|s| self.mark_used(s)).collect()
    }

    /// A satellite's signal counts as used when the latest GSA block lists the satellite and the
    /// signal is being tracked (a GSV entry without C/N0 means the receiver has no lock on it
    /// now), which is also how gpsd reports it.
    fn mark_used(&self, mut s: SkySat) -> SkySat {
        s.used = s.snr_dbhz.is_some()
            && self
                .used
                .get(&s.system)
                .is_some_and(|u| u.contains(&s.svid));
        s
    }

    /// One entry per satellite: the signal whose GSV set arrived last, as gpsd's SKY reports
    /// lists them (so a receiver that sends E5b then E1 shows E1's C/N0).
    pub fn by_satellite(&self) -> Vec<SkySat> {
        let mut sets: Vec<(&(String, [u8; 2]), &Vec<(Key, SkySat)>)> = self.sets.iter().collect();
        sets.sort_by_key(|(k, _)| self.seq.get(*k).copied().unwrap_or(0));
        let mut out: BTreeMap<(Gnss, u16), SkySat> = BTreeMap::new();
        for (_, set) in sets {
            for (_, s) in set {
                out.insert((s.system, s.svid), *s);
            }
        }
        out.into_values().map(|s| self.mark_used(s)).collect()
    }
}
