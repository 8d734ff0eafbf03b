//! Full decode throughput (framing + CRC + every field of every message), corsd against rtcm-rs
//! on the same bytes in the same run; and the whole `corsd decode` path (decoding plus one text or
//! JSON line per frame, into a sink), with rtcm-rs decoding and serde_json writing a line per
//! message as the yardstick for JSON.
//!
//! Inputs are the project's own simulated streams in `fixtures/` (see fixtures/README.md):
//! `bench-msm7.rtcm3` (MSM7 observations of 5 GNSS only), `bench-mixed.rtcm3` (MSM4 + MSM7,
//! ephemerides and station messages, as a station sends them) and `bench-rawx.ubx` (the
//! same sky as a u-blox receiver's RXM-RAWX).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; regenerate it with the command in fixtures/README.md",
            p.display()
        )
    })
}

fn corsd_decode(data: &[u8]) -> usize {
    let mut framer = corsd::framing::Framer::new();
    framer.push(data);
    framer.finish();
    let mut n = 0;
    while let Some(frame) = framer.next_frame() {
        if let Ok(m) = corsd::messages::rtcm3::decode(frame.payload()) {
            n += black_box(&m).number() as usize;
        }
    }
    n
}

fn rtcm_rs_decode(mut data: &[u8]) -> usize {
    let mut n = 0;
    loop {
        let (consumed, frame) = rtcm_rs::next_msg_frame(data);
        if let Some(f) = frame {
            let m = f.get_message();
            black_box(&m);
            n += f.message_number().unwrap_or(0) as usize;
        }
        if consumed == 0 {
            break;
        }
        data = &data[consumed..];
    }
    n
}

/// `corsd decode [--json]` minus the files: the command's own stream function into a sink.
fn corsd_lines(data: &[u8], json: bool) -> u64 {
    let mut input = data;
    let report = corsd::commands::decode::decode_stream(&mut input, &mut std::io::sink(), json)
        // Neither a byte slice nor the sink can fail.
        .expect("in-memory decode");
    report.framer().frames()
}

/// rtcm-rs's messages as JSON lines through serde_json, into a reused buffer.
fn rtcm_rs_json_lines(mut data: &[u8], out: &mut Vec<u8>) -> usize {
    let mut n = 0;
    loop {
        let (consumed, frame) = rtcm_rs::next_msg_frame(data);
        if let Some(f) = frame {
            out.clear();
            // Writing into a Vec cannot fail, and rtcm-rs's messages serialise.
            serde_json::to_writer(&mut *out, &f.get_message()).expect("rtcm-rs message to JSON");
            out.push(b'\n');
            n += black_box(out.len());
        }
        if consumed == 0 {
            break;
        }
        data = &data[consumed..];
    }
    n
}

fn bench(c: &mut Criterion) {
    for name in ["bench-msm7.rtcm3", "bench-mixed.rtcm3"] {
        let data = fixture(name);
        // Both decoders must see the same messages, or the comparison means nothing.
        assert_eq!(
            corsd_decode(&data),
            rtcm_rs_decode(&data),
            "{name}: decoders disagree on the frames"
        );
        let mut g = c.benchmark_group(format!("decode/{name}"));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function("corsd", |b| b.iter(|| corsd_decode(black_box(&data))));
        g.bench_function("rtcm-rs", |b| b.iter(|| rtcm_rs_decode(black_box(&data))));
        g.finish();

        let mut g = c.benchmark_group(format!("decode-lines/{name}"));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function("corsd text", |b| {
            b.iter(|| corsd_lines(black_box(&data), false))
        });
        g.bench_function("corsd json", |b| {
            b.iter(|| corsd_lines(black_box(&data), true))
        });
        let mut out = Vec::new();
        g.bench_function("rtcm-rs + serde_json", |b| {
            b.iter(|| rtcm_rs_json_lines(black_box(&data), &mut out))
        });
        g.finish();
    }
}

/// Every UBX frame decoded, every field.
fn corsd_ubx_decode(data: &[u8]) -> usize {
    let mut framer = corsd::framing::Framer::new();
    framer.push(data);
    framer.finish();
    let mut n = 0;
    while let Some(frame) = framer.next_frame() {
        if let Ok(m) = corsd::messages::ubx::decode_frame(frame.bytes) {
            n += black_box(&m).class_id().1 as usize;
        }
    }
    n
}

/// Every UBX frame decoded and turned into corsd's observation epochs (slip flags included).
fn corsd_ubx_epochs(data: &[u8]) -> usize {
    let mut framer = corsd::framing::Framer::new();
    framer.push(data);
    framer.finish();
    let mut rx = corsd::messages::ubx::UbxReceiver::new(None);
    let mut n = 0;
    while let Some(frame) = framer.next_frame() {
        if let Ok(m) = corsd::messages::ubx::decode_frame(frame.bytes)
            && let Some(corsd::messages::ubx::UbxEvent::Epoch(e)) = rx.push(&m)
        {
            n += black_box(&e).sats.len();
        }
    }
    n
}

/// u-blox RXM-RAWX. The peers are programs, timed whole-process outside criterion on the same
/// file: pyubx2 (`scripts/bench-pyubx2.py`) and RTKLIB's `convbin -r ubx` (see the README).
fn bench_ubx(c: &mut Criterion) {
    let data = fixture("bench-rawx.ubx");
    assert!(corsd_ubx_epochs(&data) > 0, "the fixture holds epochs");
    let mut g = c.benchmark_group("decode/bench-rawx.ubx");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("corsd decode", |b| {
        b.iter(|| corsd_ubx_decode(black_box(&data)))
    });
    g.bench_function("corsd decode+epochs", |b| {
        b.iter(|| corsd_ubx_epochs(black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, bench, bench_ubx);
criterion_main!(benches);
