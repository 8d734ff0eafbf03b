//! UBX payloads as tables of little-endian fields.
//!
//! `ubx_block!` turns one table — field name, UBX wire type (`U1 I1 U2 I2 U4 I4 R4 R8`, byte
//! arrays for bitfields and reserved bytes) and, for scaled fields, the scale to SI units — into
//! the struct, its nom parser and its writer, so that each field's width and scale is written
//! once and decoding and encoding cannot drift apart. A scaled field is an `f64` whose name
//! carries the unit (`lat_deg`, `height_m`); an unscaled one keeps the wire type.

use nom::IResult;
use nom::Parser;
use nom::number::complete::{le_f32, le_f64, le_i8, le_i16, le_i32, le_u8, le_u16, le_u32};

use super::UbxError;

/// UBX wire types.
pub(crate) type U1 = u8;
pub(crate) type I1 = i8;
pub(crate) type U2 = u16;
pub(crate) type I2 = i16;
pub(crate) type U4 = u32;
pub(crate) type I4 = i32;
pub(crate) type R4 = f32;
pub(crate) type R8 = f64;
/// Reserved or bitfield bytes kept as they came.
pub(crate) type B2 = [u8; 2];
pub(crate) type B3 = [u8; 3];
pub(crate) type B4 = [u8; 4];
pub(crate) type B17 = [u8; 17];

/// A little-endian wire value.
pub(crate) trait Le: Sized + Copy {
    const SIZE: usize;
    fn parse(i: &[u8]) -> IResult<&[u8], Self>;
    fn put(self, out: &mut Vec<u8>);
}

macro_rules! le_number {
    ($($t:ty => $p:ident),*) => {$(
        impl Le for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline]
            fn parse(i: &[u8]) -> IResult<&[u8], Self> {
                $p.parse(i)
            }
            #[inline]
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
le_number!(u8 => le_u8, i8 => le_i8, u16 => le_u16, i16 => le_i16, u32 => le_u32,
    i32 => le_i32, f32 => le_f32, f64 => le_f64);

impl<const N: usize> Le for [u8; N] {
    const SIZE: usize = N;
    #[inline]
    fn parse(i: &[u8]) -> IResult<&[u8], Self> {
        let (rest, bytes) = nom::bytes::complete::take(N).parse(i)?;
        let mut a = [0u8; N];
        a.copy_from_slice(bytes);
        Ok((rest, a))
    }
    #[inline]
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self);
    }
}

/// A scaled wire value: its SI value, and back (rounded to the nearest step, saturating).
pub(crate) trait Scaled: Le {
    fn to_si(self, scale: f64) -> f64;
    fn from_si(v: f64, scale: f64) -> Self;
}

macro_rules! scaled_int {
    ($($t:ty),*) => {$(
        impl Scaled for $t {
            #[inline]
            fn to_si(self, scale: f64) -> f64 {
                self as f64 * scale
            }
            #[inline]
            fn from_si(v: f64, scale: f64) -> Self {
                // `as` saturates and maps NaN to 0: absurd values cannot panic here.
                (v / scale).round() as $t
            }
        }
    )*};
}
scaled_int!(u8, i8, u16, i16, u32, i32);

/// A fixed-size block of fields: a whole payload, or one repeated group of one.
pub trait Block: Sized {
    /// Bytes on the wire.
    const LEN: usize;
    /// Parse the block at the start of `i`.
    fn parse(i: &[u8]) -> IResult<&[u8], Self>;
    /// Append the block's wire bytes.
    fn write(&self, out: &mut Vec<u8>);
}

/// A payload of one block.
pub(crate) fn decode_fixed<B: Block>(name: &'static str, payload: &[u8]) -> Result<B, UbxError> {
    if payload.len() != B::LEN {
        return Err(UbxError::length(name, B::LEN, payload.len()));
    }
    B::parse(payload)
        .map(|(_, b)| b)
        .map_err(|_| UbxError::length(name, B::LEN, payload.len()))
}

/// A payload of a head block followed by `count(head)` group blocks, nothing else.
pub(crate) fn decode_groups<H: Block, G: Block>(
    name: &'static str,
    payload: &[u8],
    count: impl Fn(&H) -> usize,
) -> Result<(H, Vec<G>), UbxError> {
    let (mut rest, head) =
        H::parse(payload).map_err(|_| UbxError::length(name, H::LEN, payload.len()))?;
    let n = count(&head);
    let expect = H::LEN + n * G::LEN;
    if payload.len() != expect {
        return Err(UbxError::length(name, expect, payload.len()));
    }
    let mut groups = Vec::with_capacity(n);
    for _ in 0..n {
        let (r, g) = G::parse(rest).map_err(|_| UbxError::length(name, expect, payload.len()))?;
        groups.push(g);
        rest = r;
    }
    Ok((head, groups))
}

/// The wire bytes of a head block and its groups.
pub(crate) fn encode_groups<H: Block, G: Block>(head: &H, groups: &[G]) -> Vec<u8> {
    let mut out = Vec::with_capacity(H::LEN + groups.len() * G::LEN);
    head.write(&mut out);
    for g in groups {
        g.write(&mut out);
    }
    out
}

/// Declare a fixed block of little-endian fields (a whole payload, or one repeated group).
macro_rules! ubx_block {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $raw:ident $(* $scale:expr)? ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::messages::ubx::fields::ubx_block!(@ty $raw $(, $scale)?), )+
        }

        impl $name {
            /// Bytes on the wire.
            pub const LEN: usize = 0 $( + <$crate::messages::ubx::fields::$raw as $crate::messages::ubx::fields::Le>::SIZE )+;
        }

        impl $crate::messages::ubx::fields::Block for $name {
            const LEN: usize = $name::LEN;

            fn parse(i: &[u8]) -> nom::IResult<&[u8], Self> {
                #[allow(unused_imports)]
                use $crate::messages::ubx::fields::{Le, Scaled};
                $(
                    let (i, $field) = <$crate::messages::ubx::fields::$raw as Le>::parse(i)?;
                    let $field = $crate::messages::ubx::fields::ubx_block!(@si $field $(, $scale)?);
                )+
                Ok((i, $name { $( $field, )+ }))
            }

            fn write(&self, out: &mut Vec<u8>) {
                #[allow(unused_imports)]
                use $crate::messages::ubx::fields::{Le, Scaled};
                $(
                    let raw: $crate::messages::ubx::fields::$raw =
                        $crate::messages::ubx::fields::ubx_block!(@wire self.$field, $raw $(, $scale)?);
                    raw.put(out);
                )+
            }
        }
    };
    (@ty $raw:ident) => { $crate::messages::ubx::fields::$raw };
    (@ty $raw:ident, $scale:expr) => { f64 };
    (@si $v:ident) => { $v };
    (@si $v:ident, $scale:expr) => { $v.to_si($scale) };
    (@wire $v:expr, $raw:ident) => { $v };
    (@wire $v:expr, $raw:ident, $scale:expr) => {
        <$crate::messages::ubx::fields::$raw as Scaled>::from_si($v, $scale)
    };
}

pub(crate) use ubx_block;

/// A message of one fixed block: its u-blox name, decoder and encoder.
macro_rules! ubx_fixed {
    ($name:ident = $label:literal) => {
        impl $name {
            pub const NAME: &'static str = $label;

            pub fn decode(payload: &[u8]) -> Result<$name, $crate::messages::ubx::UbxError> {
                $crate::messages::ubx::fields::decode_fixed(Self::NAME, payload)
            }

            pub fn encode(&self) -> Vec<u8> {
                let mut out = Vec::with_capacity(<$name as $crate::messages::ubx::Block>::LEN);
                $crate::messages::ubx::Block::write(self, &mut out);
                out
            }
        }
    };
}

pub(crate) use ubx_fixed;

/// A message of a head block and the repeated blocks it counts: the struct, its u-blox name,
/// decoder and encoder (which takes the count from the blocks, at most 255 of them).
macro_rules! ubx_groups {
    (
        $(#[$meta:meta])*
        $name:ident = $label:literal { $head:ident, $groups:ident: $group:ident, count: $count:ident }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        pub struct $name {
            pub head: $head,
            pub $groups: Vec<$group>,
        }

        impl $name {
            pub const NAME: &'static str = $label;

            pub fn decode(payload: &[u8]) -> Result<$name, $crate::messages::ubx::UbxError> {
                let (head, $groups) = $crate::messages::ubx::fields::decode_groups::<$head, $group>(
                    Self::NAME,
                    payload,
                    |h| h.$count.into(),
                )?;
                Ok($name { head, $groups })
            }

            pub fn encode(&self) -> Vec<u8> {
                let mut head = self.head.clone();
                let groups = &self.$groups[..self.$groups.len().min(255)];
                head.$count = groups.len() as u8;
                $crate::messages::ubx::fields::encode_groups(&head, groups)
            }
        }
    };
}

pub(crate) use ubx_groups;

/// Bit `n` of a bitfield byte.
#[inline]
pub(crate) fn bit(v: u32, n: u32) -> bool {
    (v >> n) & 1 == 1
}

/// Bits `lo ..= lo + width - 1` of a bitfield.
#[inline]
pub(crate) fn bits(v: u32, lo: u32, width: u32) -> u32 {
    (v >> lo) & ((1u32 << width) - 1)
}

#[cfg(test)]
mod tests {
    use super::Block;
    ubx_block! {
        /// A block with every kind of field.
        Sample {
            a: U1,
            b_m: I4 * 1e-3,
            c: R8,
            d: B2,
            e_deg: U2 * 1e-2,
        }
    }

    #[test]
    fn a_block_round_trips_and_knows_its_length() {
        let wire = [
            7u8, 0x18, 0xFC, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 9, 8, 0x10, 0x27,
        ];
        assert_eq!(Sample::LEN, wire.len());
        let (rest, s) = Sample::parse(&wire).unwrap();
        assert!(rest.is_empty());
        assert_eq!(s.a, 7);
        assert_eq!(s.b_m, -1.0);
        assert_eq!(s.c, 1.0);
        assert_eq!(s.d, [9, 8]);
        assert_eq!(s.e_deg, 100.0);
        let mut out = Vec::new();
        s.write(&mut out);
        assert_eq!(out, wire);
        assert!(Sample::parse(&wire[..5]).is_err());
    }

    #[test]
    fn bitfields() {
        assert!(super::bit(0b100, 2));
        assert!(!super::bit(0b100, 1));
        assert_eq!(super::bits(0b1101_0000, 4, 3), 0b101);
    }
}
