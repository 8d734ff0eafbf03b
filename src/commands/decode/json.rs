//! JSON lines without a `serde_json::Value` in between.
//!
//! `corsd decode --json` has always printed what `serde_json::to_value(msg)` prints: objects with
//! their keys in sorted order (serde_json's `Map` is a `BTreeMap` in this build), `f32` widened to
//! `f64`, non-finite floats as `null`, a repeated key keeping its last value. [`SortedJson`] gives
//! the same bytes from any `Serialize` value, written straight into the output buffer: members go
//! out in declaration order, and an object whose keys are not in order is rewritten in order at
//! the end of the buffer and moved back into place. The order of a struct's field names is worked
//! out once and remembered by the names' addresses, so the steady state sorts nothing. Keys,
//! member positions and learnt orders live in vectors kept from frame to frame: a warm writer
//! allocates nothing.
//!
//! Scalars are formatted by serde_json itself (its escaping and its float formatter), which keeps
//! every number and string exactly as `Value` printed it.

use std::fmt;

/// The 8-, 16- and 32-bit integers of a serde `Serializer`, written as their 64-bit kin.
macro_rules! widen_small_integers {
    () => {
        fn serialize_i8(self, v: i8) -> Result<()> {
            self.serialize_i64(v.into())
        }
        fn serialize_i16(self, v: i16) -> Result<()> {
            self.serialize_i64(v.into())
        }
        fn serialize_i32(self, v: i32) -> Result<()> {
            self.serialize_i64(v.into())
        }
        fn serialize_u8(self, v: u8) -> Result<()> {
            self.serialize_u64(v.into())
        }
        fn serialize_u16(self, v: u16) -> Result<()> {
            self.serialize_u64(v.into())
        }
        fn serialize_u32(self, v: u32) -> Result<()> {
            self.serialize_u64(v.into())
        }
    };
}

mod key;

use serde::ser::{self, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};

use key::KeySer;

/// Why a value could not be written (a map key that is not a string or number, an integer beyond
/// 64 bits, or the value's own `Serialize` failing): the same cases in which `to_value` fails.
#[derive(Debug)]
pub struct JsonError(String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

impl ser::Error for JsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JsonError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, JsonError>;

/// Writing into a `Vec` cannot fail; serde_json's helpers still return `io::Result`.
fn io_ok(r: std::io::Result<()>) -> Result<()> {
    r.map_err(|e| JsonError(e.to_string()))
}

/// An unsigned integer in decimal.
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = v;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A 128-bit unsigned integer in decimal (map keys only: `Value` turns them into strings).
fn push_u128(out: &mut Vec<u8>, v: u128) {
    const E19: u128 = 10_000_000_000_000_000_000;
    match u64::try_from(v) {
        Ok(v) => push_u64(out, v),
        Err(_) => {
            push_u128(out, v / E19);
            // The remainder is below 10^19 and so fits 64 bits: its digits, zero-padded to 19.
            let low = (v % E19) as u64;
            let digits = low.checked_ilog10().map_or(1, |l| l as usize + 1);
            out.resize(out.len() + 19 - digits, b'0');
            push_u64(out, low);
        }
    }
}

/// A signed integer in decimal.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// A JSON string with serde_json's escaping.
pub fn push_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
    serde_json::to_writer(&mut *out, s).map_err(|e| JsonError(e.to_string()))
}

/// A float as `serde_json::Value` prints it: shortest round-trip digits, `null` if not finite.
fn push_f64(out: &mut Vec<u8>, v: f64) -> Result<()> {
    if v.is_finite() {
        io_ok(CompactFormatter.write_f64(out, v))
    } else {
        out.extend_from_slice(b"null");
        Ok(())
    }
}

/// A member's key: a field name, or a map key written into the key store.
#[derive(Clone, Copy, Debug)]
enum Key {
    Field(&'static str),
    Stored(usize, usize),
}

/// One member written so far: its key and its `"key":value` bytes in the output.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: Key,
    span: (usize, usize),
}

/// The output order of one sequence of field names (a struct, with or without its skipped
/// fields), worked out the first time the sequence is seen.
#[derive(Debug)]
struct Order {
    names: Vec<&'static str>,
    emit: Vec<usize>,
}

/// Orders kept at most; past this, objects are sorted each time.
const ORDERS: usize = 64;

/// The reusable state of the writer.
#[derive(Debug, Default)]
pub struct SortedJson {
    keys: Vec<u8>,
    entries: Vec<Entry>,
    orders: Vec<Order>,
    emit: Vec<usize>,
    plain: PlainNames,
}

impl SortedJson {
    pub fn new() -> Self {
        Self::default()
    }

    /// `value`'s object as `to_value(value)` prints it; `{}` when it is not an object or cannot
    /// be serialised.
    pub fn write_object<T: Serialize + ?Sized>(&mut self, out: &mut Vec<u8>, value: &T) {
        self.write_top(out, None, value);
    }

    /// `{"type": number}` merged with the members of `value`'s object (whose own `type`, if any,
    /// is dropped); just `{"type": number}` when `value` is not an object or cannot be serialised.
    pub fn write_tagged<T: Serialize + ?Sized>(
        &mut self,
        out: &mut Vec<u8>,
        number: u16,
        value: &T,
    ) {
        self.write_top(out, Some(number), value);
    }

    fn write_top<T: Serialize + ?Sized>(&mut self, out: &mut Vec<u8>, tag: Option<u16>, value: &T) {
        let start = out.len();
        let mut ser = Ser {
            out: &mut *out,
            state: &mut *self,
            depth: 0,
            tag,
            top_is_object: false,
        };
        let ok = value.serialize(&mut ser).is_ok() && ser.top_is_object;
        self.keys.clear();
        self.entries.clear();
        if !ok {
            out.truncate(start);
            match tag {
                Some(n) => {
                    out.extend_from_slice(b"{\"type\":");
                    push_u64(out, n.into());
                    out.push(b'}');
                }
                None => out.extend_from_slice(b"{}"),
            }
        }
    }
}

fn key_bytes<'k>(keys: &'k [u8], k: &Key) -> &'k [u8] {
    match *k {
        Key::Field(name) => name.as_bytes(),
        Key::Stored(a, b) => &keys[a..b],
    }
}

/// The members' indices in key order, a repeated key keeping only its last value.
fn key_order(keys: &[u8], members: &[Entry], emit: &mut Vec<usize>) {
    emit.clear();
    emit.extend(0..members.len());
    // Stable: equal keys stay in the order written, so the last of each run is the one to keep.
    emit.sort_by(|&a, &b| key_bytes(keys, &members[a].key).cmp(key_bytes(keys, &members[b].key)));
    let mut kept = 0;
    for i in 0..emit.len() {
        let this = key_bytes(keys, &members[emit[i]].key);
        let next = emit.get(i + 1).map(|&j| key_bytes(keys, &members[j].key));
        if next != Some(this) {
            emit[kept] = emit[i];
            kept += 1;
        }
    }
    emit.truncate(kept);
}

/// Field names known to need no escaping, by address: a name is looked at once, not once per
/// member written (a small direct-mapped table; a collision only costs a new look).
#[derive(Debug)]
struct PlainNames([(usize, usize); 64]);

impl Default for PlainNames {
    fn default() -> Self {
        PlainNames([(0, 0); 64])
    }
}

impl PlainNames {
    /// Whether `name` can be written between quotes as it is.
    fn check(&mut self, name: &'static str) -> bool {
        let id = (name.as_ptr() as usize, name.len());
        let slot = &mut self.0[(id.0 >> 2) % 64];
        if *slot == id {
            return true;
        }
        let plain = name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
        if plain {
            *slot = id;
        }
        plain
    }
}

struct Ser<'a> {
    out: &'a mut Vec<u8>,
    state: &'a mut SortedJson,
    /// How many arrays and objects are open.
    depth: u32,
    /// The message number merged into the top-level object.
    tag: Option<u16>,
    top_is_object: bool,
}

/// An open object.
#[derive(Debug)]
struct Object {
    start: usize,
    entries: usize,
    keys: usize,
    first: bool,
    /// The top-level object of a tagged value: its own `type` member is left out.
    drop_type: bool,
    /// The key written by `serialize_key`, waiting for its value: where the member starts and
    /// its key, or `None` inside when the member is left out.
    pending: Option<Option<(usize, Key)>>,
}

/// `{"variant":` written around a variant's content: the object, where the member starts, its key.
type Variant = (Object, usize, Key);

impl<'a> Ser<'a> {
    fn begin_object(&mut self) -> Result<Object> {
        let top = self.depth == 0;
        self.depth += 1;
        let mut o = Object {
            start: self.out.len(),
            entries: self.state.entries.len(),
            keys: self.state.keys.len(),
            first: true,
            drop_type: false,
            pending: None,
        };
        self.out.push(b'{');
        if top {
            self.top_is_object = true;
            if let Some(n) = self.tag {
                let key = Key::Field("type");
                let at = self.begin_member(&mut o, key)?;
                push_u64(self.out, n.into());
                self.end_member(at, key);
                o.drop_type = true;
            }
        }
        Ok(o)
    }

    /// Whether a member with this key is left out (the tagged value's own `type`).
    fn dropped(&self, o: &Object, key: Key) -> bool {
        o.drop_type && key_bytes(&self.state.keys, &key) == b"type"
    }

    /// Write `,"key":` and return where the member starts.
    fn begin_member(&mut self, o: &mut Object, key: Key) -> Result<usize> {
        if !o.first {
            self.out.push(b',');
        }
        o.first = false;
        let at = self.out.len();
        match key {
            Key::Field(name) if self.state.plain.check(name) => {
                self.out.push(b'"');
                self.out.extend_from_slice(name.as_bytes());
                self.out.push(b'"');
            }
            Key::Field(name) => push_str(self.out, name)?,
            Key::Stored(a, b) => {
                let k = std::str::from_utf8(&self.state.keys[a..b])
                    .map_err(|_| JsonError("key is not UTF-8".into()))?;
                push_str(self.out, k)?;
            }
        }
        self.out.push(b':');
        Ok(at)
    }

    fn end_member(&mut self, at: usize, key: Key) {
        self.state.entries.push(Entry {
            key,
            span: (at, self.out.len()),
        });
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        o: &mut Object,
        name: &'static str,
        v: &T,
    ) -> Result<()> {
        let key = Key::Field(name);
        if self.dropped(o, key) {
            return Ok(());
        }
        let at = self.begin_member(o, key)?;
        v.serialize(&mut *self)?;
        self.end_member(at, key);
        Ok(())
    }

    /// Close an object: its members in key order, a repeated key keeping its last value.
    fn end_object(&mut self, o: Object) {
        self.depth -= 1;
        let SortedJson {
            keys,
            entries,
            orders,
            emit,
            ..
        } = &mut *self.state;
        let members = &entries[o.entries..];
        let names = || {
            members.iter().map(|e| match e.key {
                Key::Field(name) => Some(name),
                Key::Stored(..) => None,
            })
        };
        let known = orders.iter().find(|ord| {
            ord.names.len() == members.len()
                && ord
                    .names
                    .iter()
                    .zip(names())
                    .all(|(a, b)| b.is_some_and(|b| std::ptr::eq(*a, b)))
        });
        match known {
            Some(ord) => {
                emit.clear();
                emit.extend_from_slice(&ord.emit);
            }
            None => {
                key_order(keys, members, emit);
                if orders.len() < ORDERS
                    && let Some(names) = names().collect::<Option<Vec<_>>>()
                {
                    orders.push(Order {
                        names,
                        emit: emit.clone(),
                    });
                }
            }
        }
        let in_place = emit.len() == members.len() && emit.iter().enumerate().all(|(i, &j)| i == j);
        if in_place {
            self.out.push(b'}');
        } else {
            let at = self.out.len();
            self.out.push(b'{');
            for (i, &j) in emit.iter().enumerate() {
                if i > 0 {
                    self.out.push(b',');
                }
                let (a, b) = members[j].span;
                self.out.extend_from_within(a..b);
            }
            self.out.push(b'}');
            let len = self.out.len() - at;
            self.out.copy_within(at.., o.start);
            self.out.truncate(o.start + len);
        }
        entries.truncate(o.entries);
        keys.truncate(o.keys);
    }

    fn begin_array(&mut self) {
        self.depth += 1;
        self.out.push(b'[');
    }

    fn end_array(&mut self) {
        self.depth -= 1;
        self.out.push(b']');
    }

    fn element<T: Serialize + ?Sized>(&mut self, first: &mut bool, v: &T) -> Result<()> {
        if !*first {
            self.out.push(b',');
        }
        *first = false;
        v.serialize(&mut *self)
    }

    /// `{"variant":` opened; the caller writes the value and calls `end_variant`.
    fn begin_variant(&mut self, variant: &'static str) -> Result<Variant> {
        let mut o = self.begin_object()?;
        let key = Key::Field(variant);
        let at = self.begin_member(&mut o, key)?;
        Ok((o, at, key))
    }

    fn end_variant(&mut self, (o, at, key): Variant) {
        self.end_member(at, key);
        self.end_object(o);
    }
}

/// An open array, object or variant.
pub struct Compound<'s, 'a> {
    ser: &'s mut Ser<'a>,
    first: bool,
    object: Option<Object>,
    /// The `{"variant": …}` around a tuple or struct variant.
    variant: Option<Variant>,
}

impl<'s, 'a> Compound<'s, 'a> {
    fn array(ser: &'s mut Ser<'a>, variant: Option<Variant>) -> Self {
        ser.begin_array();
        Compound {
            ser,
            first: true,
            object: None,
            variant,
        }
    }

    fn object(ser: &'s mut Ser<'a>, variant: Option<Variant>) -> Result<Self> {
        let object = Some(ser.begin_object()?);
        Ok(Compound {
            ser,
            first: true,
            object,
            variant,
        })
    }

    fn end(self) -> Result<()> {
        match self.object {
            Some(o) => self.ser.end_object(o),
            None => self.ser.end_array(),
        }
        if let Some(v) = self.variant {
            self.ser.end_variant(v);
        }
        Ok(())
    }

    fn open_object(&mut self) -> Result<&mut Object> {
        self.object
            .as_mut()
            .ok_or_else(|| JsonError("object member outside an object".into()))
    }
}

impl<'s, 'a> ser::Serializer for &'s mut Ser<'a> {
    type Ok = ();
    type Error = JsonError;
    type SerializeSeq = Compound<'s, 'a>;
    type SerializeTuple = Compound<'s, 'a>;
    type SerializeTupleStruct = Compound<'s, 'a>;
    type SerializeTupleVariant = Compound<'s, 'a>;
    type SerializeMap = Compound<'s, 'a>;
    type SerializeStruct = Compound<'s, 'a>;
    type SerializeStructVariant = Compound<'s, 'a>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    widen_small_integers!();
    fn serialize_i64(self, v: i64) -> Result<()> {
        push_i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        // As `Value`: 64-bit range only.
        match i64::try_from(v) {
            Ok(v) => self.serialize_i64(v),
            Err(_) => match u64::try_from(v) {
                Ok(v) => self.serialize_u64(v),
                Err(_) => Err(JsonError("number out of range".into())),
            },
        }
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        push_u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        let v = u64::try_from(v).map_err(|_| JsonError("number out of range".into()))?;
        self.serialize_u64(v)
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        // `Value` keeps an f32 as the f64 it widens to, and prints that.
        push_f64(self.out, v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        push_f64(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<()> {
        push_str(self.out, v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        push_str(self.out, v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let mut first = true;
        self.begin_array();
        for b in v {
            self.element(&mut first, b)?;
        }
        self.end_array();
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        push_str(self.out, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<()> {
        let open = self.begin_variant(variant)?;
        v.serialize(&mut *self)?;
        self.end_variant(open);
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'s, 'a>> {
        Ok(Compound::array(self, None))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'s, 'a>> {
        Ok(Compound::array(self, None))
    }
    fn serialize_tuple_struct(self, _: &'static str, _len: usize) -> Result<Compound<'s, 'a>> {
        Ok(Compound::array(self, None))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a>> {
        let open = self.begin_variant(variant)?;
        Ok(Compound::array(self, Some(open)))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'s, 'a>> {
        Compound::object(self, None)
    }
    fn serialize_struct(self, _: &'static str, _len: usize) -> Result<Compound<'s, 'a>> {
        Compound::object(self, None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a>> {
        let open = self.begin_variant(variant)?;
        Compound::object(self, Some(open))
    }
}

/// The four element-list traits (sequence, tuple, tuple struct, tuple variant) are one thing
/// here: elements of the open array.
macro_rules! array_elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = JsonError;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
                self.ser.element(&mut self.first, v)
            }
            fn end(self) -> Result<()> {
                Compound::end(self)
            }
        }
    )*};
}

array_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        let ser = &mut *self.ser;
        let k0 = ser.state.keys.len();
        key.serialize(KeySer(&mut ser.state.keys))?;
        let key = Key::Stored(k0, ser.state.keys.len());
        let o = self
            .object
            .as_mut()
            .ok_or_else(|| JsonError("map key outside an object".into()))?;
        o.pending = Some(if ser.dropped(o, key) {
            None
        } else {
            Some((ser.begin_member(o, key)?, key))
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        let pending = self.open_object()?.pending.take();
        match pending {
            Some(Some((at, key))) => {
                v.serialize(&mut *self.ser)?;
                self.ser.end_member(at, key);
                Ok(())
            }
            Some(None) => Ok(()),
            None => Err(JsonError("map value without a key".into())),
        }
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

/// Struct fields, of a struct or of a struct variant: members of the open object.
macro_rules! object_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = JsonError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<()> {
                let o = self
                    .object
                    .as_mut()
                    .ok_or_else(|| JsonError("struct field outside an object".into()))?;
                self.ser.field(o, key, v)
            }
            fn end(self) -> Result<()> {
                Compound::end(self)
            }
        }
    )*};
}

object_fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::{Map, Value, json};

    use super::SortedJson;

    /// What `--json` printed through `Value` for an NMEA sentence.
    fn via_value(v: &impl Serialize) -> String {
        match serde_json::to_value(v) {
            Ok(v @ Value::Object(_)) => v.to_string(),
            _ => "{}".into(),
        }
    }

    /// What `--json` printed through `Value` for an RTCM message.
    fn via_value_tagged(n: u16, v: &impl Serialize) -> String {
        let mut obj = Map::new();
        obj.insert("type".into(), json!(n));
        if let Ok(Value::Object(fields)) = serde_json::to_value(v) {
            obj.extend(fields.into_iter().filter(|(k, _)| k != "type"));
        }
        Value::Object(obj).to_string()
    }

    fn check(w: &mut SortedJson, v: &impl Serialize) {
        let mut out = b"prefix ".to_vec();
        w.write_object(&mut out, v);
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("prefix {}", via_value(v))
        );
        out.clear();
        w.write_tagged(&mut out, 1077, v);
        assert_eq!(String::from_utf8_lossy(&out), via_value_tagged(1077, v));
    }

    #[derive(Serialize)]
    struct Inner {
        zeta: f32,
        alpha: Option<f64>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        list: Vec<u8>,
    }

    #[derive(Serialize)]
    enum Kind {
        Unit,
        New(i8),
        Tuple(u8, String),
        Struct { b: bool, a: char },
    }

    #[derive(Serialize)]
    struct Outer {
        r#type: u32,
        name: String,
        inner: Inner,
        inners: Vec<Inner>,
        kinds: Vec<Kind>,
        by_number: BTreeMap<u32, i64>,
        by_flag: BTreeMap<bool, ()>,
        big: i128,
        #[serde(rename = "we\"ird\\key")]
        weird: (),
        nan: f64,
        inf: f32,
        bytes: Bytes,
    }

    struct Bytes(&'static [u8]);

    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    fn inner(zeta: f32, list: Vec<u8>) -> Inner {
        Inner {
            zeta,
            alpha: (zeta > 0.0).then_some(f64::from(zeta) * 1e-7),
            list,
        }
    }

    fn outer() -> Outer {
        Outer {
            r#type: 42,
            name: "tab\there \"quoted\" é ✓".into(),
            inner: inner(0.1, vec![]),
            inners: vec![
                inner(-2.5, vec![1, 2]),
                inner(3.25e-9, vec![]),
                inner(0.0, vec![7]),
            ],
            kinds: vec![
                Kind::Unit,
                Kind::New(-5),
                Kind::Tuple(3, "x".into()),
                Kind::Struct { b: true, a: 'q' },
            ],
            by_number: [(9, -1), (10, 2), (100, 3)].into(),
            by_flag: [(true, ()), (false, ())].into(),
            big: -(1 << 40),
            weird: (),
            nan: f64::NAN,
            inf: f32::INFINITY,
            bytes: Bytes(&[0, 255]),
        }
    }

    #[test]
    fn objects_match_serde_json_value_byte_for_byte() {
        let mut w = SortedJson::new();
        // Twice: the second time the learnt field orders are used.
        for _ in 0..2 {
            check(&mut w, &outer());
            check(&mut w, &inner(1.5, vec![]));
            check(&mut w, &inner(1.5, vec![4]));
            check(&mut w, &Kind::Struct { b: false, a: '"' });
            check(&mut w, &Kind::New(1));
        }
    }

    #[derive(Serialize)]
    struct Flat {
        a: u8,
        z: u8,
        #[serde(flatten)]
        rest: BTreeMap<String, u8>,
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let v = Flat {
            a: 1,
            z: 2,
            rest: [("a".into(), 9), ("m".into(), 5), ("type".into(), 7)].into(),
        };
        check(&mut SortedJson::new(), &v);
    }

    #[test]
    fn values_that_are_not_objects_or_fail_fall_back() {
        let mut w = SortedJson::new();
        check(&mut w, &vec![1, 2, 3]);
        check(&mut w, &"text");
        check(&mut w, &Kind::Unit);
        // A number beyond 64 bits fails in `Value`; a map keyed by a sequence too.
        check(&mut w, &BTreeMap::from([("n", u128::MAX)]));
        check(&mut w, &BTreeMap::from([(vec![1], 1)]));
        // And the writer is still sound afterwards.
        check(&mut w, &outer());
    }

    #[test]
    fn map_keys_are_formatted_as_value_formats_them() {
        let mut w = SortedJson::new();
        check(&mut w, &BTreeMap::from([(-3i128, 1), (i128::MAX, 2)]));
        check(&mut w, &BTreeMap::from([(u128::MAX, 1), (0, 2)]));
        check(&mut w, &BTreeMap::from([('é', 1), ('"', 2)]));
        check(&mut w, &BTreeMap::from([(Color::Red, 1), (Color::Blue, 2)]));
        check(&mut w, &FloatKeys(&[(1.5, 1), (-0.0, 2), (1e-7, 3)]));
        check(&mut w, &FloatKeys(&[(1.5, 1), (f64::NAN, 2)]));
    }

    struct FloatKeys(&'static [(f64, u8)]);

    impl Serialize for FloatKeys {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Color {
        Red,
        Blue,
    }

    #[test]
    fn integers_print_in_decimal() {
        for v in [0u64, 9, 10, 99, 100, 12_345, u64::MAX] {
            let mut out = Vec::new();
            super::push_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        for v in [i64::MIN, -1, 0, 7, i64::MAX] {
            let mut out = Vec::new();
            super::push_i64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        for v in [
            0u128,
            10_000_000_000_000_000_000,
            10_000_000_000_000_000_001,
            u128::MAX,
        ] {
            let mut out = Vec::new();
            super::push_u128(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
    }
}
