"""``flask --app manifesto export``: a file for every format, releases by name, clear errors."""

from __future__ import annotations

import json
import zipfile

import pytest

from manifesto.releases import services as releases
from harness import require_pdf
from tests.export_helpers import make_rich_document


@pytest.fixture
def rich(make_document, users):
    """A document with lists, quotes, links, a table and accents."""
    return make_rich_document(make_document, users)


@pytest.mark.parametrize("fmt", ["md", "html", "txt", "docx", "json", "pdf"])
def test_export_writes_a_file_for_every_format(runner, rich, tmp_path, fmt):
    if fmt == "pdf":
        require_pdf()
    target = tmp_path / f"out.{fmt}"
    result = runner.invoke(args=["export", "doc", "--format", fmt, "--line-numbers", "--annex", "--credits",
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data
    if fmt == "docx":
        assert zipfile.is_zipfile(target)
    elif fmt == "pdf":
        assert data.startswith(b"%PDF-")
    elif fmt == "json":
        assert json.loads(data)["format"] == "manifesto-archive"
    else:
        assert "Purpose and scope" in data.decode("utf-8")
    assert f"Wrote {target}" in result.output
    if fmt in ("docx", "pdf"):
        assert "Writing the" in result.output  # the progress bar


def test_export_of_a_release_by_name_with_a_redline(runner, rich, users, tmp_path):
    releases.publish_release(users["moderator"], rich.id, name="Draft 1")
    releases.publish_release(users["moderator"], rich.id, name="Draft 2")
    target = tmp_path / "draft2.txt"
    result = runner.invoke(args=["export", "doc", "--format", "txt", "--release", "Draft 2", "--against", "draft-1",
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert "Draft 2 · " in text and "Changes since Draft 1" in text


@pytest.mark.parametrize("args, message", [
    (["export", "nowhere", "--format", "md"], "There is no document"),
    (["export", "doc", "--format", "md", "--release", "Draft 9"], "no release"),
    (["export", "doc", "--format", "md", "--against", "Draft 9"], "no release"),
    (["export", "doc", "--format", "odt"], "Invalid value for '--format'"),
])
def test_export_refuses_unknown_documents_releases_and_formats(runner, rich, tmp_path, args, message):
    target = tmp_path / "out"
    result = runner.invoke(args=[*args, "-o", str(target)])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not target.exists()


def test_export_to_standard_output(runner, rich):
    result = runner.invoke(args=["export", "doc", "--format", "md", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Test manifesto\n")
