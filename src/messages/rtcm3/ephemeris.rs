//! (being written)
use super::DecodeError;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpsEph {
    pub number: u16,
}
impl GpsEph {
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
pub struct GloEph {
    pub number: u16,
}
impl GloEph {
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
pub struct BdsEph {
    pub number: u16,
}
impl BdsEph {
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
pub struct QzsEph {
    pub number: u16,
}
impl QzsEph {
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
pub struct GalEph {
    pub number: u16,
}
impl GalEph {
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
