//! Observations and orbits in, satellites with their geometry and C/N0 per signal out.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::orbit::{C, earth_rotation};
use crate::gnss::reflect::{
    Sample, Satellite, Signal, SignalTrack, glonass_channel, is_beidou_geo,
};
use crate::gnss::sp3::Sp3;
use crate::gnss::time::{Gpst, SECONDS_PER_DAY};
use crate::station::pipeline::{Output, Pipeline, PipelineConfig};

/// What the observation files hold.
pub struct Recording {
    pub epochs: Vec<Epoch>,
    /// The first file's APPROX POSITION, or the stream's ARP (1005/1006).
    pub position: Option<Vector3<f64>>,
    /// GLONASS channels the stream told (RTCM 1020/MSM).
    pub glonass_channels: BTreeMap<u8, i8>,
    /// Broadcast ephemerides the stream carried.
    pub store: EphemerisStore,
    /// Whether any signal had a C/N0.
    pub has_cn0: bool,
}

/// Read RINEX 3 observation files (plain, gzip, Hatanaka) or RTCM3 recordings, one after the
/// other; `reference` dates an RTCM stream without a 1013 message.
pub fn read(files: &[PathBuf], reference: Option<Gpst>) -> Result<Recording> {
    let mut rec = Recording {
        epochs: Vec::new(),
        position: None,
        glonass_channels: BTreeMap::new(),
        store: EphemerisStore::new(),
        has_cn0: false,
    };
    for file in files {
        let before = rec.epochs.len();
        if crate::commands::replay::is_rinex_obs(file) {
            let text = crate::rinex::read_text(file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let (epochs, approx) = crate::rinex::read_obs(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            rec.position = rec.position.or(approx.map(Vector3::from));
            rec.epochs.extend(epochs);
        } else {
            read_rtcm(file, reference, &mut rec)?;
        }
        let added = &rec.epochs[before..];
        if added.is_empty() {
            bail!("{}: no observation epochs in the file", file.display());
        }
        let cn0 = added
            .iter()
            .flat_map(|e| &e.sats)
            .flat_map(|s| &s.signals)
            .any(|s| s.cn0_dbhz.is_some());
        if !cn0 {
            bail!(
                "{}: no SNR observables (RINEX S1C, S2L, …; RTCM MSM4–7 C/N0): GNSS reflectometry \
                 reads the C/N0 of each signal, so the receiver must record it",
                file.display()
            );
        }
        rec.has_cn0 = true;
    }
    rec.epochs
        .sort_by(|a, b| a.time.diff(b.time).total_cmp(&0.0));
    rec.epochs.dedup_by(|a, b| a.time.diff(b.time).abs() < 1e-6);
    Ok(rec)
}

fn read_rtcm(file: &Path, reference: Option<Gpst>, rec: &mut Recording) -> Result<()> {
    let mut input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut pipeline = Pipeline::new(PipelineConfig {
        station: "reflect".into(),
        source: "reflect".into(),
        reference,
        data_clock: true,
        ..Default::default()
    });
    let mut out = Output::default();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = input
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", file.display()))?;
        out.clear();
        if n == 0 {
            pipeline.finish(&mut out);
        } else {
            pipeline.push(&buf[..n], &mut out);
        }
        rec.epochs.append(&mut out.epochs);
        if n == 0 {
            break;
        }
    }
    let state = &pipeline.state;
    if state.unreferenced > 0 && state.reference.is_none() && rec.epochs.is_empty() {
        bail!(
            "{}: no 1013 message dates this stream; give --date",
            file.display()
        );
    }
    rec.position = rec.position.or(state.arp.map(Vector3::from));
    rec.glonass_channels
        .extend(state.glonass_channels.iter().map(|(k, v)| (*k, *v)));
    for e in state.store.all() {
        rec.store.insert(e.clone());
    }
    Ok(())
}

/// Where the satellites are.
pub enum Orbits {
    Broadcast(EphemerisStore),
    Precise(Sp3),
}

impl Orbits {
    /// Satellite position (ECEF, m) at transmission for a signal received at `t`, in the
    /// receive-time frame.
    fn position(&self, sys: Gnss, prn: u8, t: Gpst, rcv: &Vector3<f64>) -> Option<Vector3<f64>> {
        let at = |t: Gpst| -> Option<Vector3<f64>> {
            match self {
                Orbits::Broadcast(store) => Some(store.select(sys, prn, t)?.position_clock(t).0),
                Orbits::Precise(sp3) => sp3.position(sys, prn, t).ok(),
            }
        };
        // One light-time step is plenty: the satellite moves ~300 m in 75 ms, a thousandth of
        // a degree seen from the ground.
        let p0 = at(t.add(-0.075))?;
        let tau = (p0 - rcv).norm() / C;
        let p = at(t.add(-tau))?;
        Some(earth_rotation(
            &p,
            crate::gnss::orbit::GPS_CONSTANTS.omega_e,
            tau,
        ))
    }

    /// Whether the orbits know any satellite of a system.
    pub fn covers(&self, sys: Gnss) -> bool {
        match self {
            Orbits::Broadcast(store) => store.satellites().any(|(s, _)| s == sys),
            Orbits::Precise(sp3) => sp3.satellites.iter().any(|(s, _)| *s == sys),
        }
    }
}

/// Read the orbit files: SP3 (plain or gzip, days joined) or RINEX navigation.
pub fn orbits(nav: &[PathBuf], sp3: &[PathBuf], stream: EphemerisStore) -> Result<Orbits> {
    if !sp3.is_empty() {
        let mut joined: Option<Sp3> = None;
        for f in sp3 {
            let bytes = std::fs::read(f).with_context(|| format!("--sp3 {}", f.display()))?;
            let text = crate::rinex::decode_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("--sp3 {}: {e}", f.display()))?;
            let one =
                Sp3::parse(&text).map_err(|e| anyhow::anyhow!("--sp3 {}: {e}", f.display()))?;
            match joined.as_mut() {
                None => joined = Some(one),
                Some(j) => j
                    .append(one)
                    .map_err(|e| anyhow::anyhow!("--sp3 {}: {e}", f.display()))?,
            }
        }
        // Non-empty list: `joined` is set.
        return joined.map(Orbits::Precise).context("--sp3: no file");
    }
    let (mut store, _) = crate::commands::replay::load_nav(nav)?;
    for e in stream.all() {
        store.insert(e.clone());
    }
    if store.is_empty() {
        bail!(
            "no orbits: give --nav FILE (RINEX navigation) or --sp3 FILE (precise orbits); \
             the recording carries no ephemerides"
        );
    }
    Ok(Orbits::Broadcast(store))
}

/// Per system: satellites observed, and those the orbits placed.
#[derive(Debug, Default)]
pub struct Coverage {
    pub observed: BTreeMap<Gnss, usize>,
    pub placed: BTreeMap<Gnss, usize>,
}

/// The satellites of the recording with their elevation, azimuth and C/N0 per reflection
/// signal; `t` counts from the GPS midnight of `day0`.
pub fn satellites(
    rec: &Recording,
    orbits: &Orbits,
    rcv: &Vector3<f64>,
    systems: &[Gnss],
    signals: &[Signal],
    day0: Gpst,
) -> (Vec<Satellite>, Coverage) {
    struct Building {
        samples: Vec<Sample>,
        codes: BTreeMap<SignalCode, Vec<f64>>,
        freq: BTreeMap<SignalCode, f64>,
    }
    let mut sats: BTreeMap<(Gnss, u8), Building> = BTreeMap::new();
    let mut cov = Coverage::default();
    let mut unplaced: BTreeMap<(Gnss, u8), bool> = BTreeMap::new();
    for e in &rec.epochs {
        for s in &e.sats {
            if !systems.contains(&s.sys) || (s.sys == Gnss::Beidou && is_beidou_geo(s.prn)) {
                continue;
            }
            let wanted = |c: SignalCode| {
                Signal::of_code(s.sys, c)
                    .is_some_and(|(sig, _)| signals.is_empty() || signals.contains(&sig))
            };
            if !s
                .signals
                .iter()
                .any(|o| o.cn0_dbhz.is_some() && wanted(o.code))
            {
                continue;
            }
            let key = (s.sys, s.prn);
            let Some(pos) = orbits.position(s.sys, s.prn, e.time, rcv) else {
                unplaced.entry(key).or_insert(true);
                continue;
            };
            unplaced.insert(key, false);
            let (el, az) = crate::gnss::geodesy::elevation_azimuth(rcv, &pos);
            let b = sats.entry(key).or_insert_with(|| Building {
                samples: Vec::new(),
                codes: BTreeMap::new(),
                freq: BTreeMap::new(),
            });
            let i = b.samples.len();
            b.samples.push(Sample {
                t: e.time.diff(day0),
                elev: el.to_degrees(),
                azim: az.to_degrees(),
            });
            for o in &s.signals {
                let Some(cn0) = o.cn0_dbhz else { continue };
                if !wanted(o.code) {
                    continue;
                }
                let v = b.codes.entry(o.code).or_default();
                v.resize(i, f64::NAN);
                v.push(cn0);
                if let Some(f) = o.freq_hz {
                    b.freq.entry(o.code).or_insert(f);
                }
            }
        }
    }
    for ((sys, _), never) in &unplaced {
        *cov.observed.entry(*sys).or_default() += 1;
        if !never {
            *cov.placed.entry(*sys).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for ((sys, prn), b) in sats {
        let n = b.samples.len();
        // Per band, the best-ranked tracking mode with any C/N0, as gnssrefl picks.
        let mut best: BTreeMap<Signal, (u8, SignalCode)> = BTreeMap::new();
        for code in b.codes.keys() {
            if let Some((sig, rank)) = Signal::of_code(sys, *code) {
                let e = best.entry(sig).or_insert((rank, *code));
                if rank < e.0 {
                    *e = (rank, *code);
                }
            }
        }
        let mut tracks = Vec::new();
        for (sig, (_, code)) in best {
            let freq = b.freq.get(&code).copied().or_else(|| {
                let ch = rec
                    .glonass_channels
                    .get(&prn)
                    .copied()
                    .or_else(|| glonass_channel(prn));
                crate::gnss::signal::carrier_hz(sys, code.0[0], ch)
            });
            let Some(freq) = freq else { continue };
            let mut cn0 = b.codes.get(&code).cloned().unwrap_or_default();
            cn0.resize(n, f64::NAN);
            tracks.push(SignalTrack {
                signal: sig,
                code,
                half_wavelength: C / freq / 2.0,
                cn0,
            });
        }
        if !tracks.is_empty() {
            out.push(Satellite {
                sys,
                prn,
                samples: b.samples,
                signals: tracks,
            });
        }
    }
    (out, cov)
}

/// GPS midnight of the day of the first epoch.
pub fn day_start(rec: &Recording) -> Option<Gpst> {
    let t = rec.epochs.first()?.time;
    Some(Gpst::new(
        t.secs().div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY,
        0.0,
    ))
}
