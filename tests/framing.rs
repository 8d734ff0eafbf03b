//! The framer over the real recordings: frame counts from the MANIFEST, any chunking gives the
//! same frames, agreement with an independent framer, and robustness on arbitrary bytes.

mod common;

use std::collections::BTreeMap;

use corsd::framing::{FrameKind, Framer, FramerStats, frames, rtcm3_frame};
use proptest::prelude::*;

/// Tiny deterministic generator for chunk sizes (no rand dependency).
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn chunked(data: &[u8], seed: u64, max: usize) -> (Vec<(FrameKind, Vec<u8>)>, FramerStats) {
    let mut rng = XorShift(seed | 1);
    let mut f = Framer::new();
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let n = (1 + (rng.next() as usize) % max).min(data.len() - at);
        f.push(&data[at..at + n]);
        at += n;
        while let Some(fr) = f.next_frame() {
            out.push((fr.kind, fr.bytes.to_vec()));
        }
    }
    f.finish();
    while let Some(fr) = f.next_frame() {
        out.push((fr.kind, fr.bytes.to_vec()));
    }
    (out, f.stats().clone())
}

fn rtcm_counts(frames: &[(FrameKind, Vec<u8>)]) -> BTreeMap<u16, usize> {
    let mut m = BTreeMap::new();
    for (k, b) in frames {
        if *k == FrameKind::Rtcm3 {
            let n = ((b[3] as u16) << 4) | (b[4] as u16 >> 4);
            *m.entry(n).or_insert(0) += 1;
        }
    }
    m
}

#[test]
fn rtcm_frame_counts_match_the_manifest() {
    let expect: &[(&str, usize, &[(u16, usize)])] = &[
        (
            "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3",
            7934,
            &[
                (1006, 131),
                (1008, 131),
                (1013, 132),
                (1019, 363),
                (1020, 242),
                (1033, 131),
                (1042, 42),
                (1044, 4),
                (1045, 34),
                (1046, 34),
                (1074, 1311),
                (1084, 1312),
                (1094, 1312),
                (1114, 1312),
                (1124, 1312),
                (1230, 131),
            ],
        ),
        (
            "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3",
            6857,
            &[
                (1006, 113),
                (1008, 113),
                (1013, 113),
                (1019, 314),
                (1020, 205),
                (1033, 114),
                (1042, 44),
                (1044, 3),
                (1045, 28),
                (1046, 28),
                (1074, 1133),
                (1084, 1134),
                (1124, 1134),
                (1230, 113),
            ],
        ),
        (
            "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3",
            9384,
            &[
                (1006, 38),
                (1008, 1125),
                (1013, 1125),
                (1019, 113),
                (1020, 38),
                (1033, 38),
                (1044, 38),
                (1045, 113),
                (1230, 1126),
            ],
        ),
        (
            "rtcm3/swift-nav_gnss-converters/sept.rtcm",
            296,
            &[(1077, 56), (1127, 55), (1006, 4)],
        ),
        (
            "rtcm3/semuconsulting_pygnssutils/ntrip_encode_none.bin",
            292,
            &[(1042, 33), (1127, 32), (4094, 7)],
        ),
        (
            "rtcm3/semuconsulting_pygnssutils/ntrip_encode_chunked.bin",
            292,
            &[(1042, 33), (1127, 32)],
        ),
        (
            "rtcm3/semuconsulting_pyrtcm/pygpsdata-NTRIP-USCL00CHL0.log",
            35,
            &[],
        ),
        (
            "rtcm3/semuconsulting_pygnssutils/pygpsdata-rtcm3.log",
            1106,
            &[(1005, 158), (1127, 158), (4072, 158)],
        ),
    ];
    for (file, total, types) in expect {
        let (fr, stats) = frames(&common::read_data(file));
        let counts = rtcm_counts(&fr);
        assert_eq!(stats.rtcm3_frames as usize, *total, "{file}");
        for (t, n) in *types {
            assert_eq!(counts.get(t).copied().unwrap_or(0), *n, "{file}: type {t}");
        }
        assert_eq!(stats.rtcm3_crc_errors, 0, "{file}");
    }
}

#[test]
fn partial_frame_and_http_chunks_are_discarded_exactly() {
    let (_, s) = frames(&common::read_data(
        "rtcm3/semuconsulting_pygnssutils/ntrip_encode_none.bin",
    ));
    assert_eq!(s.discarded_bytes, 420);
    let (none, _) = frames(&common::read_data(
        "rtcm3/semuconsulting_pygnssutils/ntrip_encode_none.bin",
    ));
    let (chunked, s) = frames(&common::read_data(
        "rtcm3/semuconsulting_pygnssutils/ntrip_encode_chunked.bin",
    ));
    assert_eq!(
        none, chunked,
        "the same 292 frames inside HTTP chunked encoding"
    );
    assert_eq!(s.bad_frames(), 0);
}

#[test]
fn mixed_and_nmea_logs() {
    let (_, s) = frames(&common::read_data(
        "rtcm3/semuconsulting_pygnssutils/pygpsdata-rtcm3.log",
    ));
    assert_eq!(
        (s.rtcm3_frames, s.nmea_frames, s.ubx_frames),
        (1106, 4661, 174)
    );
    assert_eq!(s.discarded_bytes, 0);
    let expect = [
        ("nmea/gpsd/ublox-zed-f9p-nmea.log", 1015),
        ("nmea/gpsd/unicore-um621.log", 882),
        (
            "nmea/gpsd/quectel-l76k-nmea.log",
            150 * 5 + 450 * 3 + 150 + 30,
        ),
        ("nmea/gpsd/nmea-rtk.log", 72 * 2 + 50 * 2),
    ];
    for (file, n) in expect {
        let (_, s) = frames(&common::read_data(file));
        assert_eq!(s.nmea_frames, n, "{file}");
        assert_eq!(s.nmea_errors, 0, "{file}");
    }
    // The Teseo log has exactly one sentence with a bad checksum (and "$$" starts, which are not
    // errors: the first `$` is noise).
    let (_, s) = frames(&common::read_data("nmea/gpsd/st-teseo-liv4f.log"));
    assert_eq!(s.nmea_errors, 1);
}

#[test]
fn any_chunking_gives_the_same_frames_and_stats() {
    for file in common::RTCM_FILES.iter().chain(common::NMEA_FILES) {
        let data = common::read_data(file);
        let whole = frames(&data);
        for seed in [1, 2, 3] {
            assert_eq!(chunked(&data, seed, 4096), whole, "{file} seed {seed}");
        }
        if data.len() < 200_000 {
            assert_eq!(chunked(&data, 9, 1), whole, "{file} byte by byte");
        }
    }
}

#[test]
fn same_frames_as_rtcm_rs() {
    for file in common::RTCM_FILES {
        let data = common::read_data(file);
        let ours: Vec<Vec<u8>> = frames(&data)
            .0
            .into_iter()
            .filter(|(k, _)| *k == FrameKind::Rtcm3)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(ours, common::rtcm_rs_frames(&data), "{file}");
    }
}

/// RTKLIB finds 7919 frames in this file; every one of the 7934 is valid.
#[test]
fn dropped_packets_gives_all_7934_frames() {
    let (fr, s) = frames(&common::read_data(
        "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3",
    ));
    assert_eq!(fr.len(), 7934);
    assert_eq!(s.bad_frames(), 0);
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            any::<u8>(),
            Just(0xD3u8),
            Just(b'$'),
            Just(0xB5u8),
            Just(0x62u8),
            Just(b'\n')
        ],
        0..300,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..4000), seed in 1u64..1000) {
        let whole = frames(&data);
        prop_assert_eq!(chunked(&data, seed, 64), whole.clone());
        let s = whole.1;
        let framed: usize = whole.0.iter().map(|(_, b)| b.len()).sum();
        prop_assert_eq!(framed as u64 + s.discarded_bytes, data.len() as u64);
    }

    #[test]
    fn valid_frames_in_garbage_are_all_found(
        pieces in prop::collection::vec((garbage(), prop::collection::vec(any::<u8>(), 2..200), 0u8..3), 1..8)
    ) {
        let mut data = Vec::new();
        let mut want = Vec::new();
        for (g, payload, kind) in &pieces {
            data.extend_from_slice(g);
            let frame = match kind {
                0 => rtcm3_frame(payload),
                1 => {
                    let body: String = payload.iter().map(|b| (b'A' + b % 26) as char).take(70).collect();
                    let cs = corsd::framing::nmea_checksum(body.as_bytes());
                    format!("${body}*{cs:02X}\r\n").into_bytes()
                }
                _ => {
                    let mut f = vec![0xB5, 0x62, 0x01, 0x07];
                    f.extend_from_slice(&(payload.len() as u16).to_le_bytes());
                    f.extend_from_slice(payload);
                    let (a, b) = corsd::framing::ubx_checksum(&f[2..]);
                    f.extend_from_slice(&[a, b]);
                    f
                }
            };
            data.extend_from_slice(&frame);
            want.push(frame);
        }
        let (got, _) = frames(&data);
        let got: Vec<Vec<u8>> = got.into_iter().map(|(_, b)| b).collect();
        // Every planted frame is found, in order (garbage may contain extra valid frames by
        // chance, which is fine).
        let mut it = got.iter();
        for w in &want {
            prop_assert!(it.any(|g| g == w), "frame {:?} not found", w);
        }
    }
}
