//! Arbitrary sentences: parsing never panics; a parsed sentence formats and parses again.
#![no_main]

use corsd::messages::nmea;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = nmea::parse(data) {
        let text = s.to_nmea();
        let again = nmea::parse(text.as_bytes()).expect("a formatted sentence parses");
        assert_eq!(again.kind, s.kind);
        let mut sky = nmea::SkyView::new();
        sky.update(&s);
        let _ = sky.by_satellite();
    }
});
