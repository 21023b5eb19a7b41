"""Bundles bounded: no link is followed, every file a regular file of a sane size, model.keras zips checked first."""

from __future__ import annotations

import json
import os
import shutil
import threading
import zipfile

import pytest

from dlworkflow import api
from dlworkflow.errors import DataError
from dlworkflow.sharing import model_loading
from dlworkflow.sharing.bundle import BUNDLE_FILE, MAX_FILE_BYTES, Bundle, manifest
from dlworkflow.sharing.model_loading import read_config


@pytest.fixture(scope="module")
def exported(weather_run, tmp_path_factory):
    return api.export(weather_run.id, tmp_path_factory.mktemp("bounded") / "weather", registry=weather_run.registry)


@pytest.fixture()
def bundle(exported, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(exported, copy)
    return copy


def rehash(folder, record):
    """Write a manifest matching the folder's files: anyone can (the manifest detects damage, not tampering)."""
    files = sorted(json.loads((folder / BUNDLE_FILE).read_text())["files"])
    (folder / BUNDLE_FILE).write_text(json.dumps(manifest(folder, files, record)))


def test_a_link_in_a_bundle_is_refused_wherever_it_points(bundle, tmp_path):
    outside = tmp_path / "preprocessing.json"
    shutil.move(bundle / "preprocessing.json", outside)
    (bundle / "preprocessing.json").symlink_to(outside)  # same bytes: the sha256 would match
    with pytest.raises(DataError, match=r"preprocessing.json: is a symbolic link \(to '.*'\); a bundle holds regular"):
        Bundle.open(bundle)
    (bundle / "preprocessing.json").unlink()
    shutil.move(outside, bundle / "preprocessing.json")
    (bundle / "notes").symlink_to("/etc")
    with pytest.raises(DataError, match="notes: is a symbolic link"):
        Bundle.open(bundle)


def test_a_fifo_in_place_of_a_file_is_refused_without_reading_it(bundle):
    (bundle / "model.keras").unlink()
    os.mkfifo(bundle / "model.keras")
    finished = threading.Event()
    errors = []

    def open_it():
        try:
            Bundle.open(bundle)
        except DataError as err:
            errors.append(str(err))
        finished.set()

    threading.Thread(target=open_it, daemon=True).start()
    assert finished.wait(10), "opening the bundle blocked on a FIFO"
    assert "model.keras: is a FIFO (named pipe), not a regular file" in errors[0]


def test_an_oversized_small_file_is_refused_before_it_is_read(bundle, weather_run, monkeypatch):
    monkeypatch.setitem(MAX_FILE_BYTES, "preprocessing.json", 100)
    with pytest.raises(DataError, match=r"preprocessing.json: holds \d+ bytes, more than a bundle's "
                                        r"preprocessing.json may \(100 bytes\)"):
        Bundle.open(bundle)


def test_a_size_that_differs_from_the_manifest_is_damage(bundle):
    with (bundle / "spec.toml").open("a") as file:
        file.write("\n# changed\n")
    with pytest.raises(DataError, match=r"spec.toml: its sha256 does not match bundle.json.*it holds \d+ bytes, "
                                        r"the manifest says \d+"):
        Bundle.open(bundle)


def replace_member(path, name, data, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist() if info.filename != name}
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
        archive.writestr(name, data)


def test_an_inflated_config_is_refused_from_the_zip_directory(bundle, weather_run, tmp_path):
    config = read_config(bundle / "model.keras")
    padded = json.dumps(config) + " " * (33 << 20)  # 33 MiB of JSON; deflated to a few tens of KiB
    replace_member(bundle / "model.keras", "config.json", padded)
    rehash(bundle, weather_run.record)  # a tampered bundle with a valid manifest
    rows = tmp_path / "rows.csv"
    weather_run.test_rows.head(2).to_csv(rows, index=False)
    with pytest.raises(DataError, match=r"model.keras: members: refused: 'config.json' declares 33.0 MiB "
                                        r"\(at most 32.0 MiB\).*export the run again"):
        api.predict(bundle, rows)


def test_a_decompression_bomb_and_escaping_names_are_refused(bundle, monkeypatch):
    path = bundle / "model.keras"
    monkeypatch.setattr(model_loading, "BOMB_FLOOR_BYTES", 1 << 20)
    replace_member(path, "assets/zeros.bin", bytes(4 << 20))
    with pytest.raises(DataError, match=r"'assets/zeros.bin' declares 4.0 MiB but stores .* \(a decompression bomb\)"):
        read_config(path)
    replace_member(path, "../../escape.h5", b"x")
    with pytest.raises(DataError, match=r"'../../escape.h5' is not a plain name inside the file"):
        read_config(path)


def test_a_total_beyond_the_bound_and_a_deep_config_are_refused(bundle, monkeypatch):
    path = bundle / "model.keras"
    monkeypatch.setattr(model_loading, "MAX_MODEL_BYTES", 1000)
    with pytest.raises(DataError, match=r"its members declare .* in all \(at most 1000 bytes\)"):
        read_config(path)
    monkeypatch.undo()
    replace_member(path, "config.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataError, match="config.json: is nested too deeply"):
        read_config(path)


def test_a_run_folder_is_checked_too(weather_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(weather_run.folder, folder)
    (folder / "spec.toml").unlink()
    (folder / "spec.toml").symlink_to(weather_run.folder / "spec.toml")
    with pytest.raises(DataError, match=r"spec.toml: is a symbolic link"):
        Bundle.from_run(folder, weather_run.record)
