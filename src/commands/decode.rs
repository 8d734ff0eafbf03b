//! `corsd decode [--json] FILE|-`: every frame of a recorded stream, one line each.
//!
//! Lines are written into one output buffer that goes to the sink in blocks of whole lines; the
//! output path keeps its buffers from frame to frame and allocates nothing per frame (a test
//! counts it), so the command runs at the speed of framing and decoding.

mod json;
mod lines;
mod summary;

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::framing::{Framer, FramerStats};
use lines::Lines;
use summary::Summary;

#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Print one JSON object per frame (`{"type":1074,...}` for RTCM, `{"type":"GGA","talker":"GN",...}`
    /// for NMEA, `{"type":"UBX",...}` for UBX) instead of one text line.
    #[arg(long)]
    pub json: bool,
    /// The recording to read; `-` reads standard input.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,
}

/// Output is handed to the sink once this many bytes of whole lines are waiting.
const OUT_BLOCK: usize = 1 << 16;

pub fn run(args: &DecodeArgs) -> Result<()> {
    let mut input: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(
            File::open(&args.input)
                .with_context(|| format!("cannot open {}", args.input.display()))?,
        )
    };
    let stdout = io::stdout();
    let report = match decode_stream(&mut input, &mut stdout.lock(), args.json) {
        Ok(r) => r,
        Err(StreamError::Read(e)) => {
            return Err(e).with_context(|| format!("cannot read {}", args.input.display()));
        }
        Err(StreamError::Write(e)) => return Err(e.into()),
    };
    report.print();
    Ok(())
}

/// Why [`decode_stream`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read the input: {0}")]
    Read(#[source] io::Error),
    #[error("cannot write the output: {0}")]
    Write(#[source] io::Error),
}

/// What a decode run saw.
#[derive(Debug)]
pub struct Report {
    summary: Summary,
    framer: FramerStats,
}

impl Report {
    /// Frames per type, the framer's counters and the decode errors, on stderr.
    pub fn print(&self) {
        self.summary.print(&self.framer);
    }

    pub fn framer(&self) -> &FramerStats {
        &self.framer
    }
}

/// Frame and decode everything `input` holds and write one line per frame (text, or JSON with
/// `json`) to `sink`. A reader of `sink` that goes away (broken pipe) ends the run early, as a
/// pager's `q` should, and is no error.
pub fn decode_stream(
    input: &mut dyn Read,
    sink: &mut dyn Write,
    json: bool,
) -> Result<Report, StreamError> {
    let mut out = Vec::with_capacity(2 * OUT_BLOCK);
    let mut framer = Framer::new();
    let mut lines = Lines::new(json);
    let mut summary = Summary::default();
    let mut buf = vec![0u8; 1 << 16];
    let mut closed = false;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StreamError::Read(e)),
        };
        framer.push(&buf[..n]);
        closed = drain(&mut framer, &mut lines, &mut summary, &mut out, sink)?;
        if closed {
            break;
        }
    }
    if !closed {
        framer.finish();
        closed = drain(&mut framer, &mut lines, &mut summary, &mut out, sink)?;
    }
    if !closed && !write_block(&mut out, sink)? {
        match sink.flush() {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(StreamError::Write(e)),
            _ => {}
        }
    }
    Ok(Report {
        summary,
        framer: framer.stats().clone(),
    })
}

/// Emit every complete frame; returns true when the reader of our output has gone away.
fn drain(
    framer: &mut Framer,
    lines: &mut Lines,
    summary: &mut Summary,
    out: &mut Vec<u8>,
    sink: &mut dyn Write,
) -> Result<bool, StreamError> {
    while let Some(frame) = framer.next_frame() {
        lines.frame(&frame, summary, out);
        if out.len() >= OUT_BLOCK && write_block(out, sink)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Hand the waiting lines to `sink`; returns true when the reader has gone away.
fn write_block(out: &mut Vec<u8>, sink: &mut dyn Write) -> Result<bool, StreamError> {
    let res = sink.write_all(out);
    out.clear();
    match res {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(StreamError::Write(e)),
    }
}
