//! Framing + CRC-24Q throughput, corsd's framer against rtcm-rs's `next_msg_frame` on the same
//! bytes, and the CRC alone; the UBX path (Fletcher checksum) on a raw receiver's stream.

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

fn corsd_frames(data: &[u8]) -> usize {
    let mut f = corsd::framing::Framer::new();
    f.push(data);
    f.finish();
    let mut n = 0;
    while let Some(fr) = f.next_frame() {
        n += black_box(fr.bytes.len());
    }
    n
}

fn rtcm_rs_frames(mut data: &[u8]) -> usize {
    let mut n = 0;
    loop {
        let (consumed, frame) = rtcm_rs::next_msg_frame(data);
        if let Some(f) = frame {
            n += black_box(f.frame_len());
        }
        if consumed == 0 {
            break;
        }
        data = &data[consumed..];
    }
    n
}

fn bench(c: &mut Criterion) {
    let data = fixture("bench-mixed.rtcm3");
    assert_eq!(
        corsd_frames(&data),
        rtcm_rs_frames(&data),
        "both framers find the same bytes"
    );
    let mut g = c.benchmark_group("framing");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("corsd framer+crc", |b| {
        b.iter(|| corsd_frames(black_box(&data)))
    });
    g.bench_function("rtcm-rs next_msg_frame", |b| {
        b.iter(|| rtcm_rs_frames(black_box(&data)))
    });
    g.bench_function("crc24q alone", |b| {
        b.iter(|| corsd::framing::crc24q(black_box(&data)))
    });
    g.finish();
    // A u-blox raw stream (RXM-RAWX, about 100 measurements an epoch): the framer's UBX path
    // and its Fletcher checksum.
    let ubx = fixture("bench-rawx.ubx");
    let mut g = c.benchmark_group("framing/ubx");
    g.throughput(Throughput::Bytes(ubx.len() as u64));
    g.bench_function("corsd framer+checksum", |b| {
        b.iter(|| corsd_frames(black_box(&ubx)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
