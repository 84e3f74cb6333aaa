"""Time build_export and each non-PDF format on the seed-scale document; peak memory per format in a child process.

    MANIFESTO_INSTANCE_PATH=/tmp/scale .venv/bin/python scripts/bench_formats.py
(after `flask --app manifesto db upgrade` and `flask --app manifesto seed-scale` in that instance folder;
the PDF has its own benchmark, scripts/bench_export.py).
"""
import resource, subprocess, sys, time, json

CODE = r'''
import resource, sys, time, json
from manifesto import create_app
from manifesto.documents.services import get_document_or_404
from manifesto.exports.build import build_export
from manifesto.exports.options import ExportOptions
from manifesto.exports import formats, cache
from manifesto.extensions import db
from sqlalchemy import event
fmt, lines, annex = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
app = create_app()
with app.app_context():
    count = [0]
    event.listen(db.engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
    document = get_document_or_404("convention")
    options = ExportOptions(line_numbers=lines, annex=annex, contributors=annex)
    t0 = time.perf_counter(); key = cache.cache_key(document, None, fmt, options); t1 = time.perf_counter()
    queries_key = count[0]
    doc = build_export(document, None, options); t2 = time.perf_counter()
    queries_build = count[0] - queries_key
    data = formats.render(fmt, doc); t3 = time.perf_counter()
    print(json.dumps({"fmt": fmt, "lines": lines, "annex": annex, "key_s": round(t1 - t0, 3), "key_queries": queries_key,
        "build_s": round(t2 - t1, 2), "build_queries": queries_build, "render_s": round(t3 - t2, 2), "bytes": len(data),
        "sections": len(doc.sections), "annex_entries": len(doc.annex), "contributors": len(doc.contributors),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
'''
for fmt in sys.argv[1:] or ["md", "html", "txt", "docx"]:
    for lines, annex in (("0", "0"), ("1", "1")):
        out = subprocess.run([sys.executable, "-c", CODE, fmt, lines, annex], capture_output=True, text=True)
        print(out.stdout.strip() or out.stderr[-2000:])
