//! Compact RINEX 3.0 (Hatanaka compression, as written by RNX2CRX 4.x) expanded back to the
//! RINEX 3 observation text, byte for byte what CRX2RNX writes.
//!
//! The format, from the public description of Compact RINEX:
//! * Header: the two CRINEX lines (`CRINEX VERS   / TYPE`, `CRINEX PROG / DATE`) are dropped, the
//!   RINEX header follows unchanged up to `END OF HEADER`.
//! * Epoch line: the RINEX epoch line without the clock (columns 1–41) followed by the satellite
//!   list (3 characters per satellite). A line starting with `>` is written in full and starts every
//!   data arc afresh; any other line is a text difference from the previous epoch line: a space keeps
//!   the old character, `&` puts a space, anything else replaces; a longer line extends the old one.
//! * Clock line: the receiver clock offset in units of 1e-12 s, differenced like a data value; an
//!   empty line means no clock offset.
//! * One data line per satellite of the list: for each observation type of its system a field
//!   (separated by one space): empty = no value, `n&v` = start of an arc with difference order `n`
//!   and first value `v` (in units of 1e-3), otherwise the difference of the arc's current order
//!   (the order grows by one per epoch up to `n`). After the fields, the LLI/SSI flag characters as a
//!   text difference from the satellite's flags at the previous epoch (blank for a new satellite).
//! * Epochs with an event flag above 1 are copied as they are, with the number of lines they say;
//!   the epoch after one starts afresh (`>`).

use std::collections::HashMap;

use super::RinexError;
use super::obs::{self as read, ObsFile};
use crate::gnss::Gnss;
use crate::gnss::obs::Epoch;
use crate::gnss::time::Gpst;

/// Highest difference order accepted in an `n&v` field (RNX2CRX writes 3).
const MAX_ORDER: usize = 9;

/// Does this text start like a Compact RINEX file (`CRINEX VERS   / TYPE` label at column 61)?
pub fn is_crinex(text: &str) -> bool {
    text.lines()
        .next()
        .and_then(|l| l.get(60..))
        .is_some_and(|label| label.starts_with("CRINEX VERS   / TYPE"))
}

/// One arc of differences: `d[0]` is the last value, `d[k]` its k-th difference.
#[derive(Clone, Copy, Debug)]
struct DataArc {
    order: u8,
    /// How many differences are known so far (grows to `order`).
    have: u8,
    d: [i64; MAX_ORDER + 1],
}

impl DataArc {
    fn start(order: u8, value: i64) -> DataArc {
        let mut d = [0; MAX_ORDER + 1];
        d[0] = value;
        DataArc { order, have: 0, d }
    }

    /// Take the next difference; `None` on overflow.
    fn step(&mut self, diff: i64) -> Option<i64> {
        if self.have < self.order {
            self.have += 1;
        }
        let n = usize::from(self.have);
        self.d[n] = diff;
        for k in (0..n).rev() {
            self.d[k] = self.d[k].checked_add(self.d[k + 1])?;
        }
        Some(self.d[0])
    }
}

/// What is kept of a satellite from one epoch to the next.
#[derive(Clone, Debug, Default)]
struct SatState {
    arcs: Vec<Option<DataArc>>,
    flags: Vec<u8>,
}

/// Apply a text difference to `old` in place (space keeps, `&` blanks, anything else replaces).
fn apply_text_diff(old: &mut Vec<u8>, diff: &[u8]) {
    if old.len() < diff.len() {
        old.resize(diff.len(), b' ');
    }
    for (o, &c) in old.iter_mut().zip(diff) {
        match c {
            b' ' => {}
            b'&' => *o = b' ',
            c => *o = c,
        }
    }
}

/// Why a numeric field cannot be expanded; each holds the field as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    #[error("bad difference order in {0:?}")]
    Order(String),
    #[error("bad initial value in {0:?}")]
    Initial(String),
    #[error("bad difference {0:?}")]
    Difference(String),
    #[error("difference {0:?} overflows")]
    Overflow(String),
    #[error("difference {0:?} without a value to start from (the arc was not initialised)")]
    NotInitialised(String),
}

/// One numeric field: `n&v` starts an arc, anything else is the next difference of `arc`.
/// Returns the value; `arc` is left as the new state.
fn numeric_field(field: &str, arc: &mut Option<DataArc>) -> Result<i64, FieldError> {
    // A plain scan: the fields are a few bytes long, too short for `split_once`'s search to pay.
    if let Some(at) = field.bytes().position(|b| b == b'&') {
        let (order, value) = (&field[..at], &field[at + 1..]);
        let order: usize = order
            .parse()
            .ok()
            .filter(|&o| o <= MAX_ORDER)
            .ok_or_else(|| FieldError::Order(field.into()))?;
        let value: i64 = value
            .parse()
            .map_err(|_| FieldError::Initial(field.into()))?;
        *arc = Some(DataArc::start(order as u8, value));
        return Ok(value);
    }
    let diff: i64 = field
        .parse()
        .map_err(|_| FieldError::Difference(field.into()))?;
    match arc {
        Some(a) => a
            .step(diff)
            .ok_or_else(|| FieldError::Overflow(field.into())),
        None => Err(FieldError::NotInitialised(field.into())),
    }
}

/// Write `v` × 10^-`decimals` right-aligned in `width` characters the way CRX2RNX does (no zero
/// before the point: `.123`, `-.005`). `false` if it does not fit.
fn push_fixed(out: &mut Vec<u8>, v: i64, decimals: u32, width: usize) -> bool {
    let scale = 10u64.pow(decimals);
    let a = v.unsigned_abs();
    let (int, frac) = (a / scale, a % scale);
    // Digits from the right: the fraction, the point, the integer part, the sign.
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    let mut f = frac;
    for _ in 0..decimals {
        i -= 1;
        buf[i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    i -= 1;
    buf[i] = b'.';
    let mut n = int;
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    let s = &buf[i..];
    if s.len() > width {
        return false;
    }
    out.resize(out.len() + width - s.len(), b' ');
    out.extend_from_slice(s);
    true
}

/// Drop the spaces at the end of `out` after `from`, and end the line.
fn end_line(out: &mut Vec<u8>, from: usize) {
    let mut end = out.len();
    while end > from && out[end - 1] == b' ' {
        end -= 1;
    }
    out.truncate(end);
    out.push(b'\n');
}

fn err(line: usize, what: String) -> RinexError {
    RinexError::Line { line, what }
}

fn sat_name(id: &[u8; 3]) -> String {
    String::from_utf8_lossy(id).into_owned()
}

/// Where the decoder puts what it reads: the RINEX text ([`expand`]) or epochs
/// ([`read_obs_of`]).
trait Sink {
    /// A header line after the CRINEX lines, `END OF HEADER` included.
    fn header(&mut self, line: &str, ln: usize) -> Result<(), RinexError>;
    /// An event epoch (flag above 1): its line as it stands.
    fn event(&mut self, epoch_line: &[u8], ln: usize) -> Result<(), RinexError>;
    /// A record line of an event.
    fn record(&mut self, line: &str);
    /// A data epoch: its line (columns 1–41 hold the RINEX epoch) and clock offset (1e-12 s).
    fn epoch(
        &mut self,
        epoch_line: &[u8],
        clock: Option<i64>,
        ln: usize,
        cln: usize,
    ) -> Result<(), RinexError>;
    /// Called for each satellite of an epoch in turn: are its values wanted? The answer
    /// depends on the system only, so the arcs of a satellite not wanted are never needed.
    fn take(&mut self, id: [u8; 3]) -> bool;
    /// A wanted satellite's values (1e-3 units) and LLI/SSI flag characters.
    fn sat(
        &mut self,
        id: [u8; 3],
        vals: &[Option<i64>],
        flags: &[u8],
        dln: usize,
    ) -> Result<(), RinexError>;
}

/// The RINEX epoch line of a data epoch: columns 1–41, then the clock offset (F15.12).
fn push_epoch_line(
    out: &mut Vec<u8>,
    epoch_line: &[u8],
    clock: Option<i64>,
    cln: usize,
) -> Result<(), RinexError> {
    let n0 = out.len();
    let head = epoch_line.get(..41).unwrap_or(epoch_line);
    out.extend_from_slice(head);
    if let Some(c) = clock {
        out.resize(n0 + 41, b' ');
        if !push_fixed(out, c, 12, 15) {
            return Err(err(
                cln,
                format!("clock offset {c}e-12 s does not fit the RINEX F15.12 field"),
            ));
        }
    }
    end_line(out, n0);
    Ok(())
}

/// Largest and smallest values (1e-3) the RINEX F14.3 field holds.
const F14_3: std::ops::RangeInclusive<i64> = -999_999_999_999..=9_999_999_999_999;

fn too_wide(id: &[u8; 3], v: i64, dln: usize) -> RinexError {
    err(
        dln,
        format!(
            "{}: value {v}e-3 does not fit the RINEX F14.3 field",
            sat_name(id)
        ),
    )
}

/// The RINEX text, byte for byte what CRX2RNX writes.
struct Text(Vec<u8>);

impl Sink for Text {
    fn header(&mut self, line: &str, _: usize) -> Result<(), RinexError> {
        self.0.extend_from_slice(line.as_bytes());
        self.0.push(b'\n');
        Ok(())
    }
    fn event(&mut self, epoch_line: &[u8], _: usize) -> Result<(), RinexError> {
        let n0 = self.0.len();
        self.0.extend_from_slice(epoch_line);
        end_line(&mut self.0, n0);
        Ok(())
    }
    fn record(&mut self, line: &str) {
        self.0.extend_from_slice(line.as_bytes());
        self.0.push(b'\n');
    }
    fn epoch(
        &mut self,
        epoch_line: &[u8],
        clock: Option<i64>,
        _: usize,
        cln: usize,
    ) -> Result<(), RinexError> {
        push_epoch_line(&mut self.0, epoch_line, clock, cln)
    }
    fn take(&mut self, _: [u8; 3]) -> bool {
        true
    }
    fn sat(
        &mut self,
        id: [u8; 3],
        vals: &[Option<i64>],
        flags: &[u8],
        dln: usize,
    ) -> Result<(), RinexError> {
        let out = &mut self.0;
        let n0 = out.len();
        out.extend_from_slice(&id);
        for (k, v) in vals.iter().enumerate() {
            match *v {
                Some(v) => {
                    if !push_fixed(out, v, 3, 14) {
                        return Err(too_wide(&id, v, dln));
                    }
                }
                None => out.extend_from_slice(&[b' '; 14]),
            }
            out.push(flags.get(2 * k).copied().unwrap_or(b' '));
            out.push(flags.get(2 * k + 1).copied().unwrap_or(b' '));
        }
        end_line(out, n0);
        Ok(())
    }
}

/// Epochs as [`super::read::read_obs_of`] reads them from the expanded text, without writing it.
struct Epochs<'s> {
    systems: Option<&'s [Gnss]>,
    header: String,
    kept: Option<read::Systems>,
    approx: Option<[f64; 3]>,
    epochs: Vec<Epoch>,
    /// The epoch being filled; `None` inside a skipped one.
    current: Option<Epoch>,
    /// Satellite lines the epoch line announces that are still to come.
    remaining: usize,
    /// Whether the satellite line at hand goes into `current`.
    collect: bool,
    line: Vec<u8>,
}

impl Epochs<'_> {
    fn head(&mut self, ln: usize) -> Result<(Gpst, u8, usize), RinexError> {
        if let Some(e) = self.current.take() {
            self.epochs.push(e);
        }
        let text = String::from_utf8_lossy(&self.line);
        let (time, flag, count) = read::epoch_head(text.get(1..).unwrap_or(""), ln)?;
        self.remaining = count;
        Ok((time, flag, count))
    }
}

impl Sink for Epochs<'_> {
    fn header(&mut self, line: &str, _: usize) -> Result<(), RinexError> {
        self.header.push_str(line);
        self.header.push('\n');
        if line
            .get(60..)
            .is_some_and(|l| l.starts_with("END OF HEADER"))
        {
            let mut lines = self.header.lines().enumerate();
            let h = read::obs_header(&mut lines)?;
            self.kept = Some(read::Systems::new(&h, self.systems));
            self.approx = h.approx;
        }
        Ok(())
    }
    fn event(&mut self, epoch_line: &[u8], ln: usize) -> Result<(), RinexError> {
        self.line.clear();
        self.line.extend_from_slice(epoch_line);
        end_line(&mut self.line, 0);
        self.line.pop();
        // Records starting with '>' would be read as epoch lines from the text; they are not
        // records RNX2CRX writes.
        let (time, flag, _) = self.head(ln)?;
        if flag <= 1 {
            self.current = Some(Epoch {
                time,
                sats: Vec::new(),
            });
        }
        Ok(())
    }
    fn record(&mut self, _: &str) {
        self.remaining = self.remaining.saturating_sub(1);
    }
    fn epoch(
        &mut self,
        epoch_line: &[u8],
        clock: Option<i64>,
        ln: usize,
        cln: usize,
    ) -> Result<(), RinexError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        push_epoch_line(&mut line, epoch_line, clock, cln)?;
        line.pop();
        self.line = line;
        let (time, flag, _) = self.head(ln)?;
        if flag <= 1 {
            self.current = Some(Epoch {
                time,
                sats: Vec::with_capacity(self.remaining),
            });
        }
        Ok(())
    }
    fn take(&mut self, id: [u8; 3]) -> bool {
        self.collect = self.remaining > 0 && self.current.is_some();
        self.remaining = self.remaining.saturating_sub(1);
        self.kept.as_ref().is_some_and(|k| k.get(id[0]).is_some())
    }
    fn sat(
        &mut self,
        id: [u8; 3],
        vals: &[Option<i64>],
        flags: &[u8],
        dln: usize,
    ) -> Result<(), RinexError> {
        for v in vals.iter().flatten() {
            if !F14_3.contains(v) {
                return Err(too_wide(&id, *v, dln));
            }
        }
        let (Some(cur), Some(kept)) = (self.current.as_mut(), self.kept.as_ref()) else {
            return Ok(());
        };
        if !self.collect {
            return Ok(());
        }
        let Some(&(sys, ref types)) = kept.get(id[0]) else {
            return Ok(());
        };
        let Some(prn) = std::str::from_utf8(&id[1..])
            .ok()
            .and_then(|p| p.trim().parse::<u8>().ok())
        else {
            return Ok(());
        };
        cur.sats.push(read::sat_obs(
            sys,
            prn,
            kept.channel(sys, prn),
            types,
            |k| {
                let v = (*vals.get(k)?)?;
                let lli = flags
                    .get(2 * k)
                    .and_then(|&c| (c as char).to_digit(10))
                    .unwrap_or(0) as u8;
                // v is below 2^53, exact as a double: the quotient is the double nearest v/1000,
                // as parsing the written decimal gives.
                Some((v as f64 / 1000.0, lli))
            },
        ));
        Ok(())
    }
}

/// Expand Compact RINEX 3.0 text to the RINEX 3 observation text.
pub fn expand(text: &str) -> Result<String, RinexError> {
    let mut out = Text(Vec::with_capacity(text.len() * 4));
    decode(text, &mut out)?;
    Ok(match String::from_utf8(out.0) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Reads Compact RINEX 3.0 text as [`super::read::read_obs_of`] reads its expansion, keeping only the
/// satellites of `systems` (all when `None`): the other systems' lines are counted, not decoded.
/// Errors name the line of the compact file.
pub fn read_obs_of(text: &str, systems: Option<&[Gnss]>) -> Result<ObsFile, RinexError> {
    let mut sink = Epochs {
        systems,
        header: String::new(),
        kept: None,
        approx: None,
        epochs: Vec::new(),
        current: None,
        remaining: 0,
        collect: false,
        line: Vec::new(),
    };
    decode(text, &mut sink)?;
    if sink.kept.is_none() {
        // No END OF HEADER: decode has refused the file already; this keeps the reading total.
        return Err(RinexError::NotRinex3("observation"));
    }
    if let Some(e) = sink.current.take() {
        sink.epochs.push(e);
    }
    Ok(ObsFile {
        header: sink.header,
        epochs: sink.epochs,
        approx: sink.approx,
    })
}

/// Walks Compact RINEX 3.0 text, handing the header, epochs and satellites to `sink`.
fn decode(text: &str, sink: &mut impl Sink) -> Result<(), RinexError> {
    let mut lines = crate::gnss::lines::lines(text)
        .enumerate()
        .map(|(i, l)| (i + 1, l));

    // Header.
    match lines.next() {
        Some((_, l)) if is_crinex(l) => {
            let version = l.get(..20).unwrap_or("").trim();
            if version != "3.0" {
                return Err(err(
                    1,
                    format!("Compact RINEX version {version:?}: only 3.0 (for RINEX 3) is read"),
                ));
            }
        }
        _ => return Err(err(1, "no CRINEX VERS   / TYPE line".into())),
    }
    match lines.next() {
        Some((_, l))
            if l.get(60..)
                .is_some_and(|t| t.starts_with("CRINEX PROG / DATE")) => {}
        _ => return Err(err(2, "no CRINEX PROG / DATE line".into())),
    }
    // Number of observation types by system letter.
    let mut ntypes: [Option<usize>; 256] = [None; 256];
    let mut header_end = None;
    for (ln, l) in lines.by_ref() {
        sink.header(l, ln)?;
        let label = l.get(60..).unwrap_or("");
        if label.starts_with("SYS / # / OBS TYPES") {
            // Continuation lines (blank system letter) only carry more type names.
            if let Some(&sys) = l.as_bytes().first().filter(|&&c| c != b' ') {
                let n = l
                    .get(3..6)
                    .and_then(|n| n.trim().parse().ok())
                    .ok_or_else(|| err(ln, "number of observation types".into()))?;
                ntypes[usize::from(sys)] = Some(n);
            }
        } else if label.starts_with("END OF HEADER") {
            header_end = Some(ln);
            break;
        }
    }
    if header_end.is_none() {
        return Err(err(text.lines().count(), "no END OF HEADER".into()));
    }

    // Body.
    let mut epoch_line: Vec<u8> = Vec::new();
    let mut must_start = true;
    let mut clock: Option<DataArc> = None;
    let mut sats: HashMap<[u8; 3], SatState> = HashMap::new();
    let mut next_sats: HashMap<[u8; 3], SatState> = HashMap::new();
    let mut vals: Vec<Option<i64>> = Vec::new();
    while let Some((ln, l)) = lines.next() {
        if l.starts_with('>') {
            // A full epoch line: every arc starts afresh.
            epoch_line.clear();
            epoch_line.extend_from_slice(l.as_bytes());
            sats.clear();
            clock = None;
        } else if must_start {
            return Err(err(
                ln,
                "epoch line is a difference where a full epoch line ('>') is needed".into(),
            ));
        } else {
            apply_text_diff(&mut epoch_line, l.as_bytes());
        }
        let flag = epoch_line.get(31).copied().unwrap_or(b' ');
        let count: usize = epoch_line
            .get(32..35)
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.trim().parse().ok())
            .ok_or_else(|| {
                err(
                    ln,
                    "number of satellites or records in the epoch line".into(),
                )
            })?;
        if flag.is_ascii_digit() && flag > b'1' {
            // Event: the epoch line and its records as they are; the next epoch starts afresh.
            sink.event(&epoch_line, ln)?;
            for k in 0..count {
                let Some((_, r)) = lines.next() else {
                    return Err(err(
                        ln,
                        format!("event record cut short: {k} of {count} lines"),
                    ));
                };
                sink.record(r);
            }
            must_start = true;
            continue;
        }
        must_start = false;

        // Clock line: empty = no clock offset.
        let Some((cln, cl)) = lines.next() else {
            return Err(err(
                ln,
                "file ends before the clock line of the epoch".into(),
            ));
        };
        let clock_value = if cl.is_empty() {
            clock = None;
            None
        } else {
            Some(
                numeric_field(cl, &mut clock).map_err(|error| RinexError::Field {
                    line: cln,
                    field: "clock offset".into(),
                    error,
                })?,
            )
        };
        sink.epoch(&epoch_line, clock_value, ln, cln)?;

        // One data line per satellite of the list.
        let Some(list) = epoch_line.get(41..41 + 3 * count) else {
            return Err(err(
                ln,
                format!("the epoch line lists fewer than its {count} satellites"),
            ));
        };
        next_sats.clear();
        for sat in list.chunks_exact(3) {
            let id: [u8; 3] = [sat[0], sat[1], sat[2]];
            let Some((dln, dl)) = lines.next() else {
                return Err(err(ln, "file ends inside the epoch".into()));
            };
            let Some(n) = ntypes[usize::from(id[0])] else {
                return Err(err(
                    dln,
                    format!(
                        "satellite {} of a system without SYS / # / OBS TYPES",
                        sat_name(&id)
                    ),
                ));
            };
            if !sink.take(id) {
                continue;
            }
            let mut st = sats.remove(&id).unwrap_or_default();
            st.arcs.resize(n, None);
            let bytes = dl.as_bytes();
            // Fields end at a space; a line that ends early leaves the rest empty.
            let mut pos = 0;
            vals.clear();
            for arc in st.arcs.iter_mut() {
                if pos > bytes.len() {
                    *arc = None;
                    vals.push(None);
                    continue;
                }
                let end = bytes[pos..]
                    .iter()
                    .position(|&b| b == b' ')
                    .map_or(bytes.len(), |k| pos + k);
                let field = &dl[pos..end];
                pos = end + 1;
                if field.is_empty() {
                    *arc = None;
                    vals.push(None);
                } else {
                    let v = numeric_field(field, arc).map_err(|error| RinexError::Field {
                        line: dln,
                        field: sat_name(&id),
                        error,
                    })?;
                    vals.push(Some(v));
                }
            }
            if pos < bytes.len() {
                apply_text_diff(&mut st.flags, &bytes[pos..]);
            }
            sink.sat(id, &vals, &st.flags, dln)?;
            next_sats.insert(id, st);
        }
        std::mem::swap(&mut sats, &mut next_sats);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made Compact RINEX file: GPS with three types, BeiDou with two; an order-3 start
    /// (`3&`) followed by first, second and third differences (G01 over four epochs), a missing value
    /// and its restart (G01 S1C), LLI/SSI differences (including a flag kept for a missing value),
    /// epoch-line differences that change the time, the count and the satellite list, C06
    /// disappearing and G07 appearing, a clock offset then none, an event (flag 4) with its record,
    /// and the fresh start after it.
    const SAMPLE: &str = r#"3.0                 COMPACT RINEX FORMAT                    CRINEX VERS   / TYPE
RNX2CRX ver.4.1.0                       01-Jan-25 00:00     CRINEX PROG / DATE
     3.04           OBSERVATION DATA    M (MIXED)           RINEX VERSION / TYPE
G    3 C1C L1C S1C                                          SYS / # / OBS TYPES
C    2 C2I L2I                                              SYS / # / OBS TYPES
                                                            END OF HEADER
> 2025 01 01 00 00 00.0000000  0  2      G01C06
3&1500
3&21000000123 3&110000000456 3&45250 &&1&&5
3&38000000001 3&-5 &&06
                   3
10
250 1000 -250
1 -3
                 1 0              3      C 6G 7G01
-5
-7 2 &&&7
3&23000000000 3&120000000000  &&&1&&
3 1100    &
                   3              2      G 1   &&&

-1 -50 3&44000    3
500 -700 3&30500
> 2025 01 01 00 02 00.0000000  4  1
EVENT TEXT                                                  COMMENT
> 2025 01 01 00 02 30.0000000  0  1      G07
3&-123456789
3&23000100000 3&120000500000 3&-1 &&&&&&
                 3 0
0
-1000 -2000 1
"#;

    /// What CRX2RNX 4.1.0 makes of [`SAMPLE`].
    const EXPANDED: &str = r#"     3.04           OBSERVATION DATA    M (MIXED)           RINEX VERSION / TYPE
G    3 C1C L1C S1C                                          SYS / # / OBS TYPES
C    2 C2I L2I                                              SYS / # / OBS TYPES
                                                            END OF HEADER
> 2025 01 01 00 00 00.0000000  0  2        .000000001500
G01  21000000.123   110000000.4561         45.250 5
C06  38000000.001           -.00506
> 2025 01 01 00 00 30.0000000  0  2        .000000001510
G01  21000000.373   110000001.4561         45.000 5
C06  38000000.002           -.00806
> 2025 01 01 00 01 00.0000000  0  3        .000000001515
C06  37999999.996           -.009 7
G07  23000000.000   120000000.000 1
G01  21000000.626   110000003.556                 5
> 2025 01 01 00 01 30.0000000  0  2
G01  21000000.881   110000006.706 3        44.000 5
G07  23000000.500   119999999.300 1        30.500
> 2025 01 01 00 02 00.0000000  4  1
EVENT TEXT                                                  COMMENT
> 2025 01 01 00 02 30.0000000  0  1       -.000123456789
G07  23000100.000   120000500.000           -.001
> 2025 01 01 00 03 00.0000000  0  1       -.000123456789
G07  23000099.000   120000498.000            .000
"#;

    fn sample_with(line: usize, new: &str) -> String {
        let mut l: Vec<&str> = SAMPLE.lines().collect();
        l[line - 1] = new;
        l.join("\n") + "\n"
    }

    fn line_error(text: &str) -> (usize, String) {
        match expand(text) {
            Err(RinexError::Line { line, what }) => (line, what),
            Err(e @ RinexError::Field { line, .. }) => (line, e.to_string()),
            other => panic!("expected a line error, got {other:?}"),
        }
    }

    #[test]
    fn sample_expands_like_crx2rnx() {
        assert!(is_crinex(SAMPLE));
        assert!(!is_crinex(EXPANDED));
        assert_eq!(expand(SAMPLE).unwrap(), EXPANDED);
        // CRLF line ends read the same.
        assert_eq!(expand(&SAMPLE.replace('\n', "\r\n")).unwrap(), EXPANDED);
    }

    #[test]
    fn epochs_read_straight_equal_those_of_the_expansion() {
        let text = expand(SAMPLE).unwrap();
        for systems in [None, Some(&[Gnss::Gps][..]), Some(&[Gnss::Beidou][..])] {
            let (want, approx) = crate::rinex::read_obs_of(&text, systems).unwrap();
            let got = read_obs_of(SAMPLE, systems).unwrap();
            assert_eq!(got.epochs, want, "{systems:?}");
            assert_eq!(got.approx, approx);
            assert!(got.header.ends_with("END OF HEADER\n"));
        }
        // The sample's epochs: six with data (the event skipped), two satellites at 00:01:30.
        let all = read_obs_of(SAMPLE, None).unwrap().epochs;
        assert_eq!(all.len(), 6);
        assert_eq!(all[3].sats.len(), 2);
        // A value too wide for the text is refused in both readings.
        let wide = sample_with(13, "9999999999999999 1000 -250");
        assert!(expand(&wide).is_err() && read_obs_of(&wide, None).is_err());
    }

    #[test]
    fn arcs_of_any_order_rebuild_a_cubic() {
        let values: Vec<i64> = (0..12i64)
            .map(|t| 7 * t * t * t - 40 * t * t + 3 * t + 21_000_000_123)
            .collect();
        for order in 0..=MAX_ORDER {
            let mut arc = None;
            let field = format!("{order}&{}", values[0]);
            assert_eq!(numeric_field(&field, &mut arc), Ok(values[0]));
            for i in 1..values.len() {
                // As the encoder writes it: the k-th difference, k growing by one up to the order.
                let k = i.min(order);
                let mut d = values[i - k..=i].to_vec();
                for _ in 0..k {
                    d = d.windows(2).map(|w| w[1] - w[0]).collect();
                }
                let got = numeric_field(&d[0].to_string(), &mut arc);
                assert_eq!(got, Ok(values[i]), "order {order}, epoch {i}");
            }
        }
    }

    #[test]
    fn numbers_are_written_like_crx2rnx() {
        let cases = [
            (0, 3, 14, "          .000"),
            (-5, 3, 14, "         -.005"),
            (-1000, 3, 14, "        -1.000"),
            (9_999_999_999_999, 3, 14, "9999999999.999"),
            (-999_999_999_999, 3, 14, "-999999999.999"),
            (1500, 12, 15, "  .000000001500"),
            (-9_999_999_999_999, 12, 15, "-9.999999999999"),
        ];
        for (v, dec, width, want) in cases {
            let mut out = Vec::new();
            assert!(push_fixed(&mut out, v, dec, width), "{v}");
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
        for (v, dec, width) in [(-1_000_000_000_000, 3, 14), (10_000_000_000_000, 3, 14)] {
            assert!(!push_fixed(&mut Vec::new(), v, dec, width), "{v}");
        }
    }

    #[test]
    fn text_differences() {
        let mut old = b"> 2025 01 01 00 00 30.0000000  0  2      G01C06".to_vec();
        apply_text_diff(
            &mut old,
            b"                 1 0              3      C 6G 7G01",
        );
        assert_eq!(old, b"> 2025 01 01 00 01 00.0000000  0  3      C06G07G01");
        apply_text_diff(
            &mut old,
            b"                   3              2      G 1   &&&",
        );
        assert_eq!(old, b"> 2025 01 01 00 01 30.0000000  0  2      G01G07   ");
        let mut flags = Vec::new();
        apply_text_diff(&mut flags, b"&&1&&5");
        assert_eq!(flags, b"  1  5");
    }

    #[test]
    fn bad_input_gives_line_errors() {
        // A difference where the arc was never started (G07 first seen at line 18).
        let (line, what) = line_error(&sample_with(18, "3&23000000000 120000000000  &&&1&&"));
        assert_eq!(line, 18, "{what}");
        assert!(what.contains("not initialised"), "{what}");
        // A difference after a missing value (G01 S1C was missing at line 19).
        let (line, _) = line_error(&sample_with(22, "-1 -50 44000    3"));
        assert_eq!(line, 22);
        // The epoch after an event must be a full line.
        let (line, what) = line_error(&sample_with(26, "                 2 3"));
        assert_eq!(line, 26, "{what}");
        // Not a number, a bad order, a value too wide for F14.3, an overflowing difference.
        for bad in ["x 1000 -250", "250 99&1 -250", "250 9999999999999999 -250"] {
            assert_eq!(line_error(&sample_with(13, bad)).0, 13, "{bad}");
        }
        assert_eq!(
            line_error(&sample_with(13, "9223372036854775807 1000 -250")).0,
            13
        );
        // A satellite of a system without observation types.
        let (line, what) = line_error(&sample_with(
            7,
            "> 2025 01 01 00 00 00.0000000  0  2      G01R06",
        ));
        assert_eq!(line, 10, "{what}");
        // A list shorter than the count; a count that is not a number.
        assert_eq!(
            line_error(&sample_with(
                7,
                "> 2025 01 01 00 00 00.0000000  0  3      G01C06"
            ))
            .0,
            7
        );
        assert_eq!(
            line_error(&sample_with(7, "> 2025 01 01 00 00 00.0000000  0  x")).0,
            7
        );
        // Cut short inside an epoch and inside an event; no END OF HEADER; CRINEX 1.0.
        let cut: String = SAMPLE.lines().take(17).map(|l| format!("{l}\n")).collect();
        assert_eq!(line_error(&cut).0, 15);
        let cut: String = SAMPLE.lines().take(24).map(|l| format!("{l}\n")).collect();
        assert_eq!(line_error(&cut).0, 24);
        let head: String = SAMPLE.lines().take(5).map(|l| format!("{l}\n")).collect();
        assert!(line_error(&head).1.contains("END OF HEADER"));
        assert_eq!(line_error(&SAMPLE.replacen("3.0 ", "1.0 ", 1)).0, 1);
        assert!(expand("").is_err());
    }

    proptest::proptest! {
        /// Any change of any byte, or any cut, gives text or an error, never a panic.
        #[test]
        fn never_panics(pos in 0usize..2000, byte in proptest::num::u8::ANY, cut in 0usize..2000) {
            let mut b = SAMPLE.as_bytes().to_vec();
            let pos = pos % b.len();
            b[pos] = byte;
            b.truncate(cut.max(pos + 1));
            let text = String::from_utf8_lossy(&b);
            let _ = expand(&text);
            let _ = read_obs_of(&text, Some(&[Gnss::Gps]));
        }
    }
}
