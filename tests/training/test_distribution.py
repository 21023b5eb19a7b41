"""[train] distribution = "data_parallel": the plan's checks, the rows cut for even batches, and two simulated devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlworkflow.errors import SpecError
from dlworkflow.spec.loader import load_spec
from dlworkflow.spec.schema import Spec
from dlworkflow.training.devices import Device
from dlworkflow.training.distribution import (
    DistributionPlan,
    distribution_line,
    even_rows,
    plan_distribution,
)

TWO = (Device("cpu", "cpu:0"), Device("cpu", "cpu:1"))


def _spec(**train: object) -> Spec:
    return Spec.model_validate({
        "name": "dp", "data": {"dataset": "weather", "target": "BASEL_sunshine"},
        "model": {"layers": [{"type": "Dense", "units": 1}]}, "train": train,
    })


def test_left_out_or_none_trains_on_one_device() -> None:
    assert plan_distribution(_spec(), "jax", TWO) is None
    assert plan_distribution(_spec(distribution="none"), "torch", TWO) is None
    assert "distribution" not in _spec().resolved()["train"]  # fingerprints of older specs unchanged


def test_data_parallel_plan_splits_the_batch_and_counts_rows_left_out() -> None:
    plan = plan_distribution(_spec(distribution="data_parallel", batch_size=32), "jax", TWO,
                             part_sizes={"train": 767, "validation": 164})
    assert plan == DistributionPlan("data_parallel", TWO, 32, {"train": 1})
    assert plan.to_dict() == {"kind": "data_parallel", "devices": [{"kind": "cpu", "name": "cpu:0"},
                              {"kind": "cpu", "name": "cpu:1"}], "batch_size_per_device": 16,
                              "rows_left_out": {"train": 1}}
    assert "16 rows of each batch per device" in distribution_line(plan.to_dict())
    assert distribution_line(plan.to_dict()).endswith("1 train row")


def test_pytorch_is_refused_with_a_hint_to_use_jax() -> None:
    with pytest.raises(SpecError, match=r"train.distribution: 'data_parallel' runs on the JAX and TensorFlow backends; "
                                        r"this run uses 'torch'.*Set train.backend = 'jax'"):
        plan_distribution(_spec(distribution="data_parallel"), "torch", TWO)


def test_on_tensorflow_no_rows_are_left_out_and_the_parts_stay_whole() -> None:
    plan = plan_distribution(_spec(distribution="data_parallel", batch_size=32), "tensorflow", TWO,
                             part_sizes={"train": 767, "validation": 164})
    assert plan.rows_left_out == {} and plan.batch_size_per_device == 16 and not plan.even_batches
    x = np.arange(767)
    assert even_rows((x, x), plan)[0] is x  # tf.distribute splits the last, shorter batch itself


def test_batch_size_not_a_multiple_of_the_devices_is_refused_with_the_nearest_sizes() -> None:
    with pytest.raises(SpecError, match=r"train.batch_size: with train.distribution = 'data_parallel' on 2 devices, "
                                        r"must be a multiple of 2.*got 33.*Set train.batch_size = 32 or 34"):
        plan_distribution(_spec(distribution="data_parallel", batch_size=33), "jax", TWO)


def test_a_misspelled_distribution_is_refused_with_the_options(tmp_path: Path) -> None:
    spec_file = tmp_path / "dp.toml"
    spec_file.write_text('name = "dp"\n[data]\ndataset = "weather"\ntarget = "BASEL_sunshine"\n'
                         '[[model.layers]]\ntype = "Dense"\nunits = 1\n[train]\ndistribution = "data_paralel"\n')
    with pytest.raises(SpecError, match=r"dp.toml: train.distribution: must be one of 'none', 'data_parallel'; "
                                        r"got 'data_paralel'. Did you mean 'data_parallel'\?"):
        load_spec(spec_file)


def test_even_rows_cuts_every_array_of_a_part_alike() -> None:
    plan = DistributionPlan("data_parallel", (*TWO, Device("cpu", "cpu:2")), 30)
    x = {"numbers": np.arange(20).reshape(10, 2), "text": np.arange(10)}
    cut_x, cut_y = even_rows((x, np.arange(10)), plan)
    assert cut_x["numbers"].shape == (9, 2) and cut_x["text"].tolist() == list(range(9))
    assert cut_y.tolist() == list(range(9))
    assert even_rows((x, None), None)[0] is x  # one device: untouched


_COMPARE = """
import json, sys
import numpy as np, pandas as pd
from dlworkflow import api

rng = np.random.default_rng(0)
x = rng.normal(size=(80, 4))
frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
frame["y"] = x @ np.array([1.0, -2.0, 0.5, 1.0]) + 0.1 * rng.normal(size=80)
spec = {"name": "dp", "data": {"path": "unused.csv", "target": "y"},
        "split": {"type": "ordered", "validation": 0.2, "test": 0.2},
        "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"}, {"type": "Dense", "units": 1}]},
        "train": {"epochs": 4, "batch_size": 8, "backend": sys.argv[2], "seed": 0}}
if sys.argv[2] == "tensorflow":  # two logical CPU devices, made before TensorFlow starts its runtime
    import tensorflow as tf
    tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                               [tf.config.LogicalDeviceConfiguration()] * 2)
out = {}
for distribution in ("none", "data_parallel"):
    run = api.run(spec, data=frame, registry=sys.argv[1], train__distribution=distribution)
    out[distribution] = {"history": run.history.to_dict(orient="list"), "record": run.record.to_dict()}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_two_simulated_devices_give_the_history_of_one(tmp_path: Path) -> None:
    """Two CPU devices (XLA_FLAGS) split each batch of 8 into 4 + 4: the same losses within 1e-5 (relative).

    The training part has 48 rows (even): nothing is left out, so both runs see the same batches
    and only the order of floating-point sums differs.
    """
    environment = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "KERAS_BACKEND": "jax"}
    completed = subprocess.run(
        [sys.executable, "-c", _COMPARE, f"sqlite:///{tmp_path / 'registry.db'}", "jax"], capture_output=True, text=True,
        timeout=300, check=False, env=environment, cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    runs = json.loads(completed.stdout.strip().splitlines()[-1])
    one, two = runs["none"], runs["data_parallel"]
    assert "distribution" not in one["record"]["training"]
    recorded = two["record"]["training"]["distribution"]
    assert recorded["kind"] == "data_parallel" and len(recorded["devices"]) == 2
    assert recorded["batch_size_per_device"] == 4 and recorded["rows_left_out"] == {}
    assert two["record"]["devices"] == recorded["devices"]
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=1e-5)
    assert one["history"]["loss"][0] != one["history"]["loss"][-1]  # it did train


@pytest.mark.slow
def test_two_logical_tensorflow_devices_give_the_history_of_one(tmp_path: Path) -> None:
    """MirroredStrategy over two logical CPU devices splits each batch of 8 into 4 + 4: the same losses within 1e-5."""
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    completed = subprocess.run(
        [sys.executable, "-c", _COMPARE, f"sqlite:///{tmp_path / 'registry.db'}", "tensorflow"], capture_output=True,
        text=True, timeout=300, check=False, env=environment, cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    runs = json.loads(completed.stdout.strip().splitlines()[-1])
    one, two = runs["none"], runs["data_parallel"]
    assert one["record"]["backend"] == two["record"]["backend"] == "tensorflow"
    recorded = two["record"]["training"]["distribution"]
    assert [device["name"] for device in recorded["devices"]] == ["cpu:0", "cpu:1"]
    assert recorded["batch_size_per_device"] == 4 and recorded["rows_left_out"] == {}
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(two["history"][key], one["history"][key], rtol=1e-5)
    assert one["history"]["loss"][0] != one["history"]["loss"][-1]  # it did train
