"""Time releases at convention scale: publish, the release page, the redline (two releases, and vs live).

    MANIFESTO_INSTANCE_PATH=/tmp/scale .venv/bin/python scripts/bench_releases.py --slug convention --repeat 10
(needs `flask db upgrade` and `flask seed-scale` first; it publishes two releases with 30 edits between them).
"""
import argparse
import statistics
import time

from sqlalchemy import event, select

from manifesto import create_app
from manifesto.accounts.models import User
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.releases import services
from manifesto.releases.models import Release
from manifesto.releases.redline import compare_texts


def main():
    """Publish two releases if needed, then time the pages."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--slug", default="convention")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    app = create_app({"SERVER_NAME": "localhost"})
    with app.app_context():
        document = documents.get_document_or_404(args.slug)
        admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id))
        existing = {r.slug for r in services.list_releases(document)}
        if "bench-1" not in existing:
            started = time.perf_counter()
            services.publish_release(admin, document.id, name="Bench 1")
            print(f"publish_release (first): {1000 * (time.perf_counter() - started):.0f} ms")
            if document.phase != "final":
                for entry in documents.current_sections(document)[::10]:
                    documents.edit_section(admin, document.id, entry.section.id, heading=entry.version.heading,
                                           body=entry.version.body + " A bench sentence.", reason="bench",
                                           base_version=entry.section.version_count)
            started = time.perf_counter()
            services.publish_release(admin, document.id, name="Bench 2")
            print(f"publish_release (second): {1000 * (time.perf_counter() - started):.0f} ms")
        first = services.get_release_or_404(document, "bench-1")
        second = services.get_release_or_404(document, "bench-2")
        started = time.perf_counter()
        changes = compare_texts(document, first, second)
        print(f"compare_texts: {1000 * (time.perf_counter() - started):.0f} ms, {len(changes)} sections, "
              f"{sum(c.text_changed for c in changes)} changed")
        client = app.test_client()
        counter = {"n": 0}

        def count(*_args, **_kw):
            counter["n"] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        for url in (f"/d/{args.slug}/releases", f"/d/{args.slug}/releases/bench-2",
                    f"/d/{args.slug}/compare?from=bench-1&to=bench-2", f"/d/{args.slug}/compare?from=bench-1&to=live"):
            times = []
            for _ in range(args.repeat):
                counter["n"] = 0
                started = time.perf_counter()
                response = client.get(url)
                times.append(1000 * (time.perf_counter() - started))
                assert response.status_code == 200, (url, response.status_code)
            print(f"{url}: median {statistics.median(times):.0f} ms, {len(response.data) // 1024} KiB, "
                  f"{counter['n']} statements")


if __name__ == "__main__":
    main()
