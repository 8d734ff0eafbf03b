//! Reading a receiver's recording: RTCM3 streams (framed, decoded, epochs assembled and
//! dated as `replay` does, week rollovers included) or RINEX 3 observation files, each with the
//! ephemerides and station facts (antenna, ARP) it carries.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::framing::{FrameKind, Framer};
use crate::gnss::Gnss;
use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::Epoch;
use crate::gnss::time::Gpst;
use crate::messages::rtcm3;
use crate::station::state::StationState;

type Result<T> = std::result::Result<T, String>;

/// Bytes read from a recording at a time.
pub(super) const CHUNK: usize = 64 * 1024;

/// One receiver's recording, its epochs read whole.
pub struct Recording {
    pub path: PathBuf,
    pub epochs: Vec<Epoch>,
    pub store: EphemerisStore,
    /// Antenna descriptor (type and radome) from 1008/1033 or the RINEX header.
    pub antenna: Option<String>,
    /// Antenna reference point from 1005/1006, or a RINEX header's approximate position.
    pub arp: Option<[f64; 3]>,
    /// Where `arp` came from.
    pub arp_source: &'static str,
    /// Antenna reference point from the marker: RINEX DELTA H/E/N as east, north, up (m).
    pub eccentricity_enu: [f64; 3],
    /// RINEX MARKER NAME.
    pub marker: Option<String>,
    /// Lines for the operator.
    pub notes: Vec<String>,
}

/// Reads a recording; `reference` dates an RTCM stream without 1013.
pub fn read(path: &Path, reference: Option<Gpst>) -> Result<Recording> {
    read_of(path, reference, None)
}

/// [`read`] keeping only the satellites of `systems` (all when `None`).
pub fn read_of(
    path: &Path,
    reference: Option<Gpst>,
    systems: Option<&[Gnss]>,
) -> Result<Recording> {
    if is_rinex_obs(path) {
        return read_rinex(path, systems);
    }
    let mut epochs = Vec::new();
    let mut rec = read_rtcm(path, reference, rtcm3::decode, &mut |mut e: Epoch| {
        if let Some(keep) = systems {
            e.sats.retain(|s| keep.contains(&s.sys));
        }
        epochs.push(e);
    })?;
    epochs.sort_by(|a, b| a.time.diff(b.time).total_cmp(&0.0));
    epochs.dedup_by(|a, b| a.time == b.time);
    rec.epochs = epochs;
    Ok(rec)
}

/// One pass over an RTCM3 recording: every frame decoded by `decode` into the station state,
/// each completed epoch handed to `keep`; the recording's facts returned (without epochs).
pub(super) fn read_rtcm(
    path: &Path,
    reference: Option<Gpst>,
    decode: fn(&[u8]) -> std::result::Result<rtcm3::Message, rtcm3::DecodeError>,
    keep: &mut dyn FnMut(Epoch),
) -> Result<Recording> {
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut framer = Framer::new();
    let mut state = StationState::new(reference);
    let mut count = 0usize;
    let mut undecodable = 0u64;
    let mut drain = |framer: &mut Framer, state: &mut StationState| {
        while let Some(f) = framer.next_frame() {
            if f.kind != FrameKind::Rtcm3 {
                continue;
            }
            match decode(f.payload()) {
                Ok(m) => {
                    if let Some(e) = state.push(&m) {
                        count += 1;
                        keep(e);
                        while let Some(e) = state.take_ready() {
                            count += 1;
                            keep(e);
                        }
                    }
                }
                Err(_) => undecodable += 1,
            }
        }
    };
    // Read in chunks: the recording itself is never held whole, only its epochs.
    let mut chunk = vec![0u8; CHUNK];
    let mut size = 0usize;
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        size += n;
        framer.push(&chunk[..n]);
        drain(&mut framer, &mut state);
    }
    if size == 0 {
        return Err(format!("{}: the file is empty", path.display()));
    }
    let truncated = framer.pending();
    framer.finish();
    drain(&mut framer, &mut state);
    while let Some(e) = state.finish() {
        count += 1;
        keep(e);
    }
    let stats = framer.stats().clone();
    let mut notes = Vec::new();
    if stats.rtcm3_frames == 0 {
        return Err(format!(
            "{}: neither an RTCM3 stream (no valid frame in {} bytes) nor a RINEX 3 observation file",
            path.display(),
            size
        ));
    }
    if truncated > 0 {
        notes.push(format!(
            "{}: the file ends inside a frame ({truncated} bytes left over): truncated; the epochs before it are used",
            path.display()
        ));
    }
    if stats.rtcm3_crc_errors > 0 || undecodable > 0 {
        notes.push(format!(
            "{}: {} frames with a bad CRC and {undecodable} undecodable messages skipped",
            path.display(),
            stats.rtcm3_crc_errors
        ));
    }
    if count == 0 {
        if state.unreferenced > 0 {
            return Err(format!(
                "{}: no 1013 message dates this stream; give --week or --date",
                path.display()
            ));
        }
        return Err(format!(
            "{}: no MSM observations in the stream",
            path.display()
        ));
    }
    Ok(Recording {
        path: path.to_path_buf(),
        epochs: Vec::new(),
        store: state.store,
        antenna: state.antenna.filter(|a| !a.trim().is_empty()),
        arp: state.arp,
        arp_source: "its 1005/1006 message",
        eccentricity_enu: [0.0; 3],
        marker: None,
        notes,
    })
}

fn read_rinex(path: &Path, systems: Option<&[Gnss]>) -> Result<Recording> {
    let crate::rinex::ObsFile {
        header,
        epochs,
        approx,
    } = crate::rinex::read_obs_file(path, systems).map_err(|e| match e {
        e @ crate::rinex::RinexError::Io { .. } => e.to_string(),
        e => format!("{}: {e}", path.display()),
    })?;
    if epochs.is_empty() {
        return Err(format!("{}: no observation epochs", path.display()));
    }
    let mut antenna = None;
    let mut delta_hen = [0.0; 3];
    let mut marker = None;
    for l in header.lines() {
        let label = l.get(60..).unwrap_or("");
        if label.starts_with("ANT # / TYPE") {
            antenna = l.get(20..40).map(|s| s.trim_end().to_string());
        } else if label.starts_with("MARKER NAME") {
            marker = l
                .get(..60)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
        } else if label.starts_with("ANTENNA: DELTA H/E/N") {
            for (k, d) in delta_hen.iter_mut().enumerate() {
                *d = l
                    .get(14 * k..14 * (k + 1))
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .unwrap_or(0.0);
            }
        } else if label.starts_with("END OF HEADER") {
            break;
        }
    }
    let delta_h = delta_hen[0];
    let mut notes = Vec::new();
    if delta_h != 0.0 {
        notes.push(format!(
            "{}: antenna height {delta_h} m in the header: positions here are of the antenna reference point, not the marker",
            path.display()
        ));
    }
    Ok(Recording {
        path: path.to_path_buf(),
        epochs,
        store: EphemerisStore::new(),
        antenna: antenna.filter(|a| !a.trim().is_empty()),
        arp: approx,
        arp_source: "its RINEX header's approximate position",
        eccentricity_enu: [delta_hen[1], delta_hen[2], delta_hen[0]],
        marker,
        notes,
    })
}

/// Whether a file is RINEX observation data (by its first line, after gzip or LZW; CRINEX too).
pub fn is_rinex_obs(file: &Path) -> bool {
    crate::rinex::read_head(file, 80).is_ok_and(|head| {
        let h = String::from_utf8_lossy(&head);
        h.contains("OBSERVATION DATA") || h.contains("COMPACT RINEX")
    })
}
