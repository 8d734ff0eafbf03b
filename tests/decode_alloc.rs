//! `corsd decode` allocates nothing per frame beyond what the message decoder itself needs: text
//! and JSON lines are written straight into reused buffers, and the summary counts frames under
//! small copyable keys.
//!
//! A counting global allocator (per thread, so that parallel tests do not disturb each other)
//! measures the whole command on a real recording once and on the same recording three times
//! over; the extra allocations must be those of framing, decoding and serialising the extra
//! messages, counted the same way, and nothing more.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::sync::Mutex;

use corsd::commands::decode::{DecodeArgs, run};
use corsd::framing::{FrameKind, Framer};
use corsd::messages::rtcm3;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with` because the allocator may run while this thread's locals are being torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call forwards to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

/// Standard output and error point at /dev/null while `f` runs: the command writes tens of
/// megabytes. The descriptors are process-wide, hence the lock.
fn quietly(f: impl FnOnce()) {
    static FDS: Mutex<()> = Mutex::new(());
    let _held = FDS.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: plain descriptor calls on a path and descriptors this function owns; the
    // originals are restored before it returns.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        assert!(null >= 0, "cannot open /dev/null");
        let (out, err) = (libc::dup(1), libc::dup(2));
        assert!(out >= 0 && err >= 0, "cannot duplicate stdout/stderr");
        libc::dup2(null, 1);
        libc::dup2(null, 2);
        f();
        libc::dup2(out, 1);
        libc::dup2(err, 2);
        libc::close(out);
        libc::close(err);
        libc::close(null);
    }
}

fn command_allocations(input: &Path, json: bool) -> u64 {
    let args = DecodeArgs {
        json,
        input: input.to_path_buf(),
    };
    let mut result = None;
    let n = allocations_in(|| quietly(|| result = Some(run(&args))));
    if let Some(Err(e)) = result {
        panic!("corsd decode {}: {e:#}", input.display());
    }
    n
}

/// What framing, decoding and the message types' own `Serialize` impls allocate for these bytes
/// (a station text field is turned into a `String` as it is serialised): the floor the command
/// cannot go under without changing the message types.
fn decoder_allocations(data: &[u8]) -> (u64, u64) {
    fn decode_and_serialise(payload: &[u8]) {
        if let Ok(msg) = rtcm3::decode(payload) {
            // Writing into a sink cannot fail; the messages serialise.
            serde_json::to_writer(std::io::sink(), &msg).expect("message serialises");
        }
    }
    let mut frames = 0;
    let n = allocations_in(|| {
        let mut framer = Framer::new();
        for chunk in data.chunks(1 << 16) {
            framer.push(chunk);
            while let Some(f) = framer.next_frame() {
                frames += 1;
                if f.kind == FrameKind::Rtcm3 {
                    decode_and_serialise(f.payload());
                }
            }
        }
        framer.finish();
        while let Some(f) = framer.next_frame() {
            frames += 1;
            if f.kind == FrameKind::Rtcm3 {
                decode_and_serialise(f.payload());
            }
        }
    });
    (n, frames)
}

/// Slack for buffers that grow once to their working size (framer, output, summary).
const SETUP_SLACK: u64 = 64;

fn check(json: bool) {
    let rel = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";
    let once = common::read_data(rel);
    let thrice = once.repeat(3);
    let dir =
        std::env::temp_dir().join(format!("corsd-decode-alloc-{}-{json}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (p1, p3) = (dir.join("once.rtcm3"), dir.join("thrice.rtcm3"));
    std::fs::write(&p1, &once).expect("write temp input");
    std::fs::write(&p3, &thrice).expect("write temp input");

    let cmd1 = command_allocations(&p1, json);
    let cmd3 = command_allocations(&p3, json);
    let (dec1, frames1) = decoder_allocations(&once);
    let (dec3, frames3) = decoder_allocations(&thrice);
    let _ = std::fs::remove_dir_all(&dir);

    let extra_frames = frames3 - frames1;
    assert!(extra_frames > 15_000, "{extra_frames} frames");
    let extra_cmd = cmd3.saturating_sub(cmd1);
    let extra_dec = dec3.saturating_sub(dec1);
    let output_path = extra_cmd.saturating_sub(extra_dec);
    assert!(
        output_path <= SETUP_SLACK,
        "json={json}: {extra_frames} more frames cost the command {extra_cmd} more allocations, \
         of which framing, decoding and the messages' serialisers make {extra_dec}: the output path adds {output_path} \
         ({:.2} per frame)",
        output_path as f64 / extra_frames as f64
    );
}

#[test]
fn text_output_allocates_nothing_per_frame() {
    check(false);
}

#[test]
fn json_output_allocates_nothing_per_frame() {
    check(true);
}
