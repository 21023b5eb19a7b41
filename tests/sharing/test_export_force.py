"""dlw export --force: replaces only the files a valid dlworkflow manifest lists, and refuses anything else."""

from __future__ import annotations

import json
import os

import pytest

from dlworkflow import api
from dlworkflow.errors import RegistryError
from dlworkflow.sharing.bundle import BUNDLE_FILE, Bundle


def snapshot(folder):
    return {path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else None
            for path in sorted(folder.rglob("*"))}


@pytest.fixture()
def earlier(weather_run, tmp_path):
    """An earlier bundle of the run, in tmp_path/bundle."""
    return api.export(weather_run.id, tmp_path / "bundle", registry=weather_run.registry)


def export_again(weather_run, folder):
    return api.export(weather_run.id, folder, force=True, registry=weather_run.registry)


def test_force_replaces_an_earlier_bundle_in_place(weather_run, earlier):
    os.chmod(earlier, 0o750)
    inode = earlier.stat().st_ino
    (earlier / "model_card.md").write_text("stale")
    assert export_again(weather_run, earlier) == earlier
    assert earlier.stat().st_ino == inode and earlier.stat().st_mode & 0o777 == 0o750  # the same folder
    assert (earlier / "model_card.md").read_text().startswith("# Model card")
    assert Bundle.open(earlier).run_id == weather_run.id
    assert sorted(path.name for path in earlier.parent.iterdir()) == ["bundle"]  # no staging left


@pytest.mark.parametrize("foreign", ["src/main.py", "notes.txt", ".git/HEAD"])
def test_force_refuses_a_bundle_folder_holding_anything_else(weather_run, earlier, foreign):
    path = earlier / foreign
    path.parent.mkdir(exist_ok=True)
    path.write_text("keep me")
    before = snapshot(earlier)
    top = foreign.split("/")[0]
    with pytest.raises(RegistryError, match=f"holds what the earlier bundle's bundle.json does not list: '{top}'"
                                            ".*nothing was changed"):
        export_again(weather_run, earlier)
    assert snapshot(earlier) == before


@pytest.mark.parametrize("manifest, why", [
    ("{not json", "is not a dlworkflow manifest"),
    (json.dumps({"files": {"model.keras": {}}}), "is not a dlworkflow manifest"),
    (json.dumps({"format": "dlworkflow-bundle", "format_version": 1,
                 "files": {"model.keras": {}, "preprocessing.json": {}, "spec.toml": {}, "thesis.tex": {}}}),
     "lists files no dlworkflow bundle holds"),
])
def test_force_refuses_a_manifest_that_is_not_dlworkflows(weather_run, tmp_path, manifest, why):
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.py").write_text("print('mine')")
    (folder / "thesis.tex").write_text("keep me")
    (folder / BUNDLE_FILE).write_text(manifest)
    before = snapshot(folder)
    with pytest.raises(RegistryError, match=why):
        export_again(weather_run, folder)
    assert snapshot(folder) == before


def test_force_refuses_a_listed_name_that_is_a_link_or_a_folder(weather_run, earlier, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    (earlier / "model_card.md").unlink()
    (earlier / "model_card.md").symlink_to(outside)
    with pytest.raises(RegistryError, match="does not list: 'model_card.md'"):
        export_again(weather_run, earlier)
    assert outside.read_text() == "keep me" and (earlier / "model_card.md").is_symlink()


def test_a_device_is_not_a_folder(weather_run):
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with pytest.raises(RegistryError, match="/dev/null: is a character device, not a folder"):
        export_again(weather_run, "/dev/null")
