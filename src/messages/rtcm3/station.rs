//! (being written)
use super::DecodeError;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StationArp {
    pub number: u16,
}
impl StationArp {
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
pub struct AntennaDescriptor {
    pub number: u16,
}
impl AntennaDescriptor {
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
pub struct ReceiverDescriptor {
    pub number: u16,
}
impl ReceiverDescriptor {
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
pub struct SystemParameters {
    pub number: u16,
}
impl SystemParameters {
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
pub struct UnicodeText {
    pub number: u16,
}
impl UnicodeText {
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
pub struct GloBiases {
    pub number: u16,
}
impl GloBiases {
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
