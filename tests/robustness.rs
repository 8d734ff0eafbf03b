//! Every frame of every recording round-trips through decode → encode, and no payload — random,
//! truncated or with flipped bits — makes a decoder or encoder panic.

mod common;

use corsd::messages::rtcm3;
use proptest::prelude::*;

#[test]
fn every_frame_of_every_file_round_trips() {
    let mut n = 0;
    for (file, frame) in common::all_rtcm_frames() {
        let p = common::payload(&frame);
        let msg = rtcm3::decode(p).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(msg.encode(), p, "{file}: message {}", msg.number());
        let framed = corsd::framing::rtcm3_frame(&msg.encode());
        assert_eq!(framed, frame, "{file}: frame");
        n += 1;
    }
    assert_eq!(
        n,
        7934 + 6857 + 9384 + 296 + 292 + 292 + 1106 + 35,
        "frames in the data set"
    );
}

/// A sample of real payloads (one per message type) to mutate.
fn samples() -> Vec<Vec<u8>> {
    let mut seen = std::collections::BTreeSet::new();
    common::all_rtcm_frames()
        .into_iter()
        .filter_map(|(_, f)| {
            let p = common::payload(&f).to_vec();
            seen.insert(rtcm3::message_number(&p)).then_some(p)
        })
        .collect()
}

const NUMBERS: &[u16] = &[
    1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1019, 1020, 1029,
    1033, 1042, 1044, 1045, 1046, 1071, 1074, 1075, 1077, 1081, 1084, 1087, 1091, 1094, 1097, 1101,
    1104, 1107, 1111, 1114, 1117, 1121, 1122, 1123, 1124, 1125, 1126, 1127, 1131, 1137, 1230,
];

fn exercise(p: &[u8]) {
    if let Ok(m) = rtcm3::decode(p) {
        let again = m.encode();
        // Whatever decoded must decode again from its own encoding.
        let _ = rtcm3::decode(&again).map(|m2| m2.encode());
        let _ = serde_json::to_string(&m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_payloads_of_every_type(k in 0..NUMBERS.len(), body in prop::collection::vec(any::<u8>(), 0..400)) {
        let n = NUMBERS[k];
        let mut p = vec![(n >> 4) as u8, ((n & 0xF) << 4) as u8];
        p.extend_from_slice(&body);
        exercise(&p);
    }

    #[test]
    fn mutated_real_payloads(sel in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..6), cut in any::<prop::sample::Index>()) {
        thread_local!(static S: Vec<Vec<u8>> = samples());
        S.with(|s| {
            let mut p = s[sel.index(s.len())].clone();
            for (at, bit) in &flips {
                let i = at.index(p.len());
                p[i] ^= 1 << bit;
            }
            exercise(&p);
            let keep = cut.index(p.len() + 1);
            exercise(&p[..keep]);
        });
    }
}
