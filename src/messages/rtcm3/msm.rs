//! (being written)
use super::DecodeError;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Msm {
    pub number: u16,
}
impl Msm {
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let number = super::message_number(payload).unwrap_or(0);
        Err(DecodeError::Invalid {
            number,
            field: "not decoded yet",
            value: 0,
        })
    }
    pub fn encode(&self) -> Vec<u8> {
        Vec::new()
    }
    pub fn number(&self) -> u16 {
        self.number
    }
}
pub fn is_msm(n: u16) -> bool {
    matches!(n, 1071..=1077 | 1081..=1087 | 1091..=1097 | 1101..=1107 | 1111..=1117 | 1121..=1127 | 1131..=1137)
}
