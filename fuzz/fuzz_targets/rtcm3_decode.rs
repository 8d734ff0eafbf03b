//! Arbitrary RTCM3 payloads: decoding never panics, and what decodes encodes and decodes again.
#![no_main]

use corsd::messages::rtcm3;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = rtcm3::decode(data) {
        let enc = m.encode();
        let again = rtcm3::decode(&enc).expect("an encoded message decodes");
        assert_eq!(again.encode(), enc, "encoding is stable");
        let _ = serde_json::to_string(&m);
    }
});
