//! (being written)
use super::DecodeError;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpsObs {
    pub number: u16,
}
impl GpsObs {
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

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GloObs {
    pub number: u16,
}
impl GloObs {
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
