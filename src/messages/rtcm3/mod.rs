//! RTCM 10403.x messages: typed structs in SI units, decoded from and encoded to the payload of a
//! frame (the bytes between the 3-byte header and the CRC).
//!
//! Families, one file each, each with its own data-field table:
//!
//! | file | messages |
//! |---|---|
//! | [`legacy`] | 1001–1004 GPS and 1009–1012 GLONASS RTK observables |
//! | [`station`] | 1005/1006 ARP, 1007/1008 antenna, 1033 receiver, 1013 system parameters, 1029 text, 1230 GLONASS biases |
//! | [`ephemeris`] | 1019 GPS, 1020 GLONASS, 1042 BeiDou, 1044 QZSS, 1045/1046 Galileo F/NAV and I/NAV |
//! | [`msm`] | MSM1–7 of GPS, GLONASS, Galileo, SBAS, QZSS, BeiDou and NavIC (1071–1137) |
//! | [`obs_msm`] | observation epochs (of a receiver speaking another protocol) → MSM4–7 |
//!
//! Any other message number decodes to [`Message::Raw`], which keeps the payload so that it can be
//! forwarded and re-encoded unchanged.
//!
//! Invariant: for every payload `p` that decodes, `encode(&decode(p)?) == p`.

pub mod df;
pub mod ephemeris;
pub(crate) mod fields;
pub mod legacy;
pub mod msm;
pub mod obs_msm;
pub mod station;

use serde::Serialize;

use super::bits::{BitError, Bits};

/// A decoded RTCM3 message.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Message {
    /// 1001–1004.
    GpsObs(legacy::GpsObs),
    /// 1009–1012.
    GloObs(legacy::GloObs),
    /// 1005 and 1006.
    StationArp(station::StationArp),
    /// 1007 and 1008.
    Antenna(station::AntennaDescriptor),
    /// 1033.
    Receiver(station::ReceiverDescriptor),
    /// 1013.
    SystemParameters(station::SystemParameters),
    /// 1029.
    Text(station::UnicodeText),
    /// 1230.
    GloBiases(station::GloBiases),
    /// 1019.
    GpsEph(ephemeris::GpsEph),
    /// 1020.
    GloEph(ephemeris::GloEph),
    /// 1042.
    BdsEph(ephemeris::BdsEph),
    /// 1044.
    QzsEph(ephemeris::QzsEph),
    /// 1045 (F/NAV) and 1046 (I/NAV).
    GalEph(ephemeris::GalEph),
    /// 1071–1077, 1081–1087, 1091–1097, 1101–1107, 1111–1117, 1121–1127, 1131–1137.
    Msm(msm::Msm),
    /// Any message number this crate does not decode (proprietary 4001–4095, SSR, …).
    Raw(RawMessage),
}

/// A message kept as its payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RawMessage {
    pub number: u16,
    #[serde(serialize_with = "hex")]
    pub payload: Vec<u8>,
}

fn hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    s.serialize_str(&out)
}

/// Why a payload could not be decoded. Decode errors never end a stream: the frame was CRC-valid,
/// so the framer is in sync; only this message is skipped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The payload is shorter than the 12-bit message number.
    #[error("payload of {len} bytes is too short to hold a message number")]
    Empty { len: usize },
    /// The content (counts, masks) needs more bits than the frame carries.
    #[error("message {number}: truncated at bit {at_bit}: wanted {wanted} bits, {left} left")]
    Truncated {
        number: u16,
        at_bit: usize,
        wanted: usize,
        left: usize,
    },
    /// A field holds a value the standard does not allow.
    #[error("message {number}: field {field} has the invalid value {value}")]
    Invalid {
        number: u16,
        field: &'static str,
        value: i64,
    },
}

impl DecodeError {
    /// A short, stable name of the error kind, for counters and "logged once per kind".
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Empty { .. } => "empty",
            DecodeError::Truncated { .. } => "truncated",
            DecodeError::Invalid { .. } => "invalid_field",
        }
    }

    /// Map a bit-parser failure inside message `number`.
    pub fn truncated(number: u16) -> impl Fn(nom::Err<BitError>) -> DecodeError {
        move |e| {
            let e = super::bits::bit_error(e);
            DecodeError::Truncated {
                number,
                at_bit: e.at_bit,
                wanted: e.wanted,
                left: e.left,
            }
        }
    }
}

/// The message number is read where the frame header is: one parser for the whole crate.
pub use crate::framing::message_number;

/// Decode one payload.
pub fn decode(payload: &[u8]) -> Result<Message, DecodeError> {
    let number = message_number(payload).ok_or(DecodeError::Empty { len: payload.len() })?;
    if msm::is_msm(number) {
        return Ok(Message::Msm(msm::Msm::decode(payload)?));
    }
    decode_other(number, payload)
}

/// [`decode`] with MSMs reduced to their headers ([`msm::Msm::decode_header`]): the same
/// messages and the same errors, at a fraction of the cost for an observation stream.
pub fn decode_without_observations(payload: &[u8]) -> Result<Message, DecodeError> {
    let number = message_number(payload).ok_or(DecodeError::Empty { len: payload.len() })?;
    if msm::is_msm(number) {
        return Ok(Message::Msm(msm::Msm::decode_header(payload)?));
    }
    decode_other(number, payload)
}

fn decode_other(number: u16, payload: &[u8]) -> Result<Message, DecodeError> {
    Ok(match number {
        1001..=1004 => Message::GpsObs(legacy::GpsObs::decode(payload)?),
        1009..=1012 => Message::GloObs(legacy::GloObs::decode(payload)?),
        1005 | 1006 => Message::StationArp(station::StationArp::decode(payload)?),
        1007 | 1008 => Message::Antenna(station::AntennaDescriptor::decode(payload)?),
        1033 => Message::Receiver(station::ReceiverDescriptor::decode(payload)?),
        1013 => Message::SystemParameters(station::SystemParameters::decode(payload)?),
        1029 => Message::Text(station::UnicodeText::decode(payload)?),
        1230 => Message::GloBiases(station::GloBiases::decode(payload)?),
        1019 => Message::GpsEph(ephemeris::GpsEph::decode(payload)?),
        1020 => Message::GloEph(ephemeris::GloEph::decode(payload)?),
        1042 => Message::BdsEph(ephemeris::BdsEph::decode(payload)?),
        1044 => Message::QzsEph(ephemeris::QzsEph::decode(payload)?),
        1045 | 1046 => Message::GalEph(ephemeris::GalEph::decode(payload)?),
        _ => Message::Raw(RawMessage {
            number,
            payload: payload.to_vec(),
        }),
    })
}

impl Message {
    /// The RTCM message number.
    pub fn number(&self) -> u16 {
        match self {
            Message::GpsObs(m) => m.number(),
            Message::GloObs(m) => m.number(),
            Message::StationArp(m) => m.number(),
            Message::Antenna(m) => m.number(),
            Message::Receiver(_) => 1033,
            Message::SystemParameters(_) => 1013,
            Message::Text(_) => 1029,
            Message::GloBiases(_) => 1230,
            Message::GpsEph(_) => 1019,
            Message::GloEph(_) => 1020,
            Message::BdsEph(_) => 1042,
            Message::QzsEph(_) => 1044,
            Message::GalEph(m) => m.number(),
            Message::Msm(m) => m.number(),
            Message::Raw(m) => m.number,
        }
    }

    /// Encode to a payload (without frame header and CRC).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::GpsObs(m) => m.encode(),
            Message::GloObs(m) => m.encode(),
            Message::StationArp(m) => m.encode(),
            Message::Antenna(m) => m.encode(),
            Message::Receiver(m) => m.encode(),
            Message::SystemParameters(m) => m.encode(),
            Message::Text(m) => m.encode(),
            Message::GloBiases(m) => m.encode(),
            Message::GpsEph(m) => m.encode(),
            Message::GloEph(m) => m.encode(),
            Message::BdsEph(m) => m.encode(),
            Message::QzsEph(m) => m.encode(),
            Message::GalEph(m) => m.encode(),
            Message::Msm(m) => m.encode(),
            Message::Raw(m) => m.payload.clone(),
        }
    }
}

/// The whole bytes of a payload after the content a decoder consumed (its last partial byte is
/// padding and re-created by the encoder).
pub(crate) fn trailing_bytes(payload: &[u8], end: Bits<'_>) -> Vec<u8> {
    let used = end.position().div_ceil(8);
    payload.get(used..).map(<[u8]>::to_vec).unwrap_or_default()
}

/// Start a bit cursor on a payload, positioned after the message number.
pub(crate) fn after_number(payload: &[u8]) -> Bits<'_> {
    // The caller has checked that the payload holds at least 12 bits; if not, skipping fails and
    // the cursor stays at 0, which makes the next read fail with a Truncated error.
    let b = Bits::new(payload);
    b.skip(12).map(|(r, _)| r).unwrap_or(b)
}
