//! The raw archive over the station pipeline's own frames: hourly files by the GNSS time of the
//! data, every frame in exactly one file, the split at the hour boundary between epochs.

use std::sync::Arc;

use corsd::gnss::time::Gpst;
use corsd::simulate::{SimConfig, Simulator};
use corsd::sinks::archive::{Archive, ArchiveSettings, path_for};
use corsd::station::pipeline::{Output, Pipeline, PipelineConfig};

#[test]
fn hour_files_by_data_time_hold_every_frame_once() {
    let cfg = SimConfig {
        start: Gpst::from_week_tow(2408, 3600.0 - 5.0),
        epochs: 10,
        ..Default::default()
    };
    let start = cfg.start;
    let mut sim = Simulator::new(cfg);
    let mut bytes = Vec::new();
    while let Some(fs) = sim.next_epoch() {
        bytes.extend(fs.concat());
    }
    let mut p = Pipeline::new(PipelineConfig {
        reference: Some(start),
        keep_frames: true,
        points: false,
        ..Default::default()
    });
    let mut out = Output::default();
    p.push(&bytes, &mut out);
    p.finish(&mut out);
    let dir = std::env::temp_dir().join(format!("corsd-archive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut a = Archive::new(
        ArchiveSettings {
            dir: dir.clone(),
            retention_days: 100_000,
            min_free_bytes: 0,
            rinex: false,
        },
        "VTE1",
        Arc::default(),
    );
    for f in &out.frames {
        a.write(f).unwrap();
    }
    a.close().unwrap();
    let h0 = path_for(&dir, "VTE1", start);
    let h1 = path_for(&dir, "VTE1", start.add(10.0));
    assert_ne!(h0, h1);
    let (b0, b1) = (std::fs::read(&h0).unwrap(), std::fs::read(&h1).unwrap());
    assert_eq!(
        [b0.clone(), b1.clone()].concat(),
        bytes,
        "nothing lost or doubled"
    );
    // The first hour holds exactly the 5 epochs before the boundary.
    let epochs_in = |b: &[u8]| {
        let mut p = Pipeline::new(PipelineConfig {
            reference: Some(start),
            points: false,
            ..Default::default()
        });
        let mut o = Output::default();
        p.push(b, &mut o);
        p.finish(&mut o);
        o.epochs.iter().map(|e| e.time).collect::<Vec<_>>()
    };
    let e0 = epochs_in(&b0);
    assert_eq!(e0.len(), 5);
    assert!(e0.iter().all(|t| t.diff(start) < 5.0));
    assert_eq!(epochs_in(&b1).len(), 5);
    let _ = std::fs::remove_dir_all(&dir);
}

/// From a u-blox receiver the station also makes RTCM3 (MSM7, 1006) for its feeds; the archive
/// keeps only what the receiver sent, byte for byte.
#[test]
fn the_archive_keeps_the_raw_receiver_bytes_not_the_rtcm3_made_from_them() {
    use corsd::messages::ubx::{Ubx, rawx::Rawx};
    let cfg = SimConfig {
        epochs: 15,
        ..Default::default()
    };
    let (start, position) = (cfg.start, cfg.position);
    let mut sim = Simulator::new(cfg);
    let mut rtcm = Vec::new();
    while let Some(fs) = sim.next_epoch() {
        rtcm.extend(fs.concat());
    }
    let mut p = Pipeline::new(PipelineConfig {
        reference: Some(start),
        points: false,
        ..Default::default()
    });
    let mut out = Output::default();
    p.push(&rtcm, &mut out);
    p.finish(&mut out);
    let ubx: Vec<u8> = out
        .epochs
        .iter()
        .flat_map(|e| Ubx::Rawx(Rawx::from_epoch(e)).to_frame())
        .collect();
    let mut p = Pipeline::new(PipelineConfig {
        reference: Some(start),
        truth: Some(position),
        keep_frames: true,
        points: false,
        base: corsd::station::base::BaseFacts {
            position: Some(position),
            ..Default::default()
        },
        ..Default::default()
    });
    let mut out = Output::default();
    p.push(&ubx, &mut out);
    p.finish(&mut out);
    assert!(out.frames.iter().filter(|f| f.made).count() >= 15);
    let dir = std::env::temp_dir().join(format!("corsd-archive-ubx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut a = Archive::new(
        ArchiveSettings {
            dir: dir.clone(),
            retention_days: 100_000,
            min_free_bytes: 0,
            rinex: false,
        },
        "VTE1",
        Arc::default(),
    );
    for f in &out.frames {
        a.write(f).unwrap();
    }
    a.close().unwrap();
    assert_eq!(std::fs::read(path_for(&dir, "VTE1", start)).unwrap(), ubx);
    let _ = std::fs::remove_dir_all(&dir);
}
