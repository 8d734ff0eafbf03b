//! Signals as physics: the carrier frequency of a RINEX band, whatever message or file the
//! observation came from.

use super::Gnss;

/// Carrier frequency (Hz) of a band digit (`b'1'`, `b'5'`, …); GLONASS FDMA bands need the
/// channel.
pub fn carrier_hz(sys: Gnss, band: u8, glonass_channel: Option<i8>) -> Option<f64> {
    Some(match (sys, band) {
        (Gnss::Glonass, b'1') => 1_602e6 + glonass_channel? as f64 * 0.5625e6,
        (Gnss::Glonass, b'2') => 1_246e6 + glonass_channel? as f64 * 0.4375e6,
        // The CDMA signals of GLONASS-K (ICD L3OC 2016, L1OC/L2OC) share one carrier.
        (Gnss::Glonass, b'3') => 1_202.025e6,
        (Gnss::Glonass, b'4') => 1_600.995e6,
        (Gnss::Glonass, b'6') => 1_248.06e6,
        (Gnss::Beidou, b'2') => 1_561.098e6,
        (Gnss::Beidou, b'6') => 1_268.52e6,
        (Gnss::Navic, b'9') => 2_492.028e6,
        (Gnss::Glonass, _) => return None,
        (_, b'1') => 1_575.42e6,
        (_, b'2') => 1_227.60e6,
        (_, b'5') => 1_176.45e6,
        (_, b'6') => 1_278.75e6,
        (_, b'7') => 1_207.14e6,
        (_, b'8') => 1_191.795e6,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        assert_eq!(carrier_hz(Gnss::Beidou, b'2', None), Some(1_561.098e6));
        assert_eq!(carrier_hz(Gnss::Beidou, b'1', None), Some(1_575.42e6));
        assert_eq!(
            carrier_hz(Gnss::Glonass, b'1', Some(-7)),
            Some(1_598.0625e6)
        );
        assert_eq!(carrier_hz(Gnss::Glonass, b'1', None), None);
    }
}
