"""Time the JSON archive and its import, and their peak memory, on a convention-sized database.

Usage (the app is configured from the environment exactly as ``flask`` is)::

    DATABASE_URL=... python scripts/bench_archive.py export -o /tmp/a.json [--stream] [--emails]
    DATABASE_URL=<an empty database, schema made by db upgrade> python scripts/bench_archive.py import /tmp/a.json

Fill the first database with ``flask --app manifesto seed-scale``. ``export``
builds the archive in memory as bytes (what ``write_archive`` gives the
export command and the download), or with ``--stream`` writes it to the file
as it is read (``write_archive_to``). ``import`` restores it and then
exports again and says whether the second archive is byte-identical. Each
run prints wall time, the peak resident memory of the process (one
operation per process, so peaks do not mix), and the sizes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from manifesto import create_app  # noqa: E402
from manifesto.exports.archive.reader import import_archive  # noqa: E402
from manifesto.exports.archive.writer import write_archive, write_archive_to  # noqa: E402


def peak_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run one measured operation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export")
    export.add_argument("-o", "--output", required=True)
    export.add_argument("--stream", action="store_true", help="write as it is read (write_archive_to)")
    export.add_argument("--emails", action="store_true", help="include email addresses")
    restore = commands.add_parser("import")
    restore.add_argument("archive")
    args = parser.parse_args()

    app = create_app()
    with app.app_context():
        baseline = peak_mib()
        if args.command == "export":
            start = time.perf_counter()
            if args.stream:
                with open(args.output, "wb") as stream:
                    size = write_archive_to(stream, include_emails=args.emails)
            else:
                data = write_archive(include_emails=args.emails)
                Path(args.output).write_bytes(data)
                size = len(data)
            elapsed = time.perf_counter() - start
            peak = peak_mib()  # before the file is read back for its gzipped size
            compressed = len(gzip.compress(Path(args.output).read_bytes(), compresslevel=6))
            print(f"export ({'streamed' if args.stream else 'bytes'}): {elapsed:.1f} s, {size / 2**20:.1f} MiB "
                  f"({compressed / 2**20:.1f} MiB gzipped), peak memory {peak:.0f} MiB "
                  f"(app loaded: {baseline:.0f} MiB)")
        else:
            data = Path(args.archive).read_bytes()
            start = time.perf_counter()
            summary = import_archive(data)
            elapsed = time.perf_counter() - start
            peak = peak_mib()
            print(f"import: {elapsed:.1f} s, {sum(summary.counts.values())} rows, peak memory {peak:.0f} MiB "
                  f"(app loaded: {baseline:.0f} MiB)")
            print(summary.describe())
            again = write_archive(include_emails=summary.includes_emails)
            same = hashlib.sha256(again).digest() == hashlib.sha256(data).digest()
            print(f"second export byte-identical: {same}")
            if not same:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
