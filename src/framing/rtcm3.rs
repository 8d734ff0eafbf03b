//! What a consumer of whole RTCM3 frames reads without decoding them: the message number and,
//! for observation messages, whether more of the same epoch follow. This is the one place that
//! reads the RTCM3 header; the message content is decoded in `messages`.

/// The message number (DF002, the first 12 bits) of a payload, if it has one.
pub fn message_number(payload: &[u8]) -> Option<u16> {
    if payload.len() < 2 {
        return None;
    }
    Some(((payload[0] as u16) << 4) | ((payload[1] as u16) >> 4))
}

/// The whole length (header, payload, CRC) of the RTCM3 frame that starts `bytes`, from its
/// 10-bit length field; `None` when `bytes` does not start with a preamble and a length.
pub fn frame_len(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [0xD3, hi, lo, ..] => Some((((*hi & 0x03) as usize) << 8 | *lo as usize) + 6),
        _ => None,
    }
}

/// The payload of a whole frame (between the 3-byte header and the CRC); empty for a frame too
/// short to have one.
pub fn payload(frame: &[u8]) -> &[u8] {
    frame.get(3..frame.len().saturating_sub(3)).unwrap_or(&[])
}

/// For an observation message, whether more observation messages of its epoch follow (the MSM
/// multiple-message bit, the synchronous GNSS flag of 1001–1004 and 1009–1012); `None` for any
/// other payload.
pub fn more_of_epoch(payload: &[u8]) -> Option<bool> {
    // Bit offset in the payload: message number 12, station 12, then the epoch time (30 bits
    // for MSM and GPS, 27 for GLONASS legacy).
    let bit = match message_number(payload)? {
        1071..=1137 | 1001..=1004 => 12 + 12 + 30,
        1009..=1012 => 12 + 12 + 27,
        _ => return None,
    };
    payload.get(bit / 8).map(|b| b & (0x80 >> (bit % 8)) != 0)
}

/// [`more_of_epoch`] of a whole frame.
pub fn epoch_mark(frame: &[u8]) -> Option<bool> {
    more_of_epoch(frame.get(3..)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(number: u16, bit: usize, set: bool) -> Vec<u8> {
        let mut payload = vec![0u8; 20];
        payload[0] = (number >> 4) as u8;
        payload[1] = ((number & 0xF) << 4) as u8;
        if set {
            payload[bit / 8] |= 0x80 >> (bit % 8);
        }
        let mut f = vec![0xD3, 0, payload.len() as u8];
        f.extend_from_slice(&payload);
        f.extend_from_slice(&[0, 0, 0]);
        f
    }

    #[test]
    fn multiple_message_bit_and_synchronous_flag() {
        for (n, bit) in [(1077, 54), (1127, 54), (1087, 54), (1004, 54), (1012, 51)] {
            assert_eq!(epoch_mark(&frame(n, bit, true)), Some(true), "{n}");
            assert_eq!(epoch_mark(&frame(n, bit, false)), Some(false), "{n}");
        }
        assert_eq!(epoch_mark(&frame(1005, 54, true)), None);
        assert_eq!(epoch_mark(&frame(1019, 54, true)), None);
        assert_eq!(epoch_mark(&[0xD3, 0]), None);
    }

    #[test]
    fn number_and_payload() {
        let f = frame(1077, 0, false);
        assert_eq!(message_number(payload(&f)), Some(1077));
        assert_eq!(payload(&[0xD3, 0]), b"");
        assert_eq!(frame_len(&f), Some(f.len()));
        assert_eq!(frame_len(&[0xD3, 0]), None);
        assert_eq!(message_number(&[0x3E]), None);
    }
}
