"""What compressing the heavy pages costs: milliseconds of CPU per page and the ratio, per coding and level.

The levels in manifesto/delivery.py were chosen with this. Run it against
a `seed-scale` instance (the reading page is then about 700 KiB):

    flask --app manifesto seed-scale
    .venv/bin/python scripts/bench_compression.py [--slug convention] [--runs 30]

It fetches each page once through the app (as a visitor), then compresses
the same bytes ``--runs`` times per candidate, alternating candidates so
that a busy machine slows them all alike, and prints the median and the
fastest run (the fastest is the CPU cost with the least noise).
"""

from __future__ import annotations

import argparse
import gzip
import logging
import statistics
import time

import brotli
from flask_compress.compat import compression

CANDIDATES = {
    "gzip 6": lambda data: gzip.compress(data, 6),
    "br 4": lambda data: brotli.compress(data, quality=4),
    "br 5": lambda data: brotli.compress(data, quality=5),
    "br 6": lambda data: brotli.compress(data, quality=6),
    "zstd 3": lambda data: compression.zstd.compress(data, 3),
}


def main() -> None:
    """Fetch the pages, compress them with every candidate, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slug", default="convention")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the app's request log would drown the table

    from manifesto import create_app

    app = create_app({"SERVER_NAME": "localhost"})
    client = app.test_client()
    pages = [f"/d/{args.slug}/", f"/d/{args.slug}/?lines=1", f"/d/{args.slug}/amendments/"]
    print(f"{'page':32} {'size':>9} {'coding':8} {'median ms':>9} {'min ms':>7} {'out':>9} {'ratio':>6}")
    for path in pages:
        response = client.get(path)
        data = response.get_data()
        if response.status_code != 200:
            print(f"{path}: {response.status_code}, skipped")
            continue
        times: dict[str, list[float]] = {name: [] for name in CANDIDATES}
        sizes: dict[str, int] = {}
        for _ in range(args.runs):
            for name, compress in CANDIDATES.items():
                start = time.perf_counter()
                sizes[name] = len(compress(data))
                times[name].append((time.perf_counter() - start) * 1000)
        for name in CANDIDATES:
            print(f"{path:32} {len(data) // 1024:>5} KiB {name:8} {statistics.median(times[name]):9.1f} "
                  f"{min(times[name]):7.1f} {sizes[name] // 1024:>5} KiB {len(data) / sizes[name]:5.1f}x")


if __name__ == "__main__":
    main()
