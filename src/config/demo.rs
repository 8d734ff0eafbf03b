//! The demo station (`corsd run` without a configuration): the built-in simulator at the live
//! clock, a caster with an RTCM3 and an RTCM 2.3 mount, files for the time series.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::Settings;
use crate::feeds::caster::{CasterConfig, Mount};
use crate::feeds::message_set::Format;
use crate::sinks::archive::ArchiveSettings;
use crate::sources::{SourceKind, SourceSettings};
use crate::station::StationSettings;

/// The demo station's settings (`corsd run` without a configuration).
pub fn demo(data_dir: PathBuf) -> Settings {
    let data_dir_archive = data_dir.join("archive");
    let position = crate::simulate::SimConfig::default().position;
    Settings {
        station: StationSettings {
            name: "VTE1".into(),
            position: Some(position),
            frame: "ITRF2014".into(),
            antenna: "CHCC220GR2      CHCD".into(),
            receiver: "CORSD SIMULATOR".into(),
            country: "LAO".into(),
            atx: None,
        },
        series_dir: data_dir.join("series"),
        data_dir,
        sources: vec![SourceSettings {
            name: "demo".into(),
            kind: SourceKind::Simulate { seed: 1, msm: 4 },
            format: Default::default(),
            receiver: None,
            watchdog: Duration::from_secs(10),
        }],
        influx: None,
        health_listen: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
        archive: Some(ArchiveSettings {
            dir: data_dir_archive,
            retention_days: 7,
            min_free_bytes: 256 << 20,
            rinex: true,
        }),
        casters: vec![CasterConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 2101)),
            max_per_ip: 100,
            mounts: vec![
                Mount {
                    name: "VTE1".into(),
                    format: Format::Rtcm3 {
                        messages: Vec::new(),
                        arp: None,
                    },
                    users: Vec::new(),
                    relay_user: None,
                },
                // RTCM 2.3 DGNSS for GIS handhelds.
                Mount {
                    name: "VTE1_RTCM2".into(),
                    format: Format::Rtcm2 { station_id: 1 },
                    users: Vec::new(),
                    relay_user: None,
                },
            ],
            credentials: Default::default(),
        }],
        pushes: Vec::new(),
        outputs: Vec::new(),
        monitors: Vec::new(),
        coordinates: None,
        reflection: None,
    }
}
