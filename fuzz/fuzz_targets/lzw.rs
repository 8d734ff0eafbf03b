//! Arbitrary bytes after the `.Z` magic: expansion never panics, stays within its limit, and
//! the head of a stream is the prefix of its whole expansion.
#![no_main]

use corsd::rinex::lzw;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut z = lzw::MAGIC.to_vec();
    z.extend_from_slice(data);
    let whole = lzw::decompress(&z);
    let head = lzw::decompress_head(&z, 512);
    if let (Ok(w), Ok(h)) = (&whole, &head) {
        assert!(h.len() <= 512);
        assert_eq!(h[..], w[..h.len()]);
    }
    let _ = corsd::rinex::decode_bytes(&z);
});
