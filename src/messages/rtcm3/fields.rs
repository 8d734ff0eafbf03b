//! Messages that are a fixed sequence of data fields, declared as a table.
//!
//! `fixed_message!` turns one table — field name, Rust type, data field — into the struct, its
//! decoder and its encoder, so that each field's width, encoding and scale is written once and
//! decode and encode cannot drift apart.

use crate::messages::bits::{BResult, BitWriter, Bits, Df};

/// A struct field that a [`Df`] reads and writes.
pub(crate) trait Field: Sized {
    fn read<'a>(df: &Df, i: Bits<'a>) -> BResult<'a, Self>;
    fn write(&self, df: &Df, w: &mut BitWriter);
}

impl Field for f64 {
    fn read<'a>(df: &Df, i: Bits<'a>) -> BResult<'a, Self> {
        df.val(i)
    }
    fn write(&self, df: &Df, w: &mut BitWriter) {
        df.put(w, *self)
    }
}

impl Field for Option<f64> {
    fn read<'a>(df: &Df, i: Bits<'a>) -> BResult<'a, Self> {
        df.opt(i)
    }
    fn write(&self, df: &Df, w: &mut BitWriter) {
        df.put_opt(w, *self)
    }
}

impl Field for bool {
    fn read<'a>(df: &Df, i: Bits<'a>) -> BResult<'a, Self> {
        df.raw(i).map(|(r, v)| (r, v != 0))
    }
    fn write(&self, df: &Df, w: &mut BitWriter) {
        df.put_raw(w, *self as i64)
    }
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn read<'a>(df: &Df, i: Bits<'a>) -> BResult<'a, Self> {
                // The field is at most as wide as the type it is declared with.
                df.raw(i).map(|(r, v)| (r, v as $t))
            }
            fn write(&self, df: &Df, w: &mut BitWriter) {
                df.put_raw(w, *self as i64)
            }
        }
    )*};
}
int_field!(u8, u16, u32, u64, i8, i16, i32);

/// Declare a message as a table of fields after DF002 (the message number).
macro_rules! fixed_message {
    (
        $(#[$meta:meta])*
        $name:ident = $number:expr;
        $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $df:expr ),+ $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )+
        }

        impl $name {
            pub const NUMBER: u16 = $number;

            pub fn number(&self) -> u16 {
                $number
            }

            pub fn decode(payload: &[u8]) -> Result<Self, $crate::messages::rtcm3::DecodeError> {
                use $crate::messages::rtcm3::fields::Field;
                let number = $crate::messages::rtcm3::message_number(payload).ok_or(
                    $crate::messages::rtcm3::DecodeError::Empty { len: payload.len() },
                )?;
                if number != $number {
                    return Err($crate::messages::rtcm3::DecodeError::Invalid {
                        number,
                        field: "message number",
                        value: number as i64,
                    });
                }
                let e = $crate::messages::rtcm3::DecodeError::truncated(number);
                let i = $crate::messages::rtcm3::after_number(payload);
                $( let (i, $field) = <$ty as Field>::read(&$df, i).map_err(&e)?; )+
                let _ = i;
                Ok($name { $( $field, )+ })
            }

            pub fn encode(&self) -> Vec<u8> {
                use $crate::messages::rtcm3::fields::Field;
                let mut w = $crate::messages::bits::BitWriter::with_capacity(64);
                $crate::messages::rtcm3::df::DF002.put_raw(&mut w, $number);
                $( Field::write(&self.$field, &$df, &mut w); )+
                w.finish()
            }
        }
    };
}

pub(crate) use fixed_message;
