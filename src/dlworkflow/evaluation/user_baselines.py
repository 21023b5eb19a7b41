"""Your own baselines, named in the spec: ``[evaluate] baselines = ["my_baselines:MedianBaseline"]``.

Each entry is ``module:Class``. The module is imported — the spec file's folder is searched
first, then ``sys.path`` — and the class is made with no arguments; **this runs your code**,
as a ``model.builder`` does. The class has the interface of the built-in baselines
(:class:`~dlworkflow.evaluation.baseline.Baseline`, after scikit-learn's ``sklearn/dummy.py``):

* ``fit(train)`` learns from the training :class:`~dlworkflow.data.dataset.Part` only
  (``train.x`` the network's inputs, ``train.labels`` the target, ``train.frame`` the raw rows)
  and returns the baseline;
* ``predict(part)`` returns what a model predicts for any part: 1-D values for regression,
  ``(rows, classes)`` probabilities for classification.

Optional class attributes: ``name`` (its name in results; default ``module:Class``),
``description``, ``tasks`` (``("regression",)``, ``("classification",)``; default both). A
subclass of :class:`~dlworkflow.evaluation.baseline.Baseline` may also read the dataset and the
``[evaluate]`` section in ``from_dataset`` and opt out of a run with ``skip_reason``.

It is fitted and scored beside the built-in baselines, on the same parts with the same
metrics, and recorded like them (``baselines`` in the run record; the best one is the
headline's comparison).

Example:
    >>> # my_baselines.py, next to the spec file:
    >>> class MedianBaseline:  # doctest: +SKIP
    ...     name = "median"
    ...     def fit(self, train):
    ...         self.median_ = float(np.median(train.labels))
    ...         return self
    ...     def predict(self, part):
    ...         return np.full(part.size, self.median_)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import numpy as np

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.data.home import spec_folder
from dlworkflow.errors import SpecError
from dlworkflow.evaluation.baseline import Baseline
from dlworkflow.user_code import call_user_code, import_user_attribute

if TYPE_CHECKING:
    from dlworkflow.spec.schema import EvaluateSpec

TASKS = ("classification", "regression")


class UserBaseline(Baseline):
    """A baseline of the user's class, named in ``evaluate.baselines``, with its predictions checked.

    Args:
        estimator: An instance of the user's class (``fit(train)``, ``predict(part)``).
        name: Its name in results.
        reference: ``module:Class`` as the spec writes it.
        spec_path: ``evaluate.baselines[i]``, for messages.
        source: The spec file, for messages.

    Example:
        >>> baseline = UserBaseline(MedianBaseline(), "median", "my_baselines:MedianBaseline",  # doctest: +SKIP
        ...                         "evaluate.baselines[0]", "weather.toml")
        >>> baseline.fit(dataset.train).predict(dataset.test).shape  # doctest: +SKIP
        (165,)
    """

    tasks = TASKS

    def __init__(self, estimator: Any, name: str, reference: str, spec_path: str, source: str) -> None:
        self.estimator = estimator
        self.name = name  # an instance's name: user baselines are not in the class registry
        self.reference = reference
        self.spec_path = spec_path
        self.source = source
        self.description = str(getattr(estimator, "description", "") or _first_line(type(estimator).__doc__))

    def skip_reason(self, dataset: Dataset) -> str | None:
        """The user class's own ``skip_reason(dataset)``, when it has one."""
        own = getattr(self.estimator, "skip_reason", None)
        return self._call(own, dataset, method="skip_reason") if callable(own) else None

    def fit(self, train: Part) -> UserBaseline:
        """Fit the user's baseline on the training part."""
        self._call(self.estimator.fit, train, method="fit")
        return self

    def predict(self, part: Part) -> np.ndarray:
        """The user's predictions, checked for the shape a model's predictions have.

        Raises:
            SpecError: at ``evaluate.baselines[i]`` when the predictions do not hold one
                number (or one row of class probabilities) per row of the part.
        """
        predicted = self._call(self.estimator.predict, part, method="predict")
        try:
            values = np.asarray(predicted, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise self._error(f"predict() must return numbers; got {type(predicted).__name__}") from err
        if values.shape[:1] != (part.size,) or values.ndim > 2:
            raise self._error(
                f"predict() must return one value (regression) or one row of class probabilities "
                f"(classification) per row; the {part.name} part has {part.size} rows, got shape {values.shape}"
            )
        return values.reshape(-1) if values.ndim == 2 and values.shape[1] == 1 else values

    def _call(self, method_function: Any, *args: Any, method: str) -> Any:
        return call_user_code(
            method_function, *args, describe=f"{self.reference}.{method}()", source=self.source,
            spec_path=self.spec_path, hint="Fix the baseline class (see the docs: 'Your own baselines').",
        )

    def _error(self, what: str) -> SpecError:
        return SpecError.single(self.source, self.spec_path, f"{self.reference}: {what}",
                                hint="Fix the baseline class (see the docs: 'Your own baselines').")

    def __repr__(self) -> str:
        return f"UserBaseline({self.reference!r}, name={self.name!r})"


def user_baselines(
    dataset: Dataset, evaluate_spec: EvaluateSpec | None, *, source: str = "<spec>", taken: Collection[str] = ()
) -> list[Baseline]:
    """The baselines ``evaluate.baselines`` names, imported, checked and built for a dataset.

    Args:
        dataset: The prepared, split dataset.
        evaluate_spec: The spec's ``[evaluate]`` section (None: no user baselines).
        source: The spec file; its folder is searched first for the modules.
        taken: Names already in use (the built-in baselines'), which a user baseline may not take.

    Returns:
        Unfitted baselines, in the spec's order. A :class:`Baseline` subclass whose
        ``from_dataset`` returns None is left out.

    Raises:
        SpecError: at ``evaluate.baselines[i]`` when the module cannot be imported, has no
            such class, the class lacks ``fit``/``predict`` or cannot be made without
            arguments, its ``tasks`` exclude the dataset's task, or its name is taken.

    Example:
        >>> [b.name for b in user_baselines(dataset, spec.evaluate, source=spec.source)]  # doctest: +SKIP
        ['median']
    """
    references = (evaluate_spec.baselines if evaluate_spec is not None else None) or ()
    names = set(taken)
    built: list[Baseline] = []
    for index, reference in enumerate(references):
        spec_path = f"evaluate.baselines[{index}]"
        cls = import_baseline(reference, source=source, spec_path=spec_path)
        tasks = getattr(cls, "tasks", ()) or TASKS
        if not isinstance(tasks, (tuple, list)) or not all(task in TASKS for task in tasks):
            raise SpecError.single(
                source, spec_path, f"{reference}.tasks must be a tuple of {' and '.join(map(repr, TASKS))}",
                got=tasks, hint="Write e.g. tasks = ('regression',), or leave tasks out (both).",
            )
        if dataset.task not in tasks:
            raise SpecError.single(
                source, spec_path, f"{reference} is a baseline for {' and '.join(tasks)}, but this run's task is "
                f"{dataset.task}", got=reference, hint=f"Remove it from evaluate.baselines, or add {dataset.task!r} "
                "to the class's tasks.",
            )
        estimator = _instance(cls, reference, dataset, evaluate_spec, source, spec_path)
        if estimator is None:
            continue
        name = getattr(cls, "name", "") or reference
        if not isinstance(name, str) or name in names:
            raise SpecError.single(
                source, spec_path, f"the baseline name {name!r} is taken (by a built-in baseline or an earlier entry)",
                got=reference, hint="Set another name on the class: name = 'my_median'.",
            )
        names.add(name)
        built.append(UserBaseline(estimator, name, reference, spec_path, source))
    return built


def import_baseline(reference: str, *, source: str = "<spec>", spec_path: str = "evaluate.baselines[0]") -> type:
    """Import the class ``module:Class`` names, searching the spec file's folder first.

    Args:
        reference: ``module:Class``.
        source: The spec file (its folder is put first on ``sys.path`` while importing).
        spec_path: Where the reference is in the spec, for messages.

    Returns:
        The class.

    Raises:
        SpecError: at ``spec_path`` when the module is not the user's (the standard library,
            dlworkflow or a library it runs on), cannot be imported, does not define the class
            itself (a re-export), or the class has no ``fit`` and ``predict`` methods.

    Example:
        >>> import_baseline("my_baselines:MedianBaseline", source="weather.toml").__name__  # doctest: +SKIP
        'MedianBaseline'
    """
    cls = import_user_attribute(reference, spec_folder(source), source=source, spec_path=spec_path, kind="class")
    missing = [method for method in ("fit", "predict") if not callable(getattr(cls, method, None))]
    if missing:
        raise SpecError.single(
            source, spec_path, f"{reference} is not a baseline: it has no {' and no '.join(missing)} method",
            got=reference, hint="Give the class fit(self, train) returning self and predict(self, part) returning "
            "the predictions, as dlworkflow.evaluation.Baseline does.",
        )
    return cls


def _instance(
    cls: type, reference: str, dataset: Dataset, evaluate_spec: EvaluateSpec | None, source: str, spec_path: str
) -> Any:
    hint = "Give every argument of the class's __init__ a default value, and let it return normally."
    if issubclass(cls, Baseline):  # it may read the dataset and [evaluate], or opt out (None)
        return call_user_code(cls.from_dataset, dataset, evaluate_spec, source, describe=f"{reference}.from_dataset()",
                              source=source, spec_path=spec_path, hint=hint)
    return call_user_code(cls, describe=f"making {reference}() with no arguments", source=source,
                          spec_path=spec_path, hint=hint)


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
