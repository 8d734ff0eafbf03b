//! Bad UBX input is counted and passed over; nothing else is lost, and no input panics:
//! a truncated frame, a bad checksum, an unknown class and ID, RXM-RAWX with 0 and with 255
//! measurements (and one whose count does not fit its length), navigation words that fail
//! their parity, CRC, BCH or Hamming check; then random bytes, random payloads of every
//! decoded message and random navigation words (proptest).

mod common;

use common::ubx::{COLDSTART, GPSD_F9P_SFRBX, RAWX_LOG, read_ubx};
use corsd::framing::Framer;
use corsd::messages::navmsg::{NavDecoder, NavUnit};
use corsd::messages::ubx::{self, Ubx, UbxEvent, UbxReceiver};
use proptest::prelude::*;

/// What a byte stream gives: epochs, ephemerides, decode errors, and the receiver and framer.
struct Run {
    epochs: usize,
    ephemerides: usize,
    decode_errors: Vec<ubx::UbxError>,
    rx: UbxReceiver,
    framer: corsd::framing::FramerStats,
}

fn run(data: &[u8], chunk: usize) -> Run {
    let mut framer = Framer::new();
    let mut rx = UbxReceiver::new(None);
    let (mut epochs, mut ephemerides, mut decode_errors) = (0, 0, Vec::new());
    let mut take = |framer: &mut Framer, rx: &mut UbxReceiver| {
        while let Some(f) = framer.next_frame() {
            match ubx::decode_frame(f.bytes) {
                Ok(m) => match rx.push(&m) {
                    Some(UbxEvent::Epoch(_)) => epochs += 1,
                    Some(UbxEvent::Ephemeris(_)) => ephemerides += 1,
                    None => {}
                },
                Err(e) => decode_errors.push(e),
            }
        }
    };
    for c in data.chunks(chunk.max(1)) {
        framer.push(c);
        take(&mut framer, &mut rx);
    }
    framer.finish();
    take(&mut framer, &mut rx);
    Run {
        epochs,
        ephemerides,
        decode_errors,
        rx,
        framer: framer.stats().clone(),
    }
}

/// The frames of a recording.
fn frames_of(rel: &str) -> Vec<Vec<u8>> {
    corsd::framing::frames(&read_ubx(rel))
        .0
        .into_iter()
        .map(|(_, b)| b)
        .collect()
}

/// A frame rebuilt around a changed message.
fn reframed(frame: &[u8], change: impl FnOnce(&mut Ubx)) -> Vec<u8> {
    let mut m = ubx::decode_frame(frame).unwrap();
    change(&mut m);
    m.to_frame()
}

#[test]
fn every_kind_of_bad_input_is_counted_and_nothing_else_is_lost() {
    let good = frames_of(RAWX_LOG);
    assert_eq!(good.len(), 14);
    let clean = run(&good.concat(), 4096);
    assert_eq!(clean.epochs, 14);

    let rawx = match ubx::decode_frame(&good[0]).unwrap() {
        Ubx::Rawx(r) => r,
        _ => unreachable!("the log is all RXM-RAWX"),
    };
    let mut stream = Vec::new();
    let push = |s: &mut Vec<u8>, f: &[u8]| s.extend_from_slice(f);
    // 1. A frame cut short: its claimed length runs into the next frame.
    let cut = &good[1][..40];
    // 2. A checksum that does not match.
    let mut bad_sum = good[2].clone();
    bad_sum[20] ^= 0x55;
    // 3. A class and ID nobody defined, with a good checksum.
    let unknown = ubx::frame(0x77, 0x01, b"who knows");
    // 4. RAWX with no measurement, one second after the last epoch.
    let mut empty = rawx.clone();
    empty.meas.clear();
    empty.head.rcv_tow_s += 100.0;
    // 5. RAWX with 255 measurements (the most the count holds), a second later.
    let mut full = rawx.clone();
    full.head.rcv_tow_s += 101.0;
    full.meas = (0..255)
        .map(|k| rawx.meas[k % rawx.meas.len()].clone())
        .collect();
    let full = Ubx::Rawx(full).to_frame();
    assert_eq!(full.len(), 8 + 16 + 255 * 32);
    // 6. RAWX whose count says 255 but which carries 3.
    let mut lying = ubx::Ubx::Rawx(rawx.clone()).encode();
    lying.truncate(16 + 3 * 32);
    lying[11] = 255;
    let lying = ubx::frame(0x02, 0x15, &lying);
    push(&mut stream, &good[0]);
    push(&mut stream, cut);
    for (k, f) in good.iter().enumerate().skip(1) {
        push(&mut stream, f);
        if k == 2 {
            push(&mut stream, &bad_sum);
        }
        if k == 5 {
            push(&mut stream, &unknown);
        }
    }
    push(&mut stream, &Ubx::Rawx(empty).to_frame());
    push(&mut stream, &full);
    push(&mut stream, &lying);
    for chunk in [1, 7, 64, 100_000] {
        let r = run(&stream, chunk);
        // Every good epoch and the one with 255 measurements.
        assert_eq!(r.epochs, 15, "chunk {chunk}");
        assert_eq!(r.framer.ubx_checksum_errors, 2, "cut and bad checksum");
        assert_eq!(r.framer.discarded_bytes, 40 + bad_sum.len() as u64);
        assert_eq!(r.rx.messages.get("UBX-0x77-0x01"), Some(&1));
        assert_eq!(r.rx.stats.empty_epochs, 1);
        assert_eq!(
            r.decode_errors,
            [ubx::UbxError::Length {
                msg: "RXM-RAWX",
                expect: 16 + 255 * 32,
                got: 16 + 3 * 32
            }]
        );
    }
}

/// The SFRBX frames of a recording, with the receiver's epochs for time.
fn with_one_word_broken(rel: &str, gnss_id: u8) -> (usize, Run, Run) {
    let frames = frames_of(rel);
    let clean = run(&frames.concat(), 4096);
    let mut broken = 0;
    let mut stream = Vec::new();
    for f in &frames {
        let mut f = f.clone();
        if let Ok(Ubx::Sfrbx(s)) = ubx::decode_frame(&f)
            && s.head.gnss_id == gnss_id
            && broken < 3
        {
            broken += 1;
            f = reframed(&f, |m| {
                if let Ubx::Sfrbx(s) = m {
                    s.words[1] ^= 1 << 12;
                }
            });
        }
        stream.extend(f);
    }
    (broken, clean, run(&stream, 4096))
}

#[test]
fn navigation_words_failing_their_checks_are_counted() {
    for (rel, gnss_id, kind) in [
        (COLDSTART, 0, "parity"),
        (COLDSTART, 2, "crc"),
        (GPSD_F9P_SFRBX, 3, "bch"),
        (GPSD_F9P_SFRBX, 6, "hamming"),
    ] {
        let (broken, clean, r) = with_one_word_broken(rel, gnss_id);
        assert_eq!(broken, 3);
        let errors = r.rx.nav_stats().errors.clone();
        assert_eq!(
            errors.get(kind),
            Some(&3),
            "{rel} gnssId {gnss_id}: {errors:?}"
        );
        assert_eq!(
            r.rx.nav_stats().units + 3,
            clean.rx.nav_stats().units,
            "{rel}: only the broken units are lost"
        );
        assert_eq!(r.epochs, clean.epochs);
        // The same sets come round again a frame later.
        assert!(
            r.ephemerides + 1 >= clean.ephemerides,
            "{rel} gnssId {gnss_id}"
        );
    }
}

#[test]
fn a_recording_with_random_damage_loses_only_the_damaged_frames() {
    let data = read_ubx(COLDSTART);
    let clean = run(&data, 65536);
    let mut damaged = data.clone();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut hits = 0;
    for _ in 0..300 {
        // xorshift: a fixed, reproducible damage pattern.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = (state % damaged.len() as u64) as usize;
        damaged[at] ^= 1 << (state >> 60 & 7);
        hits += 1;
    }
    let r = run(&damaged, 1000);
    let lost = clean.framer.ubx_frames - r.framer.ubx_frames;
    assert!(lost <= hits, "{lost} frames lost to {hits} damaged bytes");
    assert!(r.epochs + hits as usize >= clean.epochs);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..3000), chunk in 1usize..200) {
        let _ = run(&data, chunk);
    }

    #[test]
    fn random_payloads_of_every_decoded_message_round_trip(
        k in 0usize..8,
        body in prop::collection::vec(any::<u8>(), 0..600),
        count in 0u8..20,
    ) {
        let (class, id) = [
            ubx::RXM_RAWX, ubx::RXM_SFRBX, ubx::NAV_PVT, ubx::NAV_STATUS, ubx::NAV_SAT,
            ubx::NAV_SIG, ubx::MON_RF, ubx::MON_HW,
        ][k];
        // Also payloads whose count and length agree, so the groups get decoded.
        let mut fitted = body.clone();
        let (head, group, at) = match (class, id) {
            ubx::RXM_RAWX => (16, 32, 11),
            ubx::RXM_SFRBX => (8, 4, 4),
            ubx::NAV_SAT => (8, 12, 5),
            ubx::NAV_SIG => (8, 16, 5),
            ubx::MON_RF => (4, 24, 1),
            _ => (body.len(), 0, 0),
        };
        fitted.resize(head + group * usize::from(count), 0);
        if at < fitted.len() {
            fitted[at] = count;
        }
        for p in [&body, &fitted] {
            if let Ok(m) = ubx::decode(class, id, p) {
                prop_assert_eq!(&m.encode(), p);
                let mut rx = UbxReceiver::new(None);
                let _ = rx.push(&m);
                let _ = serde_json::to_string(&m);
            }
        }
    }

    #[test]
    fn random_navigation_words_never_panic(
        words in prop::array::uniform10(any::<u32>()),
        prn in 1u8..64,
        kind in 0u8..4,
    ) {
        let mut d = NavDecoder::new();
        let unit = match kind {
            0 => NavUnit::Lnav { sys: corsd::gnss::Gnss::Gps, prn, words },
            1 => {
                let mut page = [0u8; 32];
                for (i, w) in words.iter().take(8).enumerate() {
                    page[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
                }
                NavUnit::Inav { prn, page }
            }
            2 => NavUnit::Bds { prn, words },
            _ => {
                let mut string = [0u8; 11];
                string.copy_from_slice(&words.iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<_>>()[..11]);
                NavUnit::Glonass { slot: prn % 32 + 1, channel: None, string, frame: words[9] }
            }
        };
        for _ in 0..3 {
            let _ = d.push(&unit);
        }
    }
}
