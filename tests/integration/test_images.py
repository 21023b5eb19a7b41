"""Images end to end: arrays and folders through the same spec, run record and registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlworkflow.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture
def data_home(shared_data, monkeypatch):
    """Point the data home at the lesson's data mirror, as a user with DLW_DATA_HOME would."""
    monkeypatch.setenv("DLW_DATA_HOME", str(shared_data))
    return shared_data


@pytest.mark.parametrize(
    ("example", "total", "trainable"),
    [
        ("cifar10", "114,510", "114,510"),
        ("cifar10_extra_layer", "87,060", "87,060"),
        ("cifar10_dropout", "87,060", "87,060"),
        ("dollar_street_small", "1,823,960", "1,823,960"),
        ("dollar_street", "514,510", "514,510"),
        ("dollar_street_dense", "617,510", "617,510"),
        ("dollar_street_extra_layer", "137,060", "137,060"),
        ("dollar_street_dropout", "137,060", "137,060"),
        # Building DenseNet121 takes seconds; the other eight check the same summary.
        pytest.param("transfer_densenet", "7,093,360", "53,808", marks=pytest.mark.slow),
    ],
)
def test_summary_of_the_image_examples(example, total, trainable, data_home):
    result = runner.invoke(app, ["summary", str(EXAMPLES / f"{example}.toml")])
    assert result.exit_code == 0, result.output
    assert f"Total parameters: {total} (trainable {trainable}," in result.output


def test_dollar_street_summary_needs_no_data(monkeypatch, tmp_path):
    monkeypatch.setenv("DLW_DATA_HOME", str(tmp_path))  # nothing there
    result = runner.invoke(app, ["summary", str(EXAMPLES / "dollar_street.toml")])
    assert result.exit_code == 0, result.output
    assert "514,510" in result.output and "not loaded" in result.output


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_cifar10_run_records_classes_and_pictures(data_home, tmp_path):
    registry = f"sqlite:///{tmp_path / 'registry.db'}"
    result = runner.invoke(
        app,
        ["run", str(EXAMPLES / "cifar10.toml"), "--set", "train.epochs=1", "--set", "data.rows=1000",
         "--registry", registry, "--quiet"],
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(runner.invoke(app, ["runs", "--registry", registry, "--json"]).output)
    record = json.loads(runner.invoke(app, ["show", row["id"], "--registry", registry, "--json"]).output)
    assert (record["split"]["train"], record["split"]["validation"], record["split"]["test"]) == (800, 200, 1000)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    assert record["classes"]["names"] == names
    assert set(record["classes"]["per_class_accuracy"]["test"]) == set(names)
    confusion = record["classes"]["confusion"]["test"]
    assert sum(map(sum, confusion)) == 1000
    assert {"majority_class", "logistic_regression"} <= set(record["baselines"])
    assert record["backend"] in {"jax", "tensorflow"}
    files = set(record["artifacts"]["files"])
    assert {"confusion_matrix.png", "test_images.png", "model.keras"} <= files


# The lesson's augmented CNN streamed from a folder: in the slow set. By default a run on an
# image folder is predicted again from its files (sharing/test_prediction.py), augmentation
# trains (training/test_augmentation.py) and streamed training matches in-memory (training/test_streams.py).
@pytest.mark.slow
def test_dogs_cats_streams_the_folder(data_home, tmp_path):
    registry = f"sqlite:///{tmp_path / 'registry.db'}"
    result = runner.invoke(
        app,
        ["run", str(EXAMPLES / "dogs_cats_augment.toml"), "--set", "train.epochs=1",
         "--set", "data.image_size=[64, 64]", "--registry", registry, "-q"],
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(runner.invoke(app, ["runs", "--registry", registry, "--json"]).output)
    record = json.loads(runner.invoke(app, ["show", row["id"], "--registry", registry, "--json"]).output)
    assert record["split"]["train"] + record["split"]["validation"] + record["split"]["test"] == 40
    assert record["classes"]["names"] == ["Cat", "Dog"]
    assert "test_images.png" in record["artifacts"]["files"]
    assert "logistic_regression" in record.get("baselines_skipped", {})


def test_corrupt_image_is_one_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    from PIL import Image

    for label in ("Cat", "Dog"):
        (tmp_path / "pets" / label).mkdir(parents=True)
        for index in range(3):
            Image.new("RGB", (20, 20), (index * 40, 0, 0)).save(tmp_path / "pets" / label / f"{index}.png")
    (tmp_path / "pets" / "Dog" / "broken.jpg").write_bytes(b"not an image at all")
    spec = tmp_path / "pets.toml"
    spec.write_text(
        (EXAMPLES / "dogs_cats_augment.toml").read_text().replace('path = "cats_dogs_mini"', 'path = "pets"')
    )
    registry_file = tmp_path / "registry.db"
    result = runner.invoke(app, ["run", str(spec), "--registry", f"sqlite:///{registry_file}"])
    assert result.exit_code != 0
    assert "broken.jpg" in result.output
    assert not registry_file.exists()
