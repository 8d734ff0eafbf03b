//! Setting up a u-blox F9 receiver as a base: UBX-CFG-VALSET (0x06 0x8A) messages of
//! configuration keys, and what the receiver's UBX-ACK-ACK (0x05 0x01) / ACK-NAK (0x05 0x00)
//! answers mean.
//!
//! A key's ID carries its value's size in bits 28–30 (1: one bit sent as one byte, 2: one byte,
//! 3: two, 4: four, 5: eight); values are little-endian. The keys, IDs and types are those of
//! the u-blox F9 interface description (the same table pyubx2 carries, against which the
//! frames are tested byte for byte).
//!
//! [`base_plan`] groups the keys a base needs by purpose, one VALSET each: a receiver that
//! refuses one (ACK-NAK) refuses the whole message, so the group names the keys refused.

use nalgebra::Vector3;

/// VALSET and the acknowledgements.
pub const CFG_VALSET: (u8, u8) = (0x06, 0x8A);
pub const ACK_ACK: (u8, u8) = (0x05, 0x01);
pub const ACK_NAK: (u8, u8) = (0x05, 0x00);

/// Memory layers of a VALSET: RAM (in force now) and battery-backed RAM (kept over a restart).
pub const LAYER_RAM: u8 = 1;
pub const LAYER_BBR: u8 = 2;

/// A configuration key: its u-blox name and ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub id: u32,
}

impl Key {
    /// Bytes of the value (from the size bits of the ID).
    pub fn value_len(&self) -> usize {
        match (self.id >> 28) & 0x7 {
            1 | 2 => 1,
            3 => 2,
            4 => 4,
            _ => 8,
        }
    }
}

macro_rules! keys {
    ($($c:ident = $id:literal,)*) => {
        $(pub const $c: Key = Key { name: stringify!($c), id: $id };)*
    };
}

keys! {
    CFG_MSGOUT_UBX_RXM_RAWX_UART1 = 0x209102A5,
    CFG_MSGOUT_UBX_RXM_RAWX_UART2 = 0x209102A6,
    CFG_MSGOUT_UBX_RXM_RAWX_USB = 0x209102A7,
    CFG_MSGOUT_UBX_RXM_SFRBX_UART1 = 0x20910232,
    CFG_MSGOUT_UBX_RXM_SFRBX_UART2 = 0x20910233,
    CFG_MSGOUT_UBX_RXM_SFRBX_USB = 0x20910234,
    CFG_MSGOUT_UBX_MON_RF_UART1 = 0x2091035A,
    CFG_MSGOUT_UBX_MON_RF_UART2 = 0x2091035B,
    CFG_MSGOUT_UBX_MON_RF_USB = 0x2091035C,
    CFG_MSGOUT_UBX_NAV_PVT_UART1 = 0x20910007,
    CFG_MSGOUT_UBX_NAV_PVT_UART2 = 0x20910008,
    CFG_MSGOUT_UBX_NAV_PVT_USB = 0x20910009,
    CFG_MSGOUT_UBX_NAV_STATUS_UART1 = 0x2091001B,
    CFG_MSGOUT_UBX_NAV_STATUS_UART2 = 0x2091001C,
    CFG_MSGOUT_UBX_NAV_STATUS_USB = 0x2091001D,
    CFG_UART1OUTPROT_UBX = 0x10740001,
    CFG_UART1OUTPROT_NMEA = 0x10740002,
    CFG_UART2OUTPROT_UBX = 0x10760001,
    CFG_UART2OUTPROT_NMEA = 0x10760002,
    CFG_USBOUTPROT_UBX = 0x10780001,
    CFG_USBOUTPROT_NMEA = 0x10780002,
    CFG_RATE_MEAS = 0x30210001,
    CFG_RATE_NAV = 0x30210002,
    CFG_SIGNAL_GPS_ENA = 0x1031001F,
    CFG_SIGNAL_GPS_L1CA_ENA = 0x10310001,
    CFG_SIGNAL_GPS_L2C_ENA = 0x10310003,
    CFG_SIGNAL_GAL_ENA = 0x10310021,
    CFG_SIGNAL_GAL_E1_ENA = 0x10310007,
    CFG_SIGNAL_GAL_E5B_ENA = 0x1031000A,
    CFG_SIGNAL_BDS_ENA = 0x10310022,
    CFG_SIGNAL_BDS_B1_ENA = 0x1031000D,
    CFG_SIGNAL_BDS_B2_ENA = 0x1031000E,
    CFG_SIGNAL_QZSS_ENA = 0x10310024,
    CFG_SIGNAL_QZSS_L1CA_ENA = 0x10310012,
    CFG_SIGNAL_QZSS_L2C_ENA = 0x10310015,
    CFG_SIGNAL_GLO_ENA = 0x10310025,
    CFG_SIGNAL_GLO_L1_ENA = 0x10310018,
    CFG_SIGNAL_GLO_L2_ENA = 0x1031001A,
    CFG_SIGNAL_SBAS_ENA = 0x10310020,
    CFG_TMODE_MODE = 0x20030001,
    CFG_TMODE_POS_TYPE = 0x20030002,
    CFG_TMODE_ECEF_X = 0x40030003,
    CFG_TMODE_ECEF_Y = 0x40030004,
    CFG_TMODE_ECEF_Z = 0x40030005,
    CFG_TMODE_ECEF_X_HP = 0x20030006,
    CFG_TMODE_ECEF_Y_HP = 0x20030007,
    CFG_TMODE_ECEF_Z_HP = 0x20030008,
    CFG_TMODE_FIXED_POS_ACC = 0x4003000F,
    CFG_TMODE_SVIN_MIN_DUR = 0x40030010,
    CFG_TMODE_SVIN_ACC_LIMIT = 0x40030011,
}

/// One key set to a value (its raw integer; the width comes from the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Key,
    pub value: i64,
}

/// The payload of a CFG-VALSET (no transaction) of `items` in `layers`. At most 64 keys fit
/// one message; more are cut there.
pub fn valset_payload(layers: u8, items: &[KeyValue]) -> Vec<u8> {
    let mut p = vec![0, layers, 0, 0];
    for kv in items.iter().take(64) {
        p.extend_from_slice(&kv.key.id.to_le_bytes());
        p.extend_from_slice(&kv.value.to_le_bytes()[..kv.key.value_len()]);
    }
    p
}

/// The port of the receiver corsd is connected to: where its messages must go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    Uart1,
    Uart2,
    Usb,
}

impl Port {
    pub fn parse(s: &str) -> Option<Port> {
        Some(match s.to_ascii_uppercase().as_str() {
            "UART1" => Port::Uart1,
            "UART2" => Port::Uart2,
            "USB" => Port::Usb,
            _ => return None,
        })
    }
}

/// How the receiver knows where it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BaseMode {
    /// The surveyed antenna position (ECEF, m) and its accuracy (m).
    Fixed { ecef: Vector3<f64>, accuracy_m: f64 },
    /// Survey-in for at least `min_s` until the mean is better than `accuracy_m`.
    SurveyIn { min_s: u32, accuracy_m: f64 },
}

/// The systems a base tracks (each with its two signals of an F9P).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Systems {
    pub gps: bool,
    pub glonass: bool,
    pub galileo: bool,
    pub beidou: bool,
    pub qzss: bool,
}

impl Default for Systems {
    fn default() -> Self {
        Systems {
            gps: true,
            glonass: true,
            galileo: true,
            beidou: true,
            qzss: true,
        }
    }
}

/// What a base receiver is set to.
#[derive(Clone, Debug, PartialEq)]
pub struct BaseSetup {
    pub port: Port,
    /// Measurement interval (ms).
    pub rate_ms: u16,
    pub systems: Systems,
    /// Keep NMEA output on the port (off: UBX only).
    pub nmea: bool,
    pub mode: BaseMode,
    /// RAM and BBR, or RAM only.
    pub layers: u8,
}

/// One VALSET of a plan: what it is for, and its keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub purpose: &'static str,
    pub items: Vec<KeyValue>,
}

impl Step {
    /// The whole frame.
    pub fn frame(&self, layers: u8) -> Vec<u8> {
        super::frame(
            CFG_VALSET.0,
            CFG_VALSET.1,
            &valset_payload(layers, &self.items),
        )
    }

    /// The key names and values, for messages.
    pub fn keys(&self) -> String {
        self.items
            .iter()
            .map(|kv| format!("{}={}", kv.key.name, kv.value))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn kv(key: Key, value: i64) -> KeyValue {
    KeyValue { key, value }
}

/// The VALSETs that make a receiver a base, in the order they are sent.
pub fn base_plan(s: &BaseSetup) -> Vec<Step> {
    let (rawx, sfrbx, rf, pvt, status, ubx, nmea) = match s.port {
        Port::Uart1 => (
            CFG_MSGOUT_UBX_RXM_RAWX_UART1,
            CFG_MSGOUT_UBX_RXM_SFRBX_UART1,
            CFG_MSGOUT_UBX_MON_RF_UART1,
            CFG_MSGOUT_UBX_NAV_PVT_UART1,
            CFG_MSGOUT_UBX_NAV_STATUS_UART1,
            CFG_UART1OUTPROT_UBX,
            CFG_UART1OUTPROT_NMEA,
        ),
        Port::Uart2 => (
            CFG_MSGOUT_UBX_RXM_RAWX_UART2,
            CFG_MSGOUT_UBX_RXM_SFRBX_UART2,
            CFG_MSGOUT_UBX_MON_RF_UART2,
            CFG_MSGOUT_UBX_NAV_PVT_UART2,
            CFG_MSGOUT_UBX_NAV_STATUS_UART2,
            CFG_UART2OUTPROT_UBX,
            CFG_UART2OUTPROT_NMEA,
        ),
        Port::Usb => (
            CFG_MSGOUT_UBX_RXM_RAWX_USB,
            CFG_MSGOUT_UBX_RXM_SFRBX_USB,
            CFG_MSGOUT_UBX_MON_RF_USB,
            CFG_MSGOUT_UBX_NAV_PVT_USB,
            CFG_MSGOUT_UBX_NAV_STATUS_USB,
            CFG_USBOUTPROT_UBX,
            CFG_USBOUTPROT_NMEA,
        ),
    };
    let on = |b: bool| i64::from(b);
    let sys = s.systems;
    let mut plan = vec![
        Step {
            purpose: "outputs",
            items: vec![
                kv(ubx, 1),
                kv(nmea, on(s.nmea)),
                kv(rawx, 1),
                kv(sfrbx, 1),
                // Health once per epoch is more than the 10 s points need; every 5th.
                kv(rf, 5),
                kv(pvt, 1),
                kv(status, 5),
            ],
        },
        Step {
            purpose: "measurement rate",
            items: vec![kv(CFG_RATE_MEAS, i64::from(s.rate_ms)), kv(CFG_RATE_NAV, 1)],
        },
        Step {
            purpose: "signals",
            items: vec![
                kv(CFG_SIGNAL_GPS_ENA, on(sys.gps)),
                kv(CFG_SIGNAL_GPS_L1CA_ENA, on(sys.gps)),
                kv(CFG_SIGNAL_GPS_L2C_ENA, on(sys.gps)),
                kv(CFG_SIGNAL_GAL_ENA, on(sys.galileo)),
                kv(CFG_SIGNAL_GAL_E1_ENA, on(sys.galileo)),
                kv(CFG_SIGNAL_GAL_E5B_ENA, on(sys.galileo)),
                kv(CFG_SIGNAL_BDS_ENA, on(sys.beidou)),
                kv(CFG_SIGNAL_BDS_B1_ENA, on(sys.beidou)),
                kv(CFG_SIGNAL_BDS_B2_ENA, on(sys.beidou)),
                kv(CFG_SIGNAL_QZSS_ENA, on(sys.qzss)),
                kv(CFG_SIGNAL_QZSS_L1CA_ENA, on(sys.qzss)),
                kv(CFG_SIGNAL_QZSS_L2C_ENA, on(sys.qzss)),
                kv(CFG_SIGNAL_GLO_ENA, on(sys.glonass)),
                kv(CFG_SIGNAL_GLO_L1_ENA, on(sys.glonass)),
                kv(CFG_SIGNAL_GLO_L2_ENA, on(sys.glonass)),
                // SBAS corrections would move a base's own fix; its raw data is not needed.
                kv(CFG_SIGNAL_SBAS_ENA, 0),
            ],
        },
    ];
    let mode = match s.mode {
        BaseMode::Fixed { ecef, accuracy_m } => {
            // cm in the I4 fields and 0.1 mm in the I1 high-precision ones (−99…99).
            let split = |v: f64| {
                let tenth_mm = (v * 1e4).round() as i64;
                let cm = tenth_mm / 100;
                (cm, tenth_mm - cm * 100)
            };
            let (x, xh) = split(ecef.x);
            let (y, yh) = split(ecef.y);
            let (z, zh) = split(ecef.z);
            vec![
                kv(CFG_TMODE_MODE, 2),
                kv(CFG_TMODE_POS_TYPE, 0),
                kv(CFG_TMODE_ECEF_X, x),
                kv(CFG_TMODE_ECEF_Y, y),
                kv(CFG_TMODE_ECEF_Z, z),
                kv(CFG_TMODE_ECEF_X_HP, xh),
                kv(CFG_TMODE_ECEF_Y_HP, yh),
                kv(CFG_TMODE_ECEF_Z_HP, zh),
                kv(CFG_TMODE_FIXED_POS_ACC, (accuracy_m * 1e4).round() as i64),
            ]
        }
        BaseMode::SurveyIn { min_s, accuracy_m } => vec![
            kv(CFG_TMODE_MODE, 1),
            kv(CFG_TMODE_SVIN_MIN_DUR, i64::from(min_s)),
            kv(CFG_TMODE_SVIN_ACC_LIMIT, (accuracy_m * 1e4).round() as i64),
        ],
    };
    plan.push(Step {
        purpose: "base mode",
        items: mode,
    });
    plan
}

/// What a frame from the receiver says about a VALSET sent: `Some(true)` acknowledged,
/// `Some(false)` refused, `None` not an answer to it.
pub fn answer(frame: &[u8]) -> Option<bool> {
    if frame.len() != 10 || frame[..2] != [0xB5, 0x62] || frame[4..6] != [2, 0] {
        return None;
    }
    if frame[6..8] != [CFG_VALSET.0, CFG_VALSET.1] {
        return None;
    }
    match (frame[2], frame[3]) {
        ACK_ACK => Some(true),
        ACK_NAK => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_from_the_key_ids() {
        assert_eq!(CFG_SIGNAL_GPS_ENA.value_len(), 1);
        assert_eq!(CFG_RATE_MEAS.value_len(), 2);
        assert_eq!(CFG_TMODE_ECEF_X.value_len(), 4);
        let p = valset_payload(3, &[kv(CFG_RATE_MEAS, 1000), kv(CFG_TMODE_ECEF_X_HP, -7)]);
        assert_eq!(
            p,
            [
                0, 3, 0, 0, 1, 0, 0x21, 0x30, 0xE8, 0x03, 6, 0, 3, 0x20, 0xF9
            ]
        );
    }

    #[test]
    fn fixed_position_splits_into_cm_and_tenths_of_mm() {
        let plan = base_plan(&BaseSetup {
            port: Port::Usb,
            rate_ms: 1000,
            systems: Systems::default(),
            nmea: false,
            mode: BaseMode::Fixed {
                ecef: Vector3::new(-1234567.8912, 6000000.00005, -0.0123),
                accuracy_m: 0.02,
            },
            layers: LAYER_RAM,
        });
        let m = &plan[3].items;
        let v = |k: Key| m.iter().find(|i| i.key == k).unwrap().value;
        assert_eq!(
            (v(CFG_TMODE_ECEF_X), v(CFG_TMODE_ECEF_X_HP)),
            (-123_456_789, -12)
        );
        assert_eq!(
            (v(CFG_TMODE_ECEF_Y), v(CFG_TMODE_ECEF_Y_HP)),
            (600_000_000, 1)
        );
        assert_eq!((v(CFG_TMODE_ECEF_Z), v(CFG_TMODE_ECEF_Z_HP)), (-1, -23));
        assert_eq!(v(CFG_TMODE_FIXED_POS_ACC), 200);
    }

    #[test]
    fn answers() {
        let ack = super::super::frame(0x05, 0x01, &[0x06, 0x8A]);
        let nak = super::super::frame(0x05, 0x00, &[0x06, 0x8A]);
        let other = super::super::frame(0x05, 0x01, &[0x06, 0x8B]);
        assert_eq!(answer(&ack), Some(true));
        assert_eq!(answer(&nak), Some(false));
        assert_eq!(answer(&other), None);
    }
}
