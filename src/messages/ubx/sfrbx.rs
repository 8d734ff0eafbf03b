//! UBX-RXM-SFRBX (0x02 0x13): one unit of a satellite's broadcast navigation message, as the
//! receiver demodulated it, and how u-blox lays its words out.
//!
//! | signal | words | layout |
//! |---|---|---|
//! | GPS/QZSS L1 C/A LNAV | 10 | a subframe: D1…D30 of each word in bits 29…0, the previous word's D29*, D30* in bits 31, 30 |
//! | Galileo E1-B / E5b-I I/NAV | 8 | a page pair: the even part's 120 bits from word 0's bit 31 on, the odd part's from word 4's |
//! | BeiDou B1I/B2I D1, D2 | 10 | a subframe of 30-bit words in bits 29…0, de-interleaved: information bits, then parity |
//! | GLONASS L1/L2 OF | 4 | the 85-bit string from word 0's bit 31 on; word 3 numbers the frame (superframe in bits 31…16, frame in 15…0) |
//!
//! Other signals (SBAS, GPS L2C/L5 CNAV, Galileo F/NAV, BeiDou B1C/B2a) are not decoded: they
//! are counted and left.

use serde::Serialize;

use super::UbxError;
use super::fields::{decode_groups, encode_groups, ubx_block};
use super::signals;
use crate::gnss::Gnss;
use crate::messages::navmsg::{NavMsgError, NavUnit};

ubx_block! {
    /// The fixed part of RXM-SFRBX.
    SfrbxHead {
        gnss_id: U1,
        sv_id: U1,
        /// Signal (reserved, 0, in version 1).
        sig_id: U1,
        /// GLONASS: frequency channel + 7.
        freq_id: U1,
        num_words: U1,
        chn: U1,
        version: U1,
        reserved: U1,
    }
}

ubx_block! {
    /// One word of RXM-SFRBX.
    SfrbxWord {
        dwrd: U4,
    }
}

/// RXM-SFRBX.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sfrbx {
    pub head: SfrbxHead,
    pub words: Vec<u32>,
}

impl Sfrbx {
    pub const NAME: &'static str = "RXM-SFRBX";

    pub fn decode(payload: &[u8]) -> Result<Sfrbx, UbxError> {
        let (head, words) =
            decode_groups::<SfrbxHead, SfrbxWord>(Self::NAME, payload, |h| h.num_words.into())?;
        Ok(Sfrbx {
            head,
            words: words.into_iter().map(|w| w.dwrd).collect(),
        })
    }

    /// The payload; `num_words` is taken from the words (at most 255 are written).
    pub fn encode(&self) -> Vec<u8> {
        let mut head = self.head.clone();
        let words: Vec<SfrbxWord> = self
            .words
            .iter()
            .take(255)
            .map(|&dwrd| SfrbxWord { dwrd })
            .collect();
        head.num_words = words.len() as u8;
        encode_groups(&head, &words)
    }

    /// The navigation-message unit, when the signal is one corsd decodes (`Ok(None)` for the
    /// others); a unit with too few words is an error.
    pub fn nav_unit(&self) -> Result<Option<NavUnit>, NavMsgError> {
        let h = &self.head;
        let Some((sys, prn)) = signals::satellite(h.gnss_id, h.sv_id) else {
            return Ok(None);
        };
        let want = match (sys, h.sig_id) {
            (Gnss::Gps | Gnss::Qzss, 0) => 10,
            (Gnss::Galileo, 1 | 5) => 8,
            (Gnss::Beidou, 0..=3) => 10,
            (Gnss::Glonass, 0 | 2) => 4,
            _ => return Ok(None),
        };
        // Some firmware appends a word (Galileo I/NAV in 9 on HPG 1.12): the unit is the first
        // `want`.
        if self.words.len() < want {
            return Err(NavMsgError::Words {
                sys,
                prn,
                got: self.words.len(),
                want,
            });
        }
        let mut ten = [0u32; 10];
        let n = want.min(10);
        ten[..n].copy_from_slice(&self.words[..n]);
        Ok(Some(match sys {
            Gnss::Gps | Gnss::Qzss => NavUnit::Lnav {
                sys,
                prn,
                words: ten,
            },
            Gnss::Beidou => NavUnit::Bds { prn, words: ten },
            Gnss::Galileo => {
                let mut page = [0u8; 32];
                for (k, w) in ten[..8].iter().enumerate() {
                    page[4 * k..4 * k + 4].copy_from_slice(&w.to_be_bytes());
                }
                NavUnit::Inav { prn, page }
            }
            Gnss::Glonass => {
                let mut string = [0u8; 11];
                let bytes: Vec<u8> = ten[..3].iter().flat_map(|w| w.to_be_bytes()).collect();
                string.copy_from_slice(&bytes[..11]);
                NavUnit::Glonass {
                    slot: prn,
                    channel: signals::glonass_channel(h.freq_id),
                    string,
                    frame: ten[3],
                }
            }
            _ => return Ok(None),
        }))
    }
}
