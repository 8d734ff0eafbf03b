#!/usr/bin/env python3
"""Time pyubx2 (the Python UBX decoder the tests compare against) decoding every frame of a
file, the same work as the `decode/bench-rawx.ubx` criterion bench does in corsd.

    .venv/bin/python scripts/bench-pyubx2.py fixtures/bench-rawx.ubx [repeats]

Prints the median of the repeats in MB/s and frames/s (decoding only: the file is read into
memory first, as the bench does).
"""
import io
import statistics
import sys
import time

from pyubx2 import UBX_PROTOCOL, UBXReader


def decode_all(data: bytes) -> int:
    n = 0
    for _raw, msg in UBXReader(io.BytesIO(data), protfilter=UBX_PROTOCOL, quitonerror=2):
        n += msg is not None
    return n


def main() -> None:
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    data = open(path, "rb").read()
    times = []
    frames = 0
    for _ in range(repeats):
        start = time.perf_counter()
        frames = decode_all(data)
        times.append(time.perf_counter() - start)
    t = statistics.median(times)
    print(
        f"pyubx2 {path}: {frames} frames, {len(data)} bytes, median {t * 1000:.1f} ms "
        f"({len(data) / t / 1e6:.2f} MB/s, {frames / t:.0f} frames/s) over {repeats} runs"
    )


if __name__ == "__main__":
    main()
