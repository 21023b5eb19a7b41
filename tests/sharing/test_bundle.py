"""dlw export: a self-contained bundle with a sha256 manifest, written all at once, never over other files."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
from typer.testing import CliRunner

from dlworkflow import api
from dlworkflow.cli import app
from dlworkflow.errors import DataError, RegistryError
from dlworkflow.sharing.bundle import BUNDLE_FILE, FORMAT_VERSION, Bundle

runner = CliRunner()


def invoke(*arguments):
    return runner.invoke(app, [str(a) for a in arguments], catch_exceptions=False)


def test_export_writes_the_bundle_with_a_sha256_manifest(weather_run, tmp_path):
    result = invoke("export", weather_run.id[:15], tmp_path / "shared" / "weather", "--registry", weather_run.registry)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "shared" / "weather"
    assert sorted(path.name for path in folder.iterdir()) == [
        "bundle.json", "model.keras", "model_card.md", "preprocessing.json", "spec.toml",
    ]
    manifest = json.loads((folder / BUNDLE_FILE).read_text())
    assert manifest["format"] == "dlworkflow-bundle" and manifest["format_version"] == FORMAT_VERSION
    assert manifest["run_id"] == weather_run.id and manifest["backend"] == "jax"
    assert manifest["kind"] == "table" and manifest["task"] == "regression"
    assert set(manifest["versions"]) >= {"keras", "jax", "jaxlib", "python", "numpy"}
    assert manifest["versions"]["keras"] == weather_run.record["versions"]["keras"]
    assert set(manifest["files"]) == {"model.keras", "preprocessing.json", "spec.toml", "model_card.md"}
    for name, entry in manifest["files"].items():
        content = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    for name in ("model.keras", "preprocessing.json", "spec.toml"):
        assert (folder / name).read_bytes() == (weather_run.folder / name).read_bytes()
    with zipfile.ZipFile(folder / "model.keras") as archive:  # Keras' zip: JSON and weights, nothing pickled
        assert set(archive.namelist()) == {"config.json", "metadata.json", "model.weights.h5"}
    assert not [path for path in folder.rglob("*") if path.suffix in (".pkl", ".pickle", ".joblib")]
    card = (folder / "model_card.md").read_text()
    assert card.startswith("# Model card: weather") and "has been looked at" in card
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(".")]  # no staging left
    assert Bundle.open(folder).run_id == weather_run.id


def test_export_refuses_a_non_empty_folder_and_force_replaces_only_a_bundle(weather_run, tmp_path):
    folder = tmp_path / "bundle"
    api.export(weather_run.id, folder, registry=weather_run.registry)
    refused = invoke("export", weather_run.id, folder, "--registry", weather_run.registry)
    assert refused.exit_code == 5
    assert str(folder) in refused.output and "not empty" in refused.output and "--force" in refused.output

    (folder / "model_card.md").write_text("stale")
    replaced = invoke("export", weather_run.id, folder, "--force", "--registry", weather_run.registry)
    assert replaced.exit_code == 0, replaced.output
    assert (folder / "model_card.md").read_text().startswith("# Model card")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bundle"]

    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.txt").write_text("keep me")
    with pytest.raises(RegistryError, match="holds no bundle.json: --force replaces only an earlier bundle"):
        api.export(weather_run.id, other, force=True, registry=weather_run.registry)
    assert (other / "thesis.txt").read_text() == "keep me"


def test_export_into_an_empty_folder_works_but_never_into_the_registry(weather_run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert api.export(weather_run.id, empty, registry=weather_run.registry) == empty
    with pytest.raises(RegistryError, match="holds the run's own folder"):
        api.export(weather_run.id, weather_run.folder.parent.parent, force=True, registry=weather_run.registry)
    assert (weather_run.folder / "model.keras").is_file()


def test_export_of_an_unknown_run_is_a_registry_error(weather_run, tmp_path):
    result = invoke("export", "19990101", tmp_path / "b", "--registry", weather_run.registry)
    assert result.exit_code == 5 and "19990101" in result.output
    assert not (tmp_path / "b").exists()


def test_opening_a_folder_without_manifest_or_with_a_newer_one_is_refused(weather_run, tmp_path):
    with pytest.raises(DataError, match="not a dlworkflow bundle: it holds no bundle.json"):
        Bundle.open(weather_run.folder)
    folder = api.export(weather_run.id, tmp_path / "b", registry=weather_run.registry)
    manifest = json.loads((folder / BUNDLE_FILE).read_text())
    (folder / BUNDLE_FILE).write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(DataError, match="reads bundles up to version"):
        Bundle.open(folder)
    (folder / BUNDLE_FILE).write_text(json.dumps({**manifest, "files": {**manifest["files"], "../x": {}}}))
    with pytest.raises(DataError, match="names a file outside the bundle folder"):
        Bundle.open(folder)
