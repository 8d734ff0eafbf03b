//! u-blox UBX messages: typed structs in SI units, decoded from and encoded to the payload of a
//! frame (the bytes between the 6-byte header and the checksum). The framer in
//! [`crate::framing`] finds the frames and checks their Fletcher checksums.
//!
//! | file | messages |
//! |---|---|
//! | [`rawx`] | RXM-RAWX raw measurements → [`crate::gnss::obs`] signal observations |
//! | [`sfrbx`] | RXM-SFRBX navigation words → [`crate::messages::navmsg`] units |
//! | [`nav`] | NAV-PVT, NAV-STATUS, NAV-SAT, NAV-SIG: the receiver's own fix and sky |
//! | [`mon`] | MON-RF, MON-HW: jamming, AGC and antenna status |
//! | [`signals`] | `gnssId`/`svId`/`sigId`/`freqId` → system, satellite, RINEX code, frequency |
//! | [`receiver`] | one receiver's message stream → epochs (with slip flags) and ephemerides |
//! | [`cfg`] | CFG-VALSET of the keys a base needs, and the receiver's ACK/NAK |
//!
//! Each message is declared as a table of little-endian fields (`fields.rs`, [`Block`]); any other class
//! and ID decodes to [`Ubx::Other`], which keeps the payload. Invariant: for every payload `p`
//! that decodes, `encode(&decode(p)?) == p`.

pub mod cfg;
pub(crate) mod fields;
pub mod mon;
pub mod nav;
pub mod rawx;
pub mod receiver;
pub mod sfrbx;
pub mod signals;

use serde::Serialize;

pub use fields::Block;
pub use receiver::{NavEphemeris, UbxEvent, UbxReceiver, UbxStats};

/// Class and ID of each decoded message.
pub const RXM_RAWX: (u8, u8) = (0x02, 0x15);
pub const RXM_SFRBX: (u8, u8) = (0x02, 0x13);
pub const NAV_PVT: (u8, u8) = (0x01, 0x07);
pub const NAV_STATUS: (u8, u8) = (0x01, 0x03);
pub const NAV_SAT: (u8, u8) = (0x01, 0x35);
pub const NAV_SIG: (u8, u8) = (0x01, 0x43);
pub const MON_RF: (u8, u8) = (0x0A, 0x38);
pub const MON_HW: (u8, u8) = (0x0A, 0x09);

/// Why a payload could not be decoded. The frame's checksum held, so the stream is in sync:
/// only this message is skipped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UbxError {
    /// A payload whose length does not match its message, or the count of repeated blocks it
    /// declares.
    #[error("{msg}: payload of {got} bytes, {expect} expected")]
    Length {
        msg: &'static str,
        expect: usize,
        got: usize,
    },
    /// Bytes that are not a whole UBX frame (sync characters, header, checksum).
    #[error("not a UBX frame ({len} bytes)")]
    NotFrame { len: usize },
}

impl UbxError {
    pub(crate) fn length(msg: &'static str, expect: usize, got: usize) -> UbxError {
        UbxError::Length { msg, expect, got }
    }

    /// Whether the stream can go on after this error (always: the frame boundary is known).
    pub fn can_continue(&self) -> bool {
        true
    }

    /// A short, stable name of the error kind, for counters and "logged once per kind".
    pub fn kind(&self) -> &'static str {
        match self {
            UbxError::Length { .. } => "length",
            UbxError::NotFrame { .. } => "not_frame",
        }
    }
}

/// A message kept as its payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OtherMessage {
    pub class: u8,
    pub id: u8,
    pub payload: Vec<u8>,
}

/// A decoded UBX message.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Ubx {
    Rawx(rawx::Rawx),
    Sfrbx(sfrbx::Sfrbx),
    NavPvt(nav::NavPvt),
    NavStatus(nav::NavStatus),
    NavSat(nav::NavSat),
    NavSig(nav::NavSig),
    MonRf(mon::MonRf),
    MonHw(mon::MonHw),
    /// Any other class and ID (configuration, acknowledgements, other NAV/MON/RXM/SEC
    /// messages, proprietary ones).
    Other(OtherMessage),
}

/// Decode the payload of message `class`/`id`.
pub fn decode(class: u8, id: u8, payload: &[u8]) -> Result<Ubx, UbxError> {
    Ok(match (class, id) {
        RXM_RAWX => Ubx::Rawx(rawx::Rawx::decode(payload)?),
        RXM_SFRBX => Ubx::Sfrbx(sfrbx::Sfrbx::decode(payload)?),
        NAV_PVT => Ubx::NavPvt(nav::NavPvt::decode(payload)?),
        NAV_STATUS => Ubx::NavStatus(nav::NavStatus::decode(payload)?),
        NAV_SAT => Ubx::NavSat(nav::NavSat::decode(payload)?),
        NAV_SIG => Ubx::NavSig(nav::NavSig::decode(payload)?),
        MON_RF => Ubx::MonRf(mon::MonRf::decode(payload)?),
        MON_HW => Ubx::MonHw(mon::MonHw::decode(payload)?),
        _ => Ubx::Other(OtherMessage {
            class,
            id,
            payload: payload.to_vec(),
        }),
    })
}

/// Decode a whole frame (sync characters, class, ID, length, payload, checksum), as the framer
/// returns it.
pub fn decode_frame(frame: &[u8]) -> Result<Ubx, UbxError> {
    let not = || UbxError::NotFrame { len: frame.len() };
    if frame.len() < 8 || frame[..2] != [0xB5, 0x62] {
        return Err(not());
    }
    let len = usize::from(u16::from_le_bytes([frame[4], frame[5]]));
    if frame.len() != len + 8 {
        return Err(not());
    }
    decode(frame[2], frame[3], &frame[6..6 + len])
}

/// A whole frame around a payload: sync characters, class, ID, length and checksum. Payloads
/// over 65 535 bytes cannot be framed and are cut there.
pub fn frame(class: u8, id: u8, payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(usize::from(u16::MAX))];
    let mut f = Vec::with_capacity(payload.len() + 8);
    f.extend_from_slice(&[0xB5, 0x62, class, id]);
    f.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    f.extend_from_slice(payload);
    let (a, b) = crate::framing::ubx_checksum(&f[2..]);
    f.extend_from_slice(&[a, b]);
    f
}

impl Ubx {
    /// Class and ID.
    pub fn class_id(&self) -> (u8, u8) {
        match self {
            Ubx::Rawx(_) => RXM_RAWX,
            Ubx::Sfrbx(_) => RXM_SFRBX,
            Ubx::NavPvt(_) => NAV_PVT,
            Ubx::NavStatus(_) => NAV_STATUS,
            Ubx::NavSat(_) => NAV_SAT,
            Ubx::NavSig(_) => NAV_SIG,
            Ubx::MonRf(_) => MON_RF,
            Ubx::MonHw(_) => MON_HW,
            Ubx::Other(m) => (m.class, m.id),
        }
    }

    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Ubx::Rawx(m) => m.encode(),
            Ubx::Sfrbx(m) => m.encode(),
            Ubx::NavPvt(m) => m.encode(),
            Ubx::NavStatus(m) => m.encode(),
            Ubx::NavSat(m) => m.encode(),
            Ubx::NavSig(m) => m.encode(),
            Ubx::MonRf(m) => m.encode(),
            Ubx::MonHw(m) => m.encode(),
            Ubx::Other(m) => m.payload.clone(),
        }
    }

    /// The whole frame.
    pub fn to_frame(&self) -> Vec<u8> {
        let (class, id) = self.class_id();
        frame(class, id, &self.encode())
    }
}

/// The u-blox name of a message (`RXM-RAWX`, `NAV-PVT`; `CFG-0x8A` for IDs not named here), for
/// counters and logs.
pub fn message_name(class: u8, id: u8) -> String {
    let group = match class {
        0x01 => "NAV",
        0x02 => "RXM",
        0x04 => "INF",
        0x05 => "ACK",
        0x06 => "CFG",
        0x09 => "UPD",
        0x0A => "MON",
        0x0D => "TIM",
        0x10 => "ESF",
        0x13 => "MGA",
        0x21 => "LOG",
        0x27 => "SEC",
        0x28 => "HNR",
        _ => return format!("UBX-0x{class:02X}-0x{id:02X}"),
    };
    let name = match (class, id) {
        RXM_RAWX => "RAWX",
        RXM_SFRBX => "SFRBX",
        (0x02, 0x14) => "MEASX",
        (0x02, 0x32) => "RTCM",
        NAV_PVT => "PVT",
        NAV_STATUS => "STATUS",
        NAV_SAT => "SAT",
        NAV_SIG => "SIG",
        (0x01, 0x01) => "POSECEF",
        (0x01, 0x02) => "POSLLH",
        (0x01, 0x12) => "VELNED",
        (0x01, 0x13) => "HPPOSECEF",
        (0x01, 0x14) => "HPPOSLLH",
        (0x01, 0x21) => "TIMEUTC",
        (0x01, 0x24) => "TIMEBDS",
        (0x01, 0x25) => "TIMEGAL",
        (0x01, 0x26) => "TIMELS",
        (0x01, 0x04) => "DOP",
        (0x01, 0x11) => "VELECEF",
        (0x01, 0x20) => "TIMEGPS",
        (0x01, 0x22) => "CLOCK",
        (0x01, 0x3B) => "SVIN",
        (0x01, 0x61) => "EOE",
        MON_RF => "RF",
        MON_HW => "HW",
        (0x0A, 0x04) => "VER",
        (0x05, 0x01) => "ACK",
        (0x05, 0x00) => "NAK",
        (0x06, 0x8A) => "VALSET",
        (0x06, 0x8B) => "VALGET",
        (0x27, 0x09) => "SIG",
        (0x27, 0x0A) => "OSNMA",
        (0x0D, 0x01) => "TP",
        _ => return format!("{group}-0x{id:02X}"),
    };
    format!("{group}-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let f = frame(0x06, 0x8A, &[1, 2, 3]);
        assert_eq!(&f[..6], &[0xB5, 0x62, 0x06, 0x8A, 3, 0]);
        let (frames, stats) = crate::framing::frames(&f);
        assert_eq!(frames.len(), 1);
        assert_eq!(stats.ubx_frames, 1);
        let m = decode_frame(&f).unwrap();
        assert_eq!(m.class_id(), (0x06, 0x8A));
        assert_eq!(m.to_frame(), f);
        assert_eq!(decode_frame(&f[..7]), Err(UbxError::NotFrame { len: 7 }));
    }

    #[test]
    fn names() {
        assert_eq!(message_name(0x02, 0x15), "RXM-RAWX");
        assert_eq!(message_name(0x01, 0x99), "NAV-0x99");
        assert_eq!(message_name(0x77, 0x01), "UBX-0x77-0x01");
    }

    #[test]
    fn counts_that_do_not_fit_the_payload_are_length_errors() {
        // RAWX header claiming 2 measurements, carrying 1.
        let mut p = vec![0u8; 16 + 32];
        p[11] = 2;
        assert_eq!(
            decode(0x02, 0x15, &p),
            Err(UbxError::Length {
                msg: "RXM-RAWX",
                expect: 80,
                got: 48
            })
        );
        assert!(matches!(
            decode(0x01, 0x07, &[0; 91]),
            Err(UbxError::Length { .. })
        ));
        assert!(matches!(
            decode(0x02, 0x13, &[0; 3]),
            Err(UbxError::Length { .. })
        ));
    }
}
