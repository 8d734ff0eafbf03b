//! Arbitrary UBX messages and navigation words: decoding never panics, what decodes encodes
//! back to the same payload, and the receiver state takes any sequence of them.
#![no_main]

use corsd::messages::navmsg::{NavDecoder, NavUnit};
use corsd::messages::ubx::{self, UbxReceiver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rx = UbxReceiver::new(None);
    // Each record: class, ID, a length byte, then that many payload bytes.
    let mut rest = data;
    while let [class, id, len, tail @ ..] = rest {
        let n = (*len as usize).min(tail.len());
        let (payload, next) = tail.split_at(n);
        if let Ok(m) = ubx::decode(*class, *id, payload) {
            assert_eq!(m.encode(), payload, "encode(decode(p)) == p");
            let _ = rx.push(&m);
            let _ = serde_json::to_string(&m);
        }
        rest = next;
    }
    // The same bytes as navigation words of every system.
    let mut words = [0u32; 10];
    for (w, c) in words.iter_mut().zip(data.chunks(4)) {
        let mut b = [0u8; 4];
        b[..c.len()].copy_from_slice(c);
        *w = u32::from_be_bytes(b);
    }
    let mut page = [0u8; 32];
    let n = data.len().min(32);
    page[..n].copy_from_slice(&data[..n]);
    let mut string = [0u8; 11];
    string.copy_from_slice(&page[..11]);
    let prn = data.first().copied().unwrap_or(1) % 64;
    let mut d = NavDecoder::new();
    for unit in [
        NavUnit::Lnav { sys: corsd::gnss::Gnss::Gps, prn, words },
        NavUnit::Inav { prn, page },
        NavUnit::Bds { prn, words },
        NavUnit::Glonass { slot: prn % 32 + 1, channel: None, string, frame: words[9] },
    ] {
        let _ = d.push(&unit);
    }
});
