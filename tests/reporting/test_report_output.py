"""dlw report -o: a regular file only, an earlier page replaced, anything else left as it is, never half-written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dlworkflow.errors import RegistryError
from dlworkflow.reporting.html_report import is_report, write_report

RECORD = {"name": "weather", "description": "a <b>bold</b> idea"}


def test_a_page_is_written_and_an_earlier_page_replaced(tmp_path):
    path = write_report(RECORD, None, tmp_path / "pages" / "weather.html")
    assert is_report(path) and "&lt;b&gt;bold" in path.read_text()
    write_report({**RECORD, "name": "again"}, None, path)
    assert "again" in path.read_text()
    assert sorted(p.name for p in path.parent.iterdir()) == ["weather.html"]


def test_a_file_dlw_did_not_write_is_left_as_it_is(tmp_path):
    notes = tmp_path / "notes.html"
    notes.write_text("<p>my notes</p>")
    with pytest.raises(RegistryError, match=r"notes.html: -o: the file exists and is not one dlw wrote; it is left as it is"):
        write_report(RECORD, None, notes)
    assert notes.read_text() == "<p>my notes</p>"


@pytest.mark.parametrize("target", ["/dev/full", "folder"])
def test_a_device_or_a_folder_is_refused(tmp_path, target):
    path = Path(target) if target.startswith("/") else tmp_path
    if not path.exists():
        pytest.skip(f"no {target}")
    with pytest.raises(RegistryError, match="is a character device|is a folder"):
        write_report(RECORD, None, path)
    if target.startswith("/"):
        assert path.is_char_device()


def test_a_full_disk_leaves_no_temporary_file(tmp_path, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(RegistryError, match=r"page.html: -o: cannot write the file \(No space left on device\)"):
        write_report(RECORD, None, tmp_path / "page.html")
    assert list(tmp_path.iterdir()) == []
