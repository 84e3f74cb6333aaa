"""Time the PDF export at convention scale and measure its peak memory.

Usage:
    python scripts/bench_export.py                      # seed a temporary SQLite database, then measure
    python scripts/bench_export.py --keep /tmp/bench    # ... and keep it there for the next run
    python scripts/bench_export.py --database-url sqlite:////tmp/bench/manifesto.sqlite --slug convention
    python scripts/bench_export.py --seed-args "--chars 50000 --amendments 300 --comments 0"   # a quick run

Without ``--database-url`` (or ``DATABASE_URL``) the script makes a temporary
folder, builds the schema (``flask db upgrade``) and fills it with
``flask --app manifesto seed-scale`` (about 450,000 characters, 3,600
amendments; ten minutes or so), then measures. Each measured export runs in a
child process of its own: WeasyPrint's memory is mostly C memory (Pango,
HarfBuzz, cairo-free layout boxes), which tracemalloc does not see, so the
figure reported is the child's peak resident set size (``ru_maxrss`` read
with ``os.wait4``), which counts everything: Python, the app, the database
driver, WeasyPrint and its libraries.

Reported per variant: the time to read the text (``build_export``), the time
to typeset and write the PDF (``render_pdf``), the child's CPU time (the
render is single-threaded, so on an idle machine the wall time is about this),
pages, file size and peak memory, against the issue's targets: under 60 s and
under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0
TARGET_BYTES = 1024**3
# name -> ExportOptions fields
VARIANTS = {
    "lines+annex": {"line_numbers": True, "annex": True},
    "lines": {"line_numbers": True},
    "plain": {},
    "lines+annex+credits": {"line_numbers": True, "annex": True, "contributors": True},
}


def _flask(env: dict[str, str], log: Path, *args: str) -> None:
    """Run a ``flask --app manifesto`` command with this environment, its output going to ``log``."""
    command = [sys.executable, "-m", "flask", "--app", "manifesto", *args]
    print("$", " ".join(shlex.quote(part) for part in command[2:]), f"  (output in {log})", flush=True)
    with log.open("a") as out:
        result = subprocess.run(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed; see {log}")


def seed(env: dict[str, str], seed_args: str, folder: Path) -> None:
    """Build the schema and load the convention-scale event into the database ``env`` names."""
    log = folder / "seed.log"
    _flask(env, log, "db", "upgrade")
    started = time.monotonic()
    _flask(env, log, "seed-scale", *shlex.split(seed_args))
    summary = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("  ")][-3:]
    print(f"seeded in {time.monotonic() - started:.0f} s:", *summary, sep="\n", flush=True)


def child(slug: str, variant: str, out: str) -> None:
    """In the child process: build and render one export, then print the figures as JSON."""
    from manifesto import create_app
    from manifesto.documents.services import get_document_or_404
    from manifesto.exports.build import build_export
    from manifesto.exports.options import ExportOptions
    from manifesto.exports.pdf import render_pdf
    from manifesto.extensions import db

    app = create_app()
    with app.app_context():
        document = get_document_or_404(slug)
        options = ExportOptions(**VARIANTS[variant])
        started = time.monotonic()
        export = build_export(document, None, options)
        db.session.commit()
        built = time.monotonic()
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            """Show how far the render got, every few seconds."""
            now = time.monotonic()
            if now - last[0] >= 5 or stage in ("Writing the PDF", "Done"):
                last[0] = now
                print(f"    {now - built:5.1f} s  {stage} ({done}/{total})", file=sys.stderr, flush=True)

        data = render_pdf(export, progress)
        rendered = time.monotonic()
        Path(out).write_bytes(data)
    from pypdf import PdfReader

    pages = len(PdfReader(out).pages)
    print(json.dumps({
        "build_s": built - started, "render_s": rendered - built, "pages": pages, "bytes": len(data),
        "sections": len(export.sections), "lines": sum(len(s.lines) for s in export.sections),
        "characters": sum(len(line.text) for s in export.sections for line in s.lines),
        "annex": len(export.annex), "contributors": len(export.contributors),
    }))


def measure(env: dict[str, str], slug: str, variant: str, folder: Path) -> dict:
    """Run one export in a child process; return its figures and its peak resident memory."""
    out = folder / f"{slug}-{variant}.pdf"
    command = [sys.executable, __file__, "--child", variant, "--slug", slug, "--out", str(out)]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    output = process.stdout.read().decode()
    process.stdout.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the {variant} export failed (exit {process.returncode})")
    figures = json.loads(output.strip().splitlines()[-1])
    figures.update(variant=variant, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                   peak_bytes=usage.ru_maxrss * 1024, file=str(out))
    return figures


def main() -> None:
    """Seed when needed, measure each variant, print a table and the verdict against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="use this database (already seeded) instead of seeding a temporary SQLite one")
    parser.add_argument("--slug", default="convention", help="the document to export")
    parser.add_argument("--keep", help="seed into this folder and keep it (reuse it with --database-url)")
    parser.add_argument("--seed-args", default="", help="arguments for seed-scale, e.g. \"--chars 50000\"")
    parser.add_argument("--variants", default="lines+annex,plain",
                        help=f"comma-separated, among: {', '.join(VARIANTS)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.slug, args.child, args.out)
        return

    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-export-"))  # kept: it holds the PDFs to look at
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QUEUE_MODE": "immediate", "MANIFESTO_INSTANCE_PATH": str(folder / "instance")}
    env.setdefault("SECRET_KEY", "bench-export")
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env["DATABASE_URL"] = f"sqlite:///{folder / 'manifesto.sqlite'}"
        seed(env, args.seed_args, folder)

    print(f"\nPDF export of /d/{args.slug} ({os.cpu_count()} CPUs), each variant in a fresh process:", flush=True)
    results = []
    for variant in [name.strip() for name in args.variants.split(",") if name.strip()]:
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant!r}; choose among {', '.join(VARIANTS)}")
        print(f"  {variant} ...", flush=True)
        results.append(measure(env, args.slug, variant, folder))

    print(f"\n{'variant':<22}{'build':>8}{'render':>9}{'total':>9}{'CPU':>8}{'pages':>7}{'size':>9}"
          f"{'peak RSS':>11}  verdict")
    ok = True
    for r in results:
        total = r["build_s"] + r["render_s"]
        good = total < TARGET_SECONDS and r["peak_bytes"] < TARGET_BYTES
        ok = ok and good
        print(f"{r['variant']:<22}{r['build_s']:>7.1f}s{r['render_s']:>8.1f}s{total:>8.1f}s{r['cpu_s']:>7.1f}s"
              f"{r['pages']:>7}"
              f"{r['bytes'] / 1024**2:>7.1f}MB{r['peak_bytes'] / 1024**2:>8.0f} MiB  "
              f"{'ok' if good else 'OVER TARGET'}")
    first = results[0]
    print(f"\ntext: {first['sections']} sections, {first['lines']} numbered lines, {first['characters']:,} "
          f"characters; annex: {first['annex']} amendments. Targets: under {TARGET_SECONDS:.0f} s and "
          f"{TARGET_BYTES / 1024**3:.0f} GiB. CPU: the child's user+system time, the whole process (start-up "
          f"included); on a busy machine it says what the wall times would be on an idle one. Files in {folder}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
