"""Tests of dlworkflow.evaluation.baselines: each baseline's behaviour, the registry, scoring."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.errors import DataError, SpecError
from dlworkflow.evaluation import (
    BASELINES,
    Baseline,
    LinearRegressionBaseline,
    LogisticRegressionBaseline,
    MajorityClassBaseline,
    MeanBaseline,
    PersistenceBaseline,
    baselines_for,
    evaluate_baselines,
    fit_baselines,
    register_baseline,
    score,
    skipped_baselines,
)
from dlworkflow.evaluation.baselines import STREAMED_REASON
from dlworkflow.spec.schema import EvaluateSpec


def make_part(name: str, labels, x=None, frame: pd.DataFrame | None = None) -> Part:
    """A Part built by hand; ``x`` defaults to one random feature column."""
    labels = np.asarray(labels)
    if x is None:
        x = np.random.default_rng(0).normal(size=(labels.shape[0], 1))
    x = np.ascontiguousarray(x, dtype=np.float32)
    if frame is None:
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    return Part(name=name, x=x, y=labels.astype(np.float32), labels=labels, frame=frame)


def make_classification_dataset(train_labels, test_labels, num_classes: int) -> Dataset:
    return Dataset(
        name="hand-made",
        task="classification",
        target="y",
        feature_names=("f0",),
        class_names=tuple(f"c{i}" for i in range(num_classes)),
        target_encoding="integer",
        parts={"train": make_part("train", train_labels), "test": make_part("test", test_labels)},
    )


# --- registry -------------------------------------------------------------------------------


def test_builtin_registry_in_report_order():
    assert list(BASELINES)[:5] == ["majority_class", "logistic_regression", "mean", "linear_regression", "persistence"]
    assert BASELINES["persistence"] is PersistenceBaseline
    for name, cls in BASELINES.items():
        assert cls.name == name
        assert cls.description


def test_baselines_for_classification(make_dataset):
    dataset = make_dataset(task="classification")
    chosen = baselines_for(dataset, EvaluateSpec())
    assert [b.name for b in chosen] == ["majority_class", "logistic_regression"]
    assert all(b.num_classes == 3 for b in chosen)


def test_baselines_for_regression_adds_persistence_only_when_asked(make_dataset):
    dataset = make_dataset(task="regression")
    assert [b.name for b in baselines_for(dataset, EvaluateSpec())] == ["mean", "linear_regression"]
    chosen = baselines_for(dataset, EvaluateSpec(persistence="f1"))
    assert [b.name for b in chosen] == ["mean", "linear_regression", "persistence"]
    assert chosen[-1].column == "f1"
    assert [b.name for b in baselines_for(dataset, None)] == ["mean", "linear_regression"]


def test_persistence_column_must_exist(make_dataset):
    dataset = make_dataset(task="regression")
    with pytest.raises(
        SpecError, match=r"weather\.toml: evaluate\.persistence: must be a column .*got 'F1'\. Did you mean 'f1'\?"
    ):
        baselines_for(dataset, EvaluateSpec(persistence="F1"), source="weather.toml")
    with pytest.raises(SpecError, match=r"got 'x9'\. Valid options: 'f0', 'f1', 'f2', 'f3'\. Keep the column"):
        baselines_for(dataset, EvaluateSpec(persistence="x9"), source="weather.toml")


def test_persistence_on_classification_is_a_spec_error(make_dataset):
    dataset = make_dataset(task="classification")
    with pytest.raises(SpecError, match=r"evaluate\.persistence: applies to a regression target only"):
        baselines_for(dataset, EvaluateSpec(persistence="f0"))


def test_register_a_user_baseline_in_an_injected_registry(make_dataset):
    registry: dict[str, type[Baseline]] = {}

    @register_baseline("median", registry=registry)
    class MedianBaseline(Baseline):
        description = "Predicts the median of the training target."
        tasks = ("regression",)

        def fit(self, train):
            self.median_ = float(np.median(train.labels))
            return self

        def predict(self, part):
            return np.full(part.size, self.median_)

    assert registry == {"median": MedianBaseline}
    assert MedianBaseline.name == "median"
    assert "median" not in BASELINES

    dataset = make_dataset(task="regression", validation=False)
    results = evaluate_baselines(dataset, EvaluateSpec(), registry=registry)
    median = float(np.median(dataset.train.labels))
    expected = score("regression", dataset.test.labels, np.full(dataset.test.size, median))
    assert list(results) == ["median"]
    assert list(results["median"]) == ["train", "test"]
    assert results["median"]["test"] == expected
    # Not for the other task.
    assert baselines_for(make_dataset(task="classification"), None, registry=registry) == []


def test_register_rejects_a_taken_name_and_non_baselines():
    registry: dict[str, type[Baseline]] = {"mean": MeanBaseline}

    with pytest.raises(ValueError, match="the name is taken by .*MeanBaseline"):

        @register_baseline("mean", registry=registry)
        class OtherMean(MeanBaseline):
            pass

    with pytest.raises(ValueError, match="is not a Baseline subclass"):
        register_baseline("thing", registry=registry)(dict)

    with pytest.raises(ValueError, match="tasks must name"):

        @register_baseline("taskless", registry=registry)
        class Taskless(MeanBaseline):
            tasks = ()


# --- classification baselines --------------------------------------------------------------


def test_majority_class_accuracy_is_that_class_frequency():
    train = [2] * 14 + [0] * 4 + [1] * 2
    test = [2] * 7 + [0] * 2 + [1] * 1
    dataset = make_classification_dataset(train, test, num_classes=3)
    baseline = MajorityClassBaseline(num_classes=3).fit(dataset.train)
    probabilities = baseline.predict(dataset.test)
    assert probabilities.shape == (10, 3)
    assert probabilities.dtype == np.float64
    # The training class shares, so the argmax is the majority class and log loss is finite.
    np.testing.assert_allclose(probabilities, np.tile([0.2, 0.1, 0.7], (10, 1)))
    results = evaluate_baselines(dataset, EvaluateSpec())
    assert results["majority_class"]["test"]["log_loss"] == pytest.approx(
        -(7 * np.log(0.7) + 2 * np.log(0.2) + np.log(0.1)) / 10
    )
    assert results["majority_class"]["train"]["accuracy"] == pytest.approx(14 / 20)
    assert results["majority_class"]["test"]["accuracy"] == pytest.approx(7 / 10)
    assert results["majority_class"]["test"]["balanced_accuracy"] == pytest.approx(1 / 3)


def test_logistic_regression_beats_majority_class_on_learnable_data(make_dataset):
    dataset = make_dataset(task="classification", rows=300)
    results = evaluate_baselines(dataset, EvaluateSpec())
    assert set(results) == {"majority_class", "logistic_regression"}
    for part in ("train", "validation", "test"):
        logistic, majority = results["logistic_regression"][part], results["majority_class"][part]
        assert logistic["accuracy"] > majority["accuracy"] + 0.2
        assert logistic["log_loss"] < majority["log_loss"]
    assert results["logistic_regression"]["test"]["accuracy"] > 0.85


@pytest.mark.parametrize("cls", [MajorityClassBaseline, LogisticRegressionBaseline])
def test_a_class_missing_from_train_still_gets_a_probability_column(cls):
    rng = np.random.default_rng(1)
    train_labels = np.array([0, 2] * 10)  # class 1 never seen in training
    x_train = (train_labels[:, None] + rng.normal(scale=0.1, size=(20, 1))).astype(np.float32)
    train = make_part("train", train_labels, x=x_train)
    test = make_part("test", np.array([0, 1, 2]), x=np.array([[0.0], [1.0], [2.0]]))
    probabilities = cls(num_classes=3).fit(train).predict(test)
    assert probabilities.shape == (3, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_array_equal(probabilities[:, 1], 0.0)
    result = score("classification", test.labels, probabilities, num_classes=3)
    assert np.isfinite(result["log_loss"])


def test_a_class_missing_from_a_scored_split_is_fine(make_dataset):
    dataset = make_classification_dataset([0, 1, 2, 2, 1, 0] * 3, [2, 2, 2], num_classes=3)
    results = evaluate_baselines(dataset, EvaluateSpec())
    assert results["majority_class"]["test"]["log_loss"] > 0
    assert set(results["logistic_regression"]["test"]) == {"accuracy", "balanced_accuracy", "f1_macro", "log_loss"}


def test_logistic_regression_with_a_single_training_class():
    train = make_part("train", [1] * 5)
    probabilities = LogisticRegressionBaseline(num_classes=3).fit(train).predict(make_part("test", [0, 1]))
    np.testing.assert_array_equal(probabilities, [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])


def test_num_classes_defaults_to_the_training_labels():
    probabilities = MajorityClassBaseline().fit(make_part("train", [0, 1, 1])).predict(make_part("test", [0]))
    assert probabilities.shape == (1, 2)


@pytest.mark.parametrize("cls", [MajorityClassBaseline, LogisticRegressionBaseline, MeanBaseline, LinearRegressionBaseline])
def test_predict_before_fit_raises_not_fitted(cls):
    with pytest.raises(NotFittedError, match="call fit"):
        cls().predict(make_part("test", [0, 1]))


# --- regression baselines ------------------------------------------------------------------


def test_linear_regression_is_near_perfect_on_linear_data(make_dataset):
    dataset = make_dataset(task="regression", rows=200)
    results = evaluate_baselines(dataset, EvaluateSpec())
    assert results["linear_regression"]["test"]["r2"] > 0.99
    assert results["linear_regression"]["test"]["rmse"] < 0.2  # the noise has sd 0.1
    assert results["linear_regression"]["test"]["rmse"] < results["mean"]["test"]["rmse"] / 5


def test_mean_baseline_predicts_the_training_mean(make_dataset):
    dataset = make_dataset(task="regression")
    baseline = MeanBaseline().fit(dataset.train)
    predictions = baseline.predict(dataset.test)
    assert predictions.shape == (dataset.test.size,)
    assert predictions.dtype == np.float64
    np.testing.assert_allclose(predictions, dataset.train.labels.mean())
    assert evaluate_baselines(dataset, None)["mean"]["train"]["r2"] == pytest.approx(0.0, abs=1e-12)


def test_persistence_rmse_equals_the_hand_computed_value():
    frame = pd.DataFrame(
        {"sunshine": [0.0, 8.7, 3.4, 5.0], "humidity": [0.9, 0.5, 0.7, 0.6]},
        index=[10, 11, 12, 13],
    )
    tomorrow = np.array([8.7, 3.4, 5.0, 1.2])
    part = make_part("test", tomorrow, x=frame.to_numpy() * 100, frame=frame)  # x is scaled; frame is raw
    baseline = PersistenceBaseline("sunshine")
    predictions = baseline.fit(part).predict(part)
    np.testing.assert_array_equal(predictions, frame["sunshine"].to_numpy())
    expected = np.sqrt(np.mean((np.array([0.0, 8.7, 3.4, 5.0]) - tomorrow) ** 2))
    assert score("regression", part.labels, predictions)["rmse"] == pytest.approx(expected, abs=1e-12)


def test_persistence_with_missing_values_is_a_data_error():
    frame = pd.DataFrame({"sunshine": [1.0, np.nan, 2.0]})
    part = make_part("test", [1.0, 2.0, 3.0], frame=frame)
    with pytest.raises(DataError, match=r"needs a value in every row.*1 missing.*data\.dropna"):
        PersistenceBaseline("sunshine").predict(part)


def test_evaluate_baselines_scores_each_part(make_dataset):
    dataset = make_dataset(task="regression", validation=True)
    results = evaluate_baselines(dataset, EvaluateSpec(persistence="f0"))
    assert list(results) == ["mean", "linear_regression", "persistence"]
    for parts in results.values():
        assert list(parts) == ["train", "validation", "test"]
        for metrics in parts.values():
            assert list(metrics) == ["rmse", "mae", "r2"]
    persistence_test = score("regression", dataset.test.labels, dataset.test.frame["f0"].to_numpy())
    assert results["persistence"]["test"] == persistence_test


def test_evaluate_baselines_without_validation(make_dataset):
    results = evaluate_baselines(make_dataset(task="classification", validation=False), EvaluateSpec())
    assert all(list(parts) == ["train", "test"] for parts in results.values())


def test_baselines_are_fitted_on_the_training_part_only(make_dataset):
    dataset = make_dataset(task="regression")
    fitted = fit_baselines(dataset, EvaluateSpec())
    mean = next(b for b in fitted if b.name == "mean")
    np.testing.assert_allclose(mean.predict(dataset.test), dataset.train.labels.mean())


# --- the lesson ----------------------------------------------------------------------------


def test_persistence_reproduces_the_lessons_weather_baseline(shared_data):
    from sklearn.model_selection import train_test_split

    csv = shared_data / "weather" / "weather_prediction_dataset_light.csv"
    if not csv.is_file():
        pytest.skip(f"needs {csv}")
    data = pd.read_csv(csv)
    x_data = data.loc[:1095].drop(columns=["DATE", "MONTH"])
    y_data = data.loc[1:1096]["BASEL_sunshine"]
    x_train, x_holdout, y_train, y_holdout = train_test_split(x_data, y_data, test_size=0.3, random_state=0)
    x_validation, x_test, y_validation, y_test = train_test_split(x_holdout, y_holdout, test_size=0.5, random_state=0)
    test = Part(
        name="test",
        x=np.ascontiguousarray(x_test.to_numpy(dtype=np.float32)),
        y=y_test.to_numpy(dtype=np.float32),
        labels=y_test.to_numpy(dtype=np.float64),
        frame=x_test,
    )
    predictions = PersistenceBaseline("BASEL_sunshine").predict(test)
    assert score("regression", test.labels, predictions)["rmse"] == pytest.approx(3.877323350410224, abs=1e-9)


# --- images ---------------------------------------------------------------------------------


def test_logistic_regression_learns_from_flattened_pixels(make_image_dataset):
    dataset = make_image_dataset(rows=90, test_rows=30, validation=True)
    assert dataset.train.x.ndim == 4
    results = evaluate_baselines(dataset, EvaluateSpec())
    assert list(results) == ["majority_class", "logistic_regression"]
    assert list(results["logistic_regression"]) == ["train", "validation", "test"]
    assert results["logistic_regression"]["test"]["accuracy"] > results["majority_class"]["test"]["accuracy"] + 0.3
    assert skipped_baselines(dataset, EvaluateSpec()) == {}
    baseline = LogisticRegressionBaseline(num_classes=3).fit(dataset.train)
    assert baseline.rows_fitted_ == 90
    assert baseline.predict(dataset.test).shape == (30, 3)


def test_streamed_images_skip_logistic_regression_and_keep_the_majority_class(make_image_dataset):
    dataset = make_image_dataset(rows=12, test_rows=6, streamed=True)
    assert dataset.train.streamed
    results = evaluate_baselines(dataset, EvaluateSpec())
    assert list(results) == ["majority_class"]
    counts = np.bincount(dataset.train.labels, minlength=3)
    expected = np.mean(dataset.test.labels == counts.argmax())
    assert results["majority_class"]["test"]["accuracy"] == pytest.approx(expected)
    assert [b.name for b in baselines_for(dataset, None)] == ["majority_class"]
    assert skipped_baselines(dataset, EvaluateSpec()) == {"logistic_regression": STREAMED_REASON}
    assert "streamed from disk" in STREAMED_REASON


def test_fitting_on_a_streamed_part_is_a_data_error(make_image_dataset):
    dataset = make_image_dataset(rows=6, test_rows=3, streamed=True)
    with pytest.raises(DataError, match=r"train part: x: holds no inputs to fit on: its images are streamed"):
        LogisticRegressionBaseline(num_classes=3).fit(dataset.train)


def test_a_part_above_the_memory_cap_skips_the_baseline(make_image_dataset):
    dataset = make_image_dataset(rows=30, test_rows=10)  # 30 × 8×8×3 = 5,760 training values
    small = LogisticRegressionBaseline(num_classes=3, max_values=5_000)
    assert small.skip_reason(dataset) == (
        "the train part has 5,760 input values (rows × features), more than the 5,000 a baseline holds in memory"
    )
    assert LogisticRegressionBaseline(num_classes=3).skip_reason(dataset) is None

    registry: dict[str, type[Baseline]] = {"majority_class": MajorityClassBaseline}

    @register_baseline("small_logistic_regression", registry=registry)
    class SmallLogisticRegression(LogisticRegressionBaseline):
        @classmethod
        def from_dataset(cls, dataset, evaluate_spec, source="<spec>"):
            return cls(num_classes=dataset.output_units, max_values=5_000)

    assert list(evaluate_baselines(dataset, None, registry=registry)) == ["majority_class"]
    skipped = skipped_baselines(dataset, None, registry=registry)
    assert list(skipped) == ["small_logistic_regression"]
    assert "more than the 5,000" in skipped["small_logistic_regression"]


def test_a_large_training_part_is_fitted_on_a_fixed_seed_sample(make_image_dataset):
    dataset = make_image_dataset(rows=90, test_rows=30)  # 192 features per image
    capped = LogisticRegressionBaseline(num_classes=3, max_fit_values=192 * 40)
    first = capped.fit(dataset.train).predict(dataset.test)
    assert capped.rows_fitted_ == 40
    again = LogisticRegressionBaseline(num_classes=3, max_fit_values=192 * 40).fit(dataset.train).predict(dataset.test)
    np.testing.assert_array_equal(first, again)
    other_seed = LogisticRegressionBaseline(num_classes=3, max_fit_values=192 * 40, random_state=1)
    assert not np.array_equal(other_seed.fit(dataset.train).predict(dataset.test), first)
    # Scored on every training row, not only the sample.
    assert capped.predict(dataset.train).shape == (90, 3)


def test_the_description_states_the_image_configuration():
    description = LogisticRegressionBaseline.description
    assert "flattened pixels" in description
    assert f"C={LogisticRegressionBaseline.IMAGE_C}" in description
    assert f"at most {LogisticRegressionBaseline.IMAGE_MAX_ITER} sag passes" in description


def test_tables_keep_the_converged_logistic_regression(make_dataset):
    baseline = LogisticRegressionBaseline(num_classes=3).fit(make_dataset(task="classification", rows=60).train)
    estimator = baseline.estimator_[-1]
    assert (estimator.solver, estimator.max_iter, estimator.C) == ("lbfgs", 1000, 1.0)


def test_regression_on_streamed_inputs_keeps_the_mean_and_skips_least_squares(make_image_dataset):
    images = make_image_dataset(rows=10, test_rows=4, streamed=True)
    dataset = dataclasses.replace(
        images,
        task="regression",
        class_names=None,
        target_encoding=None,
        parts={
            name: dataclasses.replace(part, labels=part.labels.astype(np.float64), y=part.labels.astype(np.float32))
            for name, part in images.parts.items()
        },
    )
    results = evaluate_baselines(dataset, None)
    assert list(results) == ["mean"]
    assert results["mean"]["test"]["rmse"] > 0
    assert skipped_baselines(dataset, None) == {"linear_regression": STREAMED_REASON}


def test_baselines_import_no_keras():
    code = (
        "import sys\n"
        "import dlworkflow.evaluation.baselines, dlworkflow.evaluation.classes, dlworkflow.evaluation.plots\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'jax', 'matplotlib', 'PIL') if m in sys.modules]\n"
        "sys.exit(', '.join(heavy) or 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.slow  # heavy (several seconds): CI runs it after the default suite
def test_logistic_regression_beats_majority_class_on_the_cifar_subset(shared_data, capsys):
    npz = shared_data / "cifar10_subset" / "cifar10_subset.npz"
    if not npz.is_file():
        pytest.skip(f"needs {npz}")
    arrays = np.load(npz)
    class_names = tuple(str(name) for name in arrays["class_names"])

    def part(name: str, images: np.ndarray, labels: np.ndarray) -> Part:
        labels = labels.astype(np.int64)
        return Part(
            name=name,
            x=np.ascontiguousarray(images, dtype=np.float32) / np.float32(255.0),
            y=labels.astype(np.int32),
            labels=labels,
            frame=pd.DataFrame({"label": np.asarray(class_names)[labels]}),
        )

    dataset = Dataset(
        name="cifar10_subset",
        task="classification",
        target="label",
        feature_names=(),
        class_names=class_names,
        target_encoding="integer",
        parts={
            "train": part("train", arrays["x_train"], arrays["y_train"]),
            "test": part("test", arrays["x_test"], arrays["y_test"]),
        },
        image={"height": 32, "width": 32, "channels": 3, "scale": 1 / 255},
    )
    assert dataset.train.x.shape == (5000, 32, 32, 3)
    started = time.perf_counter()
    results = evaluate_baselines(dataset, EvaluateSpec())
    seconds = time.perf_counter() - started
    logistic, majority = results["logistic_regression"]["test"], results["majority_class"]["test"]
    with capsys.disabled():
        print(
            f"\n[info] baselines on the CIFAR-10 subset (5000 × 32×32×3): {seconds:.1f} s; test accuracy "
            f"logistic_regression {logistic['accuracy']:.3f}, majority_class {majority['accuracy']:.3f}"
        )
    assert logistic["accuracy"] > majority["accuracy"] + 0.1
    assert logistic["log_loss"] < majority["log_loss"]


# --- user baselines from the spec: [evaluate] baselines = ["module:Class"] ---------------------

USER_BASELINES_MODULE = '''
import numpy as np

from dlworkflow.evaluation import Baseline


class MedianBaseline:
    """Predicts the median of the training target."""

    name = "median"
    tasks = ("regression",)

    def fit(self, train):
        self.median_ = float(np.median(train.labels))
        return self

    def predict(self, part):
        return np.full(part.size, self.median_)


class SecondFeature:
    """No name, no tasks: runs for any task, named by its reference."""

    def fit(self, train):
        return self

    def predict(self, part):
        return np.asarray(part.frame["f1"], dtype=np.float64)


class ColumnBaseline(Baseline):
    """A Baseline subclass that reads [evaluate] in from_dataset."""

    description = "Predicts column f2."
    tasks = ("regression",)

    @classmethod
    def from_dataset(cls, dataset, evaluate_spec, source="<spec>"):
        return cls()

    def fit(self, train):
        return self

    def predict(self, part):
        return np.asarray(part.frame["f2"], dtype=np.float64)


class WrongShape:
    def fit(self, train):
        return self

    def predict(self, part):
        return np.zeros(3)


class NeedsArguments:
    def __init__(self, strength):
        self.strength = strength

    def fit(self, train):
        return self

    def predict(self, part):
        return np.zeros(part.size)


class NoPredict:
    def fit(self, train):
        return self
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module of user baselines, ``dlw_test_user_baselines``, importable from sys.path."""
    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / "dlw_test_user_baselines.py").write_text(USER_BASELINES_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "dlw_test_user_baselines", raising=False)
    return "dlw_test_user_baselines"


def test_user_baselines_run_and_are_recorded_beside_the_built_in_ones(make_dataset, user_module):
    dataset = make_dataset(task="regression", validation=False)
    evaluate = EvaluateSpec(baselines=(f"{user_module}:MedianBaseline", f"{user_module}:SecondFeature",
                                       f"{user_module}:ColumnBaseline"))
    chosen = baselines_for(dataset, evaluate, source="w.toml")
    assert [b.name for b in chosen] == ["mean", "linear_regression", "median", f"{user_module}:SecondFeature",
                                        f"{user_module}:ColumnBaseline"]
    assert chosen[2].description == "Predicts the median of the training target."
    results = evaluate_baselines(dataset, evaluate, source="w.toml")
    median = float(np.median(dataset.train.labels))
    assert results["median"]["test"] == score("regression", dataset.test.labels, np.full(dataset.test.size, median))
    assert list(results["median"]) == ["train", "test"]
    second = dataset.test.frame["f1"].to_numpy(np.float64)
    assert results[f"{user_module}:SecondFeature"]["test"] == score("regression", dataset.test.labels, second)
    assert skipped_baselines(dataset, evaluate) == {}
    # A class for regression only is refused for a classification run, naming the entry.
    with pytest.raises(SpecError, match=rf"c\.toml: evaluate\.baselines\[0\]: {user_module}:MedianBaseline is a "
                       r"baseline for regression, but this run's task is classification"):
        baselines_for(make_dataset(task="classification"), evaluate, source="c.toml")


def test_user_baselines_are_validated_in_the_spec_and_when_imported(make_dataset, user_module):
    from dlworkflow.spec import validate_spec

    document = {"name": "w", "data": {"dataset": "weather", "target": "BASEL_sunshine"},
                "model": {"layers": [{"type": "Dense", "units": 1}]}, "evaluate": {"baselines": ["median baseline"]}}
    with pytest.raises(SpecError, match=r"^w\.toml: evaluate\.baselines\[0\]: must be 'module:Class', a Python module "
                       r"and a baseline class in it; got 'median baseline'\. Write e.g\. 'my_baselines:MedianBaseline'"):
        validate_spec(document, source="w.toml")

    dataset = make_dataset(task="regression", validation=False)
    cases = [
        ("no_such_module_here:Median", r"cannot import the module 'no_such_module_here'.*Put no_such_module_here\.py "
                                       r"in the spec file's folder"),
        (f"{user_module}:MedianBaselin", rf"the module '{user_module}' has no class 'MedianBaselin'; got .*"
                                         r"Did you mean 'MedianBaseline'\?"),
        (f"{user_module}:NoPredict", rf"{user_module}:NoPredict is not a baseline: it has no predict method"),
        (f"{user_module}:NeedsArguments", rf"making {user_module}:NeedsArguments\(\) with no arguments raised TypeError"),
    ]
    for reference, message in cases:
        with pytest.raises(SpecError, match=r"^w\.toml: evaluate\.baselines\[1\]: " + message):
            baselines_for(dataset, EvaluateSpec(baselines=(f"{user_module}:SecondFeature", reference)),
                          source="w.toml")
    with pytest.raises(SpecError, match=rf"evaluate\.baselines\[0\]: {user_module}:WrongShape: predict\(\) must "
                       r"return one value .* got shape \(3,\)"):
        evaluate_baselines(dataset, EvaluateSpec(baselines=(f"{user_module}:WrongShape",)), source="w.toml")


def test_a_user_baseline_may_not_take_a_built_in_name(make_dataset, tmp_path, monkeypatch):
    (tmp_path / "dlw_test_mean_clash.py").write_text(
        "import numpy as np\nclass Mean:\n    name = 'mean'\n    def fit(self, train):\n        return self\n"
        "    def predict(self, part):\n        return np.zeros(part.size)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SpecError, match=r"evaluate\.baselines\[0\]: the baseline name 'mean' is taken"):
        baselines_for(make_dataset(task="regression"), EvaluateSpec(baselines=("dlw_test_mean_clash:Mean",)))


def test_user_baseline_modules_are_found_next_to_the_spec_file(make_dataset, tmp_path):
    (tmp_path / "dlw_test_beside_spec.py").write_text(USER_BASELINES_MODULE)
    spec_file = tmp_path / "w.toml"
    spec_file.write_text("")
    before = list(sys.path)
    try:
        chosen = baselines_for(make_dataset(task="regression"), EvaluateSpec(
            baselines=("dlw_test_beside_spec:MedianBaseline",)), source=str(spec_file))
        assert [b.name for b in chosen][-1] == "median"
        assert sys.path == before
    finally:
        sys.modules.pop("dlw_test_beside_spec", None)


HOSTILE_BASELINES = '''
import sys
from collections import Counter
from dlworkflow.evaluation.regression_baselines import MeanBaseline


class ExitsInFit:
    def fit(self, train):
        sys.exit(0)

    def predict(self, part):
        return []


class OddTasks:
    tasks = 5

    def fit(self, train):
        return self

    def predict(self, part):
        return []


class RecursesInPredict:
    def fit(self, train):
        return self

    def predict(self, part):
        return self.predict(part)
'''


def test_user_baselines_must_be_defined_in_the_named_module_and_their_errors_are_spec_errors(make_dataset, tmp_path):
    (tmp_path / "dlw_test_hostile_baselines.py").write_text(HOSTILE_BASELINES)
    (tmp_path / "w.toml").write_text("")
    spec_file = str(tmp_path / "w.toml")
    dataset = make_dataset(task="regression", validation=False)
    try:
        for name, origin in (("Counter", "collections"), ("MeanBaseline", "dlworkflow.evaluation.regression_baselines")):
            with pytest.raises(SpecError, match=rf"evaluate\.baselines\[0\]: '{name}' is not defined in the module "
                               rf"'dlw_test_hostile_baselines' \(it is imported there from '{origin}'\)"):
                baselines_for(dataset, EvaluateSpec(baselines=(f"dlw_test_hostile_baselines:{name}",)),
                              source=spec_file)
        with pytest.raises(SpecError, match=r"evaluate\.baselines\[0\]: dlw_test_hostile_baselines:OddTasks\.tasks "
                           r"must be a tuple of 'classification' and 'regression'; got 5"):
            baselines_for(dataset, EvaluateSpec(baselines=("dlw_test_hostile_baselines:OddTasks",)), source=spec_file)
        cases = [("ExitsInFit", r"dlw_test_hostile_baselines:ExitsInFit\.fit\(\) raised SystemExit\(0\)"),
                 ("RecursesInPredict", r"dlw_test_hostile_baselines:RecursesInPredict\.predict\(\) raised "
                                       r"RecursionError")]
        for name, message in cases:
            with pytest.raises(SpecError, match=r"evaluate\.baselines\[0\]: " + message):
                evaluate_baselines(dataset, EvaluateSpec(baselines=(f"dlw_test_hostile_baselines:{name}",)),
                                   source=spec_file)
    finally:
        sys.modules.pop("dlw_test_hostile_baselines", None)


def test_large_images_are_average_pooled_before_the_logistic_regression(make_image_dataset):
    from dlworkflow.evaluation.classification_baselines import pooled_pixels

    dataset = make_image_dataset(rows=90, test_rows=30, size=32)  # 32×32×3 = 3,072 pixels per image
    baseline = LogisticRegressionBaseline(num_classes=3).fit(dataset.train)
    assert baseline.estimator_[-1].n_features_in_ == 8 * 8 * 3  # 4×4 blocks
    np.testing.assert_allclose(
        pooled_pixels(dataset.test.x, 8)[:, 0], dataset.test.x[:, :4, :4, 0].mean(axis=(1, 2)), rtol=1e-6
    )
    results = evaluate_baselines(dataset, EvaluateSpec())
    assert results["logistic_regression"]["test"]["accuracy"] > results["majority_class"]["test"]["accuracy"] + 0.3
    assert "average-pooled" in LogisticRegressionBaseline.description
    # 2×2 blocks (17 // 8); a side that is not a multiple of the block leaves its last row or column out.
    assert pooled_pixels(np.ones((1, 19, 17, 2), dtype=np.float32), 8).shape == (1, 9 * 8 * 2)
