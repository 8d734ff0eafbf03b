//! Bit-level nom parsers and the matching writer.
//!
//! RTCM3 (and RTCM 2, UBX bitfields) pack fields MSB first with no byte alignment. The input type
//! [`Bits`] is a cursor over a byte slice at a bit position; the parsers are ordinary nom parsers
//! (`Fn(Bits) -> IResult<Bits, T, BitError>`), so they compose with nom's combinators.
//!
//! Reading does one unaligned big-endian 64-bit load per field in the common case: a per-bit loop
//! (nom's own `bits::take`) costs several times more on MSM7, where almost every field is
//! 10–24 bits wide.
//!
//! Every data field is described once by a [`Df`]: width, integer encoding, scale and the raw value
//! that means "invalid". Decoding multiplies by the scale, encoding divides and rounds, which is
//! exact for power-of-two scales and for any scale whose quantisation step is far above the f64
//! rounding error, so decode → encode gives back the same bits.

use nom::error::{ErrorKind, ParseError};
use nom::{Err, IResult};

/// A read position inside a byte slice, counted in bits from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    /// Bits consumed since the start of the slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bits left to read.
    pub fn remaining(&self) -> usize {
        self.data.len() * 8 - self.pos
    }

    /// The underlying slice (the whole of it, not only the unread part).
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Skip `n` bits.
    pub fn skip(self, n: usize) -> BResult<'a, ()> {
        if n > self.remaining() {
            return Err(Err::Error(BitError::short(self, n)));
        }
        Ok((
            Bits {
                data: self.data,
                pos: self.pos + n,
            },
            (),
        ))
    }

    /// Read `n` ≤ 64 bits as an unsigned integer.
    #[inline(always)]
    pub fn take(self, n: u32) -> BResult<'a, u64> {
        debug_assert!(n <= 64);
        let n_us = n as usize;
        if n_us > self.remaining() {
            return Err(Err::Error(BitError::short(self, n_us)));
        }
        if n == 0 {
            return Ok((self, 0));
        }
        let byte = self.pos >> 3;
        let off = (self.pos & 7) as u32;
        let v = if off + n <= 64 && byte + 8 <= self.data.len() {
            // Fast path: one unaligned load covers the field.
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.data[byte..byte + 8]);
            (u64::from_be_bytes(w) << off) >> (64 - n)
        } else {
            // Near the end of the slice, or a field that straddles 9 bytes: load what is there
            // into a zero-padded 128-bit window.
            let mut w = [0u8; 16];
            let end = (byte + 16).min(self.data.len());
            w[..end - byte].copy_from_slice(&self.data[byte..end]);
            ((u128::from_be_bytes(w) << off) >> (128 - n)) as u64
        };
        Ok((
            Bits {
                data: self.data,
                pos: self.pos + n_us,
            },
            v,
        ))
    }

    /// Read `n` bits as a two's complement signed integer.
    #[inline(always)]
    pub fn take_i(self, n: u32) -> BResult<'a, i64> {
        let (rest, v) = self.take(n)?;
        Ok((rest, sign_extend(v, n)))
    }

    /// Read `n` bits as sign-magnitude (sign bit first). Returns the value and whether the sign
    /// bit was set, so that "negative zero" survives a round trip.
    #[inline(always)]
    pub fn take_sm(self, n: u32) -> BResult<'a, (i64, bool)> {
        let (rest, v) = self.take(n)?;
        if n == 0 {
            return Ok((rest, (0, false)));
        }
        let neg = (v >> (n - 1)) & 1 == 1;
        let mag = (v & mask(n - 1)) as i64;
        Ok((rest, (if neg { -mag } else { mag }, neg)))
    }

    /// Read `n` bytes (8 bits each, not aligned).
    pub fn take_bytes(self, n: usize) -> BResult<'a, Vec<u8>> {
        if n * 8 > self.remaining() {
            return Err(Err::Error(BitError::short(self, n * 8)));
        }
        let mut out = Vec::with_capacity(n);
        let mut cur = self;
        for _ in 0..n {
            let (rest, b) = cur.take(8)?;
            out.push(b as u8);
            cur = rest;
        }
        Ok((cur, out))
    }
}

#[inline]
fn mask(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

#[inline]
fn sign_extend(v: u64, n: u32) -> i64 {
    if n == 0 {
        return 0;
    }
    let shift = 64 - n;
    ((v << shift) as i64) >> shift
}

/// Why a bit parser failed: it ran out of bits (the message is shorter than its content says),
/// or a nom combinator failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitError {
    /// Bit position at which the parser stopped.
    pub at_bit: usize,
    /// Bits the parser wanted at that position (0 when a combinator failed).
    pub wanted: usize,
    /// Bits that were left.
    pub left: usize,
    pub kind: ErrorKind,
}

impl BitError {
    fn short(at: Bits<'_>, wanted: usize) -> Self {
        BitError {
            at_bit: at.pos,
            wanted,
            left: at.remaining(),
            kind: ErrorKind::Eof,
        }
    }
}

impl<'a> ParseError<Bits<'a>> for BitError {
    fn from_error_kind(input: Bits<'a>, kind: ErrorKind) -> Self {
        BitError {
            at_bit: input.pos,
            wanted: 0,
            left: input.remaining(),
            kind,
        }
    }
    fn append(_: Bits<'a>, _: ErrorKind, other: Self) -> Self {
        other
    }
}

/// Result of a bit parser.
pub type BResult<'a, T> = IResult<Bits<'a>, T, BitError>;

/// Unwrap a nom error into the underlying [`BitError`] (bit parsers never return `Incomplete`:
/// an RTCM payload is complete by the time it is decoded).
pub fn bit_error(e: Err<BitError>) -> BitError {
    match e {
        Err::Error(e) | Err::Failure(e) => e,
        Err::Incomplete(_) => BitError {
            at_bit: 0,
            wanted: 0,
            left: 0,
            kind: ErrorKind::Eof,
        },
    }
}

/// nom parser: `n` bits unsigned.
#[inline]
pub fn u<'a>(n: u32) -> impl Fn(Bits<'a>) -> BResult<'a, u64> {
    move |i: Bits<'a>| i.take(n)
}

/// nom parser: `n` bits two's complement.
#[inline]
pub fn s<'a>(n: u32) -> impl Fn(Bits<'a>) -> BResult<'a, i64> {
    move |i: Bits<'a>| i.take_i(n)
}

/// nom parser: one bit as a flag.
#[inline]
pub fn flag(i: Bits<'_>) -> BResult<'_, bool> {
    let (i, v) = i.take(1)?;
    Ok((i, v == 1))
}

/// How a data field stores its integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    /// Unsigned binary.
    U,
    /// Two's complement.
    I,
    /// Sign-magnitude, sign bit first (RTCM "intS", used by GLONASS fields).
    Sm,
}

/// One data field: width, integer encoding, scale to SI units and the raw value meaning "invalid".
///
/// `scale` is written once per field, as an exact power of two (`P2_31` …) wherever the standard
/// defines it so; the unit is part of the constant's doc and of the struct field's name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Df {
    pub bits: u32,
    pub enc: Enc,
    pub scale: f64,
    /// Raw value that the standard reserves for "not available".
    pub invalid: Option<i64>,
}

impl Df {
    pub const fn u(bits: u32, scale: f64) -> Df {
        Df {
            bits,
            enc: Enc::U,
            scale,
            invalid: None,
        }
    }
    pub const fn i(bits: u32, scale: f64) -> Df {
        Df {
            bits,
            enc: Enc::I,
            scale,
            invalid: None,
        }
    }
    pub const fn sm(bits: u32, scale: f64) -> Df {
        Df {
            bits,
            enc: Enc::Sm,
            scale,
            invalid: None,
        }
    }
    /// The same field with a raw "invalid" marker.
    pub const fn invalid(self, raw: i64) -> Df {
        Df {
            invalid: Some(raw),
            ..self
        }
    }

    /// Raw integer (sign applied; for sign-magnitude, negative zero reads as 0).
    #[inline(always)]
    pub fn raw<'a>(&self, i: Bits<'a>) -> BResult<'a, i64> {
        match self.enc {
            Enc::U => i.take(self.bits).map(|(r, v)| (r, v as i64)),
            Enc::I => i.take_i(self.bits),
            Enc::Sm => i.take_sm(self.bits).map(|(r, (v, _))| (r, v)),
        }
    }

    /// Scaled value. Sign-magnitude negative zero becomes -0.0, so it encodes back the same.
    #[inline(always)]
    pub fn val<'a>(&self, i: Bits<'a>) -> BResult<'a, f64> {
        match self.enc {
            Enc::U => i.take(self.bits).map(|(r, v)| (r, v as f64 * self.scale)),
            Enc::I => i.take_i(self.bits).map(|(r, v)| (r, v as f64 * self.scale)),
            Enc::Sm => i.take_sm(self.bits).map(|(r, (v, neg))| {
                let x = v as f64 * self.scale;
                (r, if neg && v == 0 { -0.0 } else { x })
            }),
        }
    }

    /// Scaled value, `None` when the raw value is the field's invalid marker.
    #[inline(always)]
    pub fn opt<'a>(&self, i: Bits<'a>) -> BResult<'a, Option<f64>> {
        let before = i;
        let (rest, raw) = self.raw(i)?;
        if Some(raw) == self.invalid {
            return Ok((rest, None));
        }
        if self.enc == Enc::Sm {
            // re-read to keep the sign of zero
            let (rest, v) = self.val(before)?;
            return Ok((rest, Some(v)));
        }
        Ok((rest, Some(raw as f64 * self.scale)))
    }

    /// Integer from a scaled value, rounded to the nearest step.
    #[inline(always)]
    pub fn to_raw(&self, v: f64) -> i64 {
        // `as` saturates on overflow and maps NaN to 0: absurd values cannot panic here.
        (v / self.scale).round() as i64
    }

    /// Write a raw integer, truncated to the field width.
    #[inline(always)]
    pub fn put_raw(&self, w: &mut BitWriter, raw: i64) {
        match self.enc {
            Enc::U | Enc::I => w.put(self.bits, raw as u64),
            Enc::Sm => {
                let mag = raw.unsigned_abs();
                w.put_sm(self.bits, mag, raw < 0);
            }
        }
    }

    /// Write a scaled value.
    #[inline(always)]
    pub fn put(&self, w: &mut BitWriter, v: f64) {
        match self.enc {
            Enc::Sm => {
                let raw = self.to_raw(v);
                w.put_sm(self.bits, raw.unsigned_abs(), v.is_sign_negative());
            }
            _ => self.put_raw(w, self.to_raw(v)),
        }
    }

    /// Write a scaled value or the invalid marker.
    #[inline(always)]
    pub fn put_opt(&self, w: &mut BitWriter, v: Option<f64>) {
        match v {
            Some(v) => self.put(w, v),
            None => self.put_raw(w, self.invalid.unwrap_or(0)),
        }
    }
}

/// 2^n, exact in f64: the scale of a data field (`p2(-31)` = 2^-31).
pub const fn p2(n: i32) -> f64 {
    // Built from the bit pattern so that it is a const fn; exact for |n| ≤ 1022.
    f64::from_bits(((1023 + n) as u64) << 52)
}

/// MSB-first bit writer; the mirror of [`Bits`].
#[derive(Clone, Debug, Default)]
pub struct BitWriter {
    buf: Vec<u8>,
    acc: u64,
    nacc: u32,
}

impl BitWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            buf: Vec::with_capacity(bytes),
            acc: 0,
            nacc: 0,
        }
    }

    /// Bits written so far.
    pub fn len_bits(&self) -> usize {
        self.buf.len() * 8 + self.nacc as usize
    }

    /// Write the low `n` ≤ 64 bits of `v`.
    #[inline(always)]
    pub fn put(&mut self, n: u32, v: u64) {
        if n > 32 {
            self.put32(n - 32, v >> 32);
            self.put32(32, v);
        } else {
            self.put32(n, v);
        }
    }

    #[inline(always)]
    fn put32(&mut self, n: u32, v: u64) {
        if n == 0 {
            return;
        }
        // nacc < 8 on entry, n ≤ 32: the accumulator never overflows 64 bits.
        self.acc = (self.acc << n) | (v & mask(n));
        self.nacc += n;
        while self.nacc >= 8 {
            self.nacc -= 8;
            self.buf.push((self.acc >> self.nacc) as u8);
        }
        self.acc &= mask(self.nacc);
    }

    /// Write a two's complement integer.
    #[inline]
    pub fn put_i(&mut self, n: u32, v: i64) {
        self.put(n, v as u64);
    }

    /// Write sign-magnitude: sign bit, then `n - 1` bits of magnitude.
    #[inline]
    pub fn put_sm(&mut self, n: u32, mag: u64, negative: bool) {
        if n == 0 {
            return;
        }
        self.put(1, negative as u64);
        self.put(n - 1, mag);
    }

    pub fn put_flag(&mut self, b: bool) {
        self.put(1, b as u64);
    }

    pub fn put_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.put(8, b as u64);
        }
    }

    /// Pad with zero bits to a byte boundary and return the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        if self.nacc > 0 {
            let pad = 8 - self.nacc;
            self.put(pad, 0);
        }
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_unaligned_fields_across_bytes() {
        let data = [
            0b1010_1100,
            0b0011_1111,
            0xFF,
            0x00,
            0x12,
            0x34,
            0x56,
            0x78,
            0x9A,
        ];
        let i = Bits::new(&data);
        let (i, a) = i.take(3).unwrap();
        assert_eq!(a, 0b101);
        let (i, b) = i.take(9).unwrap();
        assert_eq!(b, 0b0_1100_0011);
        let (i, c) = i.take(60).unwrap();
        assert_eq!(c, (0xF << 56) | 0x00FF_0012_3456_789A);
        assert_eq!(i.remaining(), 0);
        assert!(i.take(1).is_err());
    }

    #[test]
    fn long_fields_at_every_offset_match_a_bit_loop() {
        let data: Vec<u8> = (0..40u32).map(|k| (k * 37 + 11) as u8).collect();
        let bit = |p: usize| (data[p / 8] >> (7 - p % 8)) & 1;
        for start in 0..80 {
            for n in 0..=64u32 {
                let want = (0..n as usize).fold(0u64, |acc, k| (acc << 1) | bit(start + k) as u64);
                let (at, _) = Bits::new(&data).skip(start).unwrap();
                let (_, got) = at.take(n).unwrap();
                assert_eq!(got, want, "start {start} n {n}");
            }
        }
    }

    #[test]
    fn signed_and_sign_magnitude() {
        let mut w = BitWriter::new();
        w.put_i(5, -3);
        w.put_sm(5, 3, true);
        w.put_sm(5, 0, true);
        let data = w.finish();
        let i = Bits::new(&data);
        let (i, a) = i.take_i(5).unwrap();
        let (i, b) = i.take_sm(5).unwrap();
        let (_, c) = i.take_sm(5).unwrap();
        assert_eq!(a, -3);
        assert_eq!(b, (-3, true));
        assert_eq!(c, (0, true));
    }

    #[test]
    fn negative_zero_round_trips_through_a_df() {
        const F: Df = Df::sm(10, p2(-4));
        let mut w = BitWriter::new();
        w.put_sm(10, 0, true);
        let data = w.finish();
        let (_, v) = F.val(Bits::new(&data)).unwrap();
        assert!(v == 0.0 && v.is_sign_negative());
        let mut w2 = BitWriter::new();
        F.put(&mut w2, v);
        assert_eq!(w2.finish(), data);
    }

    #[test]
    fn powers_of_two_are_exact() {
        assert_eq!(p2(-31), 1.0 / 2147483648.0);
        assert_eq!(p2(0), 1.0);
        assert_eq!(p2(5), 32.0);
        assert_eq!(p2(-55), 2f64.powi(-55));
    }

    #[test]
    fn df_round_trip_with_invalid_marker() {
        const F: Df = Df::i(20, 0.0005).invalid(-0x80000);
        let mut w = BitWriter::new();
        F.put_opt(&mut w, None);
        F.put_opt(&mut w, Some(-12.3455));
        let data = w.finish();
        let (i, a) = F.opt(Bits::new(&data)).unwrap();
        let (_, b) = F.opt(i).unwrap();
        assert_eq!(a, None);
        assert_eq!(F.to_raw(b.unwrap()), -24691);
    }
}
