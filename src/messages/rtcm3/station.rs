//! Station description messages: 1005/1006 antenna reference point, 1007/1008 antenna,
//! 1033 receiver and antenna, 1013 system parameters, 1029 text, 1230 GLONASS code-phase biases.

use serde::Serialize;

use super::df::{DF002, DF003};
use super::{DecodeError, message_number};
use crate::messages::bits::{BitWriter, Bits, Df};

const DF021: Df = Df::u(6, 1.0);
const BIT: Df = Df::u(1, 1.0);
/// ARP ECEF coordinate, 0.0001 m.
const DF025: Df = Df::i(38, 0.0001);
const DF364: Df = Df::u(2, 1.0);
/// Antenna height, 0.0001 m.
const DF028: Df = Df::u(16, 0.0001);
const COUNT: Df = Df::u(8, 1.0);
const DF051: Df = Df::u(16, 1.0);
const DF052: Df = Df::u(17, 1.0);
const DF053: Df = Df::u(5, 1.0);
const DF055: Df = Df::u(12, 1.0);
/// Message transmission interval, 0.1 s.
const DF057: Df = Df::u(16, 0.1);
const DF138: Df = Df::u(7, 1.0);
const DF422: Df = Df::u(4, 1.0);
/// GLONASS code-phase bias, 0.02 m (−32768 = invalid).
const DF423: Df = Df::i(16, 0.02).invalid(-32768);

/// A byte string from the stream (descriptors, serial numbers, text). Kept as bytes so that it
/// re-encodes exactly even when a receiver sends non-ASCII; shown as (lossy) UTF-8.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Text(pub Vec<u8>);

impl Text {
    pub fn as_str_lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str_lossy())
    }
}

fn read_text<'a>(i: Bits<'a>, number: u16) -> Result<(Bits<'a>, Text), DecodeError> {
    let e = DecodeError::truncated(number);
    let (i, n) = COUNT.raw(i).map_err(&e)?;
    let (i, bytes) = i.take_bytes(n as usize).map_err(&e)?;
    Ok((i, Text(bytes)))
}

fn put_text(w: &mut BitWriter, t: &Text) {
    // A descriptor has at most 255 characters (8-bit count).
    let b = &t.0[..t.0.len().min(255)];
    COUNT.put_raw(w, b.len() as i64);
    w.put_bytes(b);
}

fn check_number(payload: &[u8], allowed: &[u16]) -> Result<u16, DecodeError> {
    let number = message_number(payload).ok_or(DecodeError::Empty { len: payload.len() })?;
    if allowed.contains(&number) {
        Ok(number)
    } else {
        Err(DecodeError::Invalid {
            number,
            field: "message number",
            value: number as i64,
        })
    }
}

/// 1005/1006: station antenna reference point (ECEF, m).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StationArp {
    /// 1005, or 1006 with the antenna height.
    pub number: u16,
    pub station: u16,
    /// ITRF realisation year (DF021), as transmitted.
    pub itrf_year: u8,
    pub gps: bool,
    pub glonass: bool,
    pub galileo: bool,
    /// Physical (false) or virtual/non-physical (true) reference station.
    pub non_physical: bool,
    pub x_m: f64,
    pub single_oscillator: bool,
    pub reserved: bool,
    pub y_m: f64,
    pub quarter_cycle: u8,
    pub z_m: f64,
    /// Antenna height above the marker (1006 only), m.
    pub antenna_height_m: Option<f64>,
}

impl StationArp {
    pub fn number(&self) -> u16 {
        self.number
    }

    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let number = check_number(payload, &[1005, 1006])?;
        let e = DecodeError::truncated(number);
        let i = super::after_number(payload);
        let (i, station) = DF003.raw(i).map_err(&e)?;
        let (i, itrf_year) = DF021.raw(i).map_err(&e)?;
        let (i, gps) = BIT.raw(i).map_err(&e)?;
        let (i, glonass) = BIT.raw(i).map_err(&e)?;
        let (i, galileo) = BIT.raw(i).map_err(&e)?;
        let (i, non_physical) = BIT.raw(i).map_err(&e)?;
        let (i, x_m) = DF025.val(i).map_err(&e)?;
        let (i, single_oscillator) = BIT.raw(i).map_err(&e)?;
        let (i, reserved) = BIT.raw(i).map_err(&e)?;
        let (i, y_m) = DF025.val(i).map_err(&e)?;
        let (i, quarter_cycle) = DF364.raw(i).map_err(&e)?;
        let (i, z_m) = DF025.val(i).map_err(&e)?;
        let antenna_height_m = if number == 1006 {
            Some(DF028.val(i).map_err(&e)?.1)
        } else {
            None
        };
        Ok(StationArp {
            number,
            station: station as u16,
            itrf_year: itrf_year as u8,
            gps: gps == 1,
            glonass: glonass == 1,
            galileo: galileo == 1,
            non_physical: non_physical == 1,
            x_m,
            single_oscillator: single_oscillator == 1,
            reserved: reserved == 1,
            y_m,
            quarter_cycle: quarter_cycle as u8,
            z_m,
            antenna_height_m,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(21);
        let number = if self.antenna_height_m.is_some() {
            1006
        } else {
            1005
        };
        DF002.put_raw(&mut w, number);
        DF003.put_raw(&mut w, self.station as i64);
        DF021.put_raw(&mut w, self.itrf_year as i64);
        for b in [self.gps, self.glonass, self.galileo, self.non_physical] {
            w.put_flag(b);
        }
        DF025.put(&mut w, self.x_m);
        w.put_flag(self.single_oscillator);
        w.put_flag(self.reserved);
        DF025.put(&mut w, self.y_m);
        DF364.put_raw(&mut w, self.quarter_cycle as i64);
        DF025.put(&mut w, self.z_m);
        if let Some(h) = self.antenna_height_m {
            DF028.put(&mut w, h);
        }
        w.finish()
    }
}

/// 1007/1008: antenna descriptor (and serial number in 1008).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AntennaDescriptor {
    pub number: u16,
    pub station: u16,
    pub descriptor: Text,
    pub setup_id: u8,
    pub serial: Option<Text>,
}

impl AntennaDescriptor {
    pub fn number(&self) -> u16 {
        self.number
    }

    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let number = check_number(payload, &[1007, 1008])?;
        let e = DecodeError::truncated(number);
        let i = super::after_number(payload);
        let (i, station) = DF003.raw(i).map_err(&e)?;
        let (i, descriptor) = read_text(i, number)?;
        let (i, setup_id) = COUNT.raw(i).map_err(&e)?;
        let serial = if number == 1008 {
            Some(read_text(i, number)?.1)
        } else {
            None
        };
        Ok(AntennaDescriptor {
            number,
            station: station as u16,
            descriptor,
            setup_id: setup_id as u8,
            serial,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(40);
        DF002.put_raw(&mut w, if self.serial.is_some() { 1008 } else { 1007 });
        DF003.put_raw(&mut w, self.station as i64);
        put_text(&mut w, &self.descriptor);
        COUNT.put_raw(&mut w, self.setup_id as i64);
        if let Some(s) = &self.serial {
            put_text(&mut w, s);
        }
        w.finish()
    }
}

/// 1033: receiver and antenna descriptors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReceiverDescriptor {
    pub station: u16,
    pub antenna: Text,
    pub antenna_setup_id: u8,
    pub antenna_serial: Text,
    pub receiver: Text,
    pub firmware: Text,
    pub receiver_serial: Text,
}

impl ReceiverDescriptor {
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let number = check_number(payload, &[1033])?;
        let e = DecodeError::truncated(number);
        let i = super::after_number(payload);
        let (i, station) = DF003.raw(i).map_err(&e)?;
        let (i, antenna) = read_text(i, number)?;
        let (i, antenna_setup_id) = COUNT.raw(i).map_err(&e)?;
        let (i, antenna_serial) = read_text(i, number)?;
        let (i, receiver) = read_text(i, number)?;
        let (i, firmware) = read_text(i, number)?;
        let (_, receiver_serial) = read_text(i, number)?;
        Ok(ReceiverDescriptor {
            station: station as u16,
            antenna,
            antenna_setup_id: antenna_setup_id as u8,
            antenna_serial,
            receiver,
            firmware,
            receiver_serial,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(80);
        DF002.put_raw(&mut w, 1033);
        DF003.put_raw(&mut w, self.station as i64);
        put_text(&mut w, &self.antenna);
        COUNT.put_raw(&mut w, self.antenna_setup_id as i64);
        put_text(&mut w, &self.antenna_serial);
        put_text(&mut w, &self.receiver);
        put_text(&mut w, &self.firmware);
        put_text(&mut w, &self.receiver_serial);
        w.finish()
    }
}

/// One announced message of 1013.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AnnouncedMessage {
    pub message: u16,
    pub synchronous: bool,
    pub interval_s: f64,
}

/// 1013: system parameters — time and the schedule of messages the station sends.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SystemParameters {
    pub station: u16,
    pub mjd: u16,
    pub seconds_of_day: u32,
    pub leap_seconds: u8,
    pub messages: Vec<AnnouncedMessage>,
}

impl SystemParameters {
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let number = check_number(payload, &[1013])?;
        let e = DecodeError::truncated(number);
        let i = super::after_number(payload);
        let (i, station) = DF003.raw(i).map_err(&e)?;
        let (i, mjd) = DF051.raw(i).map_err(&e)?;
        let (i, sod) = DF052.raw(i).map_err(&e)?;
        let (i, n) = DF053.raw(i).map_err(&e)?;
        let (mut i, leap) = COUNT.raw(i).map_err(&e)?;
        let mut messages = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let (r, message) = DF055.raw(i).map_err(&e)?;
            let (r, sync) = BIT.raw(r).map_err(&e)?;
            let (r, interval_s) = DF057.val(r).map_err(&e)?;
            messages.push(AnnouncedMessage {
                message: message as u16,
                synchronous: sync == 1,
                interval_s,
            });
            i = r;
        }
        Ok(SystemParameters {
            station: station as u16,
            mjd: mjd as u16,
            seconds_of_day: sod as u32,
            leap_seconds: leap as u8,
            messages,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(16 + 4 * self.messages.len());
        DF002.put_raw(&mut w, 1013);
        DF003.put_raw(&mut w, self.station as i64);
        DF051.put_raw(&mut w, self.mjd as i64);
        DF052.put_raw(&mut w, self.seconds_of_day as i64);
        let msgs = &self.messages[..self.messages.len().min(31)];
        DF053.put_raw(&mut w, msgs.len() as i64);
        COUNT.put_raw(&mut w, self.leap_seconds as i64);
        for m in msgs {
            DF055.put_raw(&mut w, m.message as i64);
            w.put_flag(m.synchronous);
            DF057.put(&mut w, m.interval_s);
        }
        w.finish()
    }
}

/// 1029: Unicode text string.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnicodeText {
    pub station: u16,
    pub mjd: u16,
    pub seconds_of_day: u32,
    /// Number of characters (not bytes) as transmitted.
    pub characters: u8,
    pub text: Text,
}

impl UnicodeText {
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let number = check_number(payload, &[1029])?;
        let e = DecodeError::truncated(number);
        let i = super::after_number(payload);
        let (i, station) = DF003.raw(i).map_err(&e)?;
        let (i, mjd) = DF051.raw(i).map_err(&e)?;
        let (i, sod) = DF052.raw(i).map_err(&e)?;
        let (i, characters) = DF138.raw(i).map_err(&e)?;
        let (_, text) = read_text(i, number)?;
        Ok(UnicodeText {
            station: station as u16,
            mjd: mjd as u16,
            seconds_of_day: sod as u32,
            characters: characters as u8,
            text,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(16 + self.text.0.len());
        DF002.put_raw(&mut w, 1029);
        DF003.put_raw(&mut w, self.station as i64);
        DF051.put_raw(&mut w, self.mjd as i64);
        DF052.put_raw(&mut w, self.seconds_of_day as i64);
        DF138.put_raw(&mut w, self.characters as i64);
        put_text(&mut w, &self.text);
        w.finish()
    }
}

/// 1230: GLONASS L1/L2 code-phase biases (m), per signal in the mask (L1 C/A, L1 P, L2 C/A,
/// L2 P); `None` where the mask bit is clear.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GloBiases {
    pub station: u16,
    /// Biases are aligned (true) or not.
    pub aligned: bool,
    pub reserved: u8,
    pub l1_ca_m: Option<f64>,
    pub l1_p_m: Option<f64>,
    pub l2_ca_m: Option<f64>,
    pub l2_p_m: Option<f64>,
    /// Mask bits set whose value is the invalid marker (kept for exact re-encoding).
    pub invalid_mask: u8,
}

impl GloBiases {
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let number = check_number(payload, &[1230])?;
        let e = DecodeError::truncated(number);
        let i = super::after_number(payload);
        let (i, station) = DF003.raw(i).map_err(&e)?;
        let (i, aligned) = BIT.raw(i).map_err(&e)?;
        let (i, reserved) = i.take(3).map_err(&e)?;
        let (mut i, mask) = DF422.raw(i).map_err(&e)?;
        let mut vals = [None; 4];
        let mut invalid_mask = 0u8;
        for (k, v) in vals.iter_mut().enumerate() {
            let bit = 1 << (3 - k);
            if mask & bit != 0 {
                let (r, x) = DF423.opt(i).map_err(&e)?;
                if x.is_none() {
                    invalid_mask |= bit as u8;
                }
                *v = x;
                i = r;
            }
        }
        Ok(GloBiases {
            station: station as u16,
            aligned: aligned == 1,
            reserved: reserved as u8,
            l1_ca_m: vals[0],
            l1_p_m: vals[1],
            l2_ca_m: vals[2],
            l2_p_m: vals[3],
            invalid_mask,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(16);
        DF002.put_raw(&mut w, 1230);
        DF003.put_raw(&mut w, self.station as i64);
        w.put_flag(self.aligned);
        w.put(3, self.reserved as u64);
        let vals = [self.l1_ca_m, self.l1_p_m, self.l2_ca_m, self.l2_p_m];
        let mut mask = self.invalid_mask & 0x0F;
        for (k, v) in vals.iter().enumerate() {
            if v.is_some() {
                mask |= 1 << (3 - k);
            }
        }
        DF422.put_raw(&mut w, mask as i64);
        for (k, v) in vals.iter().enumerate() {
            if mask & (1 << (3 - k)) != 0 {
                DF423.put_opt(&mut w, *v);
            }
        }
        w.finish()
    }
}
