//! Arbitrary bytes in arbitrary chunks: the framer never panics, gives the same frames whatever
//! the chunking, and accounts for every byte.
#![no_main]

use corsd::framing::{Framer, frames};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, data)) = data.split_first() else { return };
    let (whole, stats) = frames(data);
    let mut f = Framer::new();
    let mut got = Vec::new();
    let step = (seed as usize % 97) + 1;
    for chunk in data.chunks(step) {
        f.push(chunk);
        while let Some(fr) = f.next_frame() {
            got.push((fr.kind, fr.bytes.to_vec()));
        }
    }
    f.finish();
    while let Some(fr) = f.next_frame() {
        got.push((fr.kind, fr.bytes.to_vec()));
    }
    assert_eq!(got, whole);
    let framed: usize = whole.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(framed as u64 + stats.discarded_bytes, data.len() as u64);
    for (_, b) in &whole {
        if b.first() == Some(&0xD3) {
            let _ = corsd::messages::rtcm3::decode(&b[3..b.len() - 3]);
        }
    }
});
