//! `corsd rtk` on inputs it cannot use, or can use only in part: each gives a message naming
//! the problem (an error, or a warning when the rest is usable), never a panic or a silent zero.

mod common;

use common::servers::{corsd, temp_dir};

const STR17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";
const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
const DROPPED: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";
const BASE_POS: &str = "--base-pos=-4467075.2780,2683011.8519,-3667007.0103";

fn rtk(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = corsd().arg("rtk").args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.success(), err)
}

#[test]
fn unusable_inputs_are_named() {
    let dir = temp_dir("rtk-bad");
    let rover = common::data_file(STR17);
    let base = common::data_file(STR24);
    // A file of another format.
    let (ok, err) = rtk(&[
        common::data_file("MANIFEST.md").as_os_str(),
        "--base".as_ref(),
        base.as_os_str(),
    ]);
    assert!(!ok && err.contains("neither an RTCM3 stream"), "{err}");
    // Mismatched dates: the base recorded two days earlier.
    let (ok, err) = rtk(&[
        rover.as_os_str(),
        "--base".as_ref(),
        common::data_file(DROPPED).as_os_str(),
    ]);
    assert!(!ok && err.contains("mismatched dates"), "{err}");
    // A base without 1005/1006 and no --base-pos.
    let frames = common::frames(&common::read_data(STR24));
    let no_arp: Vec<u8> = frames
        .iter()
        .filter(|f| {
            !matches!(
                corsd::messages::rtcm3::message_number(common::payload(f)),
                Some(1005 | 1006)
            )
        })
        .flatten()
        .copied()
        .collect();
    let no_arp_path = dir.join("no-arp.rtcm3");
    std::fs::write(&no_arp_path, &no_arp).unwrap();
    let (ok, err) = rtk(&[
        rover.as_os_str(),
        "--base".as_ref(),
        no_arp_path.as_os_str(),
    ]);
    assert!(
        !ok && err.contains("has no position") && err.contains("--base-pos"),
        "{err}"
    );
    // The base's own 1006 is used with a datum warning.
    let (ok, err) = rtk(&[rover.as_os_str(), "--base".as_ref(), base.as_os_str()]);
    assert!(ok && err.contains("operator's datum"), "{err}");
    // An empty file.
    let empty = dir.join("empty.rtcm3");
    std::fs::write(&empty, b"").unwrap();
    let (ok, err) = rtk(&[empty.as_os_str(), "--base".as_ref(), base.as_os_str()]);
    assert!(!ok && err.contains("empty"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn partly_usable_inputs_warn() {
    let dir = temp_dir("rtk-warn");
    let base = common::data_file(STR24);
    // A rover cut inside a frame: the epochs before the cut are solved, the cut is named.
    let bytes = common::read_data(STR17);
    let cut = dir.join("cut.rtcm3");
    std::fs::write(&cut, &bytes[..bytes.len() / 3 + 7]).unwrap();
    let (ok, err) = rtk(&[
        cut.as_os_str(),
        "--base".as_ref(),
        base.as_os_str(),
        BASE_POS.as_ref(),
    ]);
    assert!(ok && err.contains("truncated"), "{err}");
    // An ANTEX file without either receiver antenna: the solution is made and says what it
    // refers to.
    let atx = common::data_file("antex/nav-solutions_data/igs14_small.atx.gz");
    let (ok, err) = rtk(&[
        common::data_file(STR17).as_os_str(),
        "--base".as_ref(),
        base.as_os_str(),
        BASE_POS.as_ref(),
        "--atx".as_ref(),
        atx.as_os_str(),
    ]);
    assert!(
        ok && err.contains("ASH701945C_M") && err.contains("is not in the ANTEX file"),
        "{err}"
    );
    assert!(err.contains("LEIAR25.R3"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
