"""The text baselines on the WordNet noun glosses, timed: category from definition.

Fits ``majority_class`` and ``tf_idf_logistic_regression`` (dlworkflow.evaluation.text_baselines)
on a fixed-seed sample of ``--train-rows`` definitions of ``../shared/data/wordnet_glosses/noun_glosses.csv``
and scores them on the remaining rows. Prints one JSON line: rows, terms, passes of the
solver, the seconds to fit and to predict, and both test accuracies.

Example:
    python benchmarks/text_baselines.py --train-rows 30000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dlworkflow.data.dataset import Part
from dlworkflow.evaluation.classification_baselines import MajorityClassBaseline
from dlworkflow.evaluation.text_baselines import TfIdfLogisticRegressionBaseline

GLOSSES = Path(__file__).resolve().parents[2] / "shared" / "data" / "wordnet_glosses" / "noun_glosses.csv"


def part(name: str, frame: pd.DataFrame, labels: np.ndarray) -> Part:
    return Part(name=name, x=np.zeros((len(frame), 1), dtype=np.float32), y=labels.astype(np.float32),
                labels=labels, frame=frame.reset_index(drop=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=GLOSSES)
    parser.add_argument("--train-rows", type=int, default=30_000)
    options = parser.parse_args()

    frame = pd.read_csv(options.csv)
    classes = sorted(frame["category"].unique())
    labels = frame["category"].map({name: index for index, name in enumerate(classes)}).to_numpy()
    order = np.random.default_rng(0).permutation(len(frame))
    train_rows, test_rows = order[: options.train_rows], order[options.train_rows:]
    train = part("train", frame.iloc[train_rows], labels[train_rows])
    test = part("test", frame.iloc[test_rows], labels[test_rows])

    result: dict[str, object] = {"train_rows": train.size, "test_rows": test.size, "classes": len(classes)}
    for baseline in (MajorityClassBaseline(num_classes=len(classes)),
                     TfIdfLogisticRegressionBaseline(("definition",), num_classes=len(classes))):
        started = time.perf_counter()
        baseline.fit(train)
        fitted = time.perf_counter()
        predicted = baseline.predict(test)
        done = time.perf_counter()
        accuracy = float(np.mean(predicted.argmax(axis=1) == test.labels))
        result[baseline.name] = {"fit_seconds": round(fitted - started, 2),
                                 "predict_seconds": round(done - fitted, 2), "test_accuracy": round(accuracy, 4)}
    steps = baseline.estimator_.named_steps  # type: ignore[union-attr]
    result["terms"] = len(steps["tf_idf"].vocabulary_)
    result["solver_passes"] = int(np.max(steps["logistic_regression"].n_iter_))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
