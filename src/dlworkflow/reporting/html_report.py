"""One self-contained HTML page for a run: plots embedded, everything user-written escaped.

The page shows the headline result beside the best baseline, the diagnosis, every plot of
the run folder (embedded as base64 PNG, so the file can be mailed or attached as it is), the
metrics of the model and of each baseline per split, data and split, the per-layer
parameter counts with their formulas, training, provenance (git commit, versions, spec) and
comments. It is rendered with a Jinja2 template whose autoescaping makes names,
descriptions, comments and spec values text, never markup: a description holding
``<script>`` shows as those characters.

Example:
    >>> path = write_report(record, run_dir, run_dir / "report.html")  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'report.html'
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlworkflow.errors import RegistryError
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.output_files import OutputFile
from dlworkflow.registry import artifacts
from dlworkflow.reporting.notebook_html import template_environment

PARTS = ("train", "validation", "test")
"""The splits whose metrics the page shows, in order."""

PLOT_CAPTIONS = {
    "history.png": "Training and validation curves, best epoch marked",
    "predicted_vs_true.png": "Predicted against true values, with the baseline's points",
    "residuals.png": "Residuals over time (true − predicted)",
    "confusion_matrix.png": "Confusion matrix of the test set",
    "class_accuracy.png": "Accuracy per class on the test set",
    "test_images.png": "Test images with their true and predicted class",
}
"""Captions of the plots a run folder may hold; other PNGs are shown under their file name."""

REPORT_FILE = "report.html"
"""The page's default file name, in the run folder."""

TEMPLATE = "report.html.j2"
"""The page's Jinja2 template in this package's ``templates`` folder."""

SUMMARY_TEMPLATE = "summary.html.j2"
"""The notebook block's Jinja2 template."""

GENERATOR_TAG = '<meta name="generator" content="dlworkflow'
"""How a page dlworkflow wrote begins (the template's ``generator`` tag): such a file may be replaced."""


def render_summary(record: Mapping[str, Any], run_dir: Path | None) -> str:
    """A compact HTML block of a run for a notebook: headline, diagnosis, training curves.

    Args:
        record: The run's record.
        run_dir: The run folder (its ``history.png`` is embedded when there).

    Returns:
        An HTML fragment (``Run._repr_html_`` shows it in Jupyter).

    Example:
        >>> "test set" in render_summary(record, run_dir)  # doctest: +SKIP
        True
    """
    plots = [plot for plot in embedded_plots(run_dir) if plot["name"] == "history.png"]
    return template_environment().get_template(SUMMARY_TEMPLATE).render(
        record=record, primary=record.get("primary") or {}, plots=plots
    )


def render_report(record: Mapping[str, Any], run_dir: Path | None, *, spec_toml: str | None = None) -> str:
    """The HTML page of a run.

    Args:
        record: The run's record (``RunRecord.to_dict()`` shape).
        run_dir: The run folder; its PNG files are embedded (None or missing: no plots).
        spec_toml: The resolved spec as TOML; default: ``spec.toml`` of the run folder.

    Returns:
        The page, one self-contained HTML document.

    Example:
        >>> page = render_report({"name": "<script>", "description": "a <b>bold</b> idea"}, None)
        >>> "<script>" in page, "&lt;script&gt;" in page
        (False, True)
    """
    environment = template_environment()
    folder = Path(run_dir) if run_dir is not None else None
    if spec_toml is None and folder is not None and (folder / "spec.toml").is_file():
        spec_toml = (folder / "spec.toml").read_text()
    columns, rows = metric_table(record)
    from dlworkflow import __version__

    return environment.get_template(TEMPLATE).render(
        record=record,
        primary=record.get("primary") or {},
        plots=embedded_plots(folder),
        metric_columns=columns,
        metric_rows=rows,
        spec_toml=spec_toml or "",
        version=__version__,
        encodings=input_encodings(folder),
        explanations=explanations(folder),
    )


def write_report(record: Mapping[str, Any], run_dir: Path | None, output: Path) -> Path:
    """Render the page and write it through a temporary file renamed into place: never half-written.

    Only a regular file is written (a folder, device, FIFO or socket is refused), and an
    existing file only when it is a page dlworkflow wrote (its ``generator`` tag): anything
    else at ``output`` is left as it is.

    Args:
        record: The run's record.
        run_dir: The run folder (its plots are embedded).
        output: Where to write the page; missing folders are created.

    Returns:
        ``output``.

    Raises:
        RegistryError: when ``output`` is not a regular file, is a file dlworkflow did not
            write, or cannot be written (a full disk); nothing is left half-written.

    Example:
        >>> write_report(record, run_dir, Path("weather.html"))  # doctest: +SKIP
        PosixPath('weather.html')
    """
    target = report_output(output)
    target.check()  # before the page is rendered
    return target.write_text(render_report(record, run_dir))


def report_output(output: str | Path) -> OutputFile:
    """The page's file: a regular file, replaced only when it is an earlier page (see :func:`write_report`).

    Call ``.check()`` on it to refuse a bad ``-o`` before any work.

    Args:
        output: Where the page goes.

    Returns:
        The output file (:class:`~dlworkflow.output_files.OutputFile`, errors as ``RegistryError``).

    Example:
        >>> report_output(tmp).check()
        Traceback (most recent call last):
        ...
        dlworkflow.errors.RegistryError: ...: -o: is a folder, not a file. Name a file, e.g. .../output.csv.
    """
    return OutputFile(output, option="-o", error=RegistryError, replaceable=is_report, make_parents=True)


def is_report(path: Path) -> bool:
    """Whether a file is a page dlworkflow wrote (its head holds dlworkflow's ``generator`` tag).

    Args:
        path: An existing file.

    Returns:
        True for an earlier ``dlw report``'s page.

    Example:
        >>> _ = (tmp / "notes.html").write_text("<p>my notes</p>")
        >>> is_report(tmp / "notes.html")
        False
    """
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return GENERATOR_TAG.encode() in head


def input_encodings(run_dir: Path | None) -> tuple[str, ...]:
    """One line per input column of a table run whose columns were typed or imputed (from ``preprocessing.json``).

    Empty for a run of plain numbers, an image run, or a folder without a readable preprocessing file
    (the report of an old or damaged run still renders).

    Example:
        >>> input_encodings(None)
        ()
    """
    from dlworkflow.data.preprocessing import TablePreprocessing, as_preprocessing
    from dlworkflow.errors import WorkflowError
    from dlworkflow.registry.artifacts import PREPROCESSING

    path = None if run_dir is None else run_dir / PREPROCESSING
    if path is None or not path.is_file():
        return ()
    try:
        saved = as_preprocessing(json.loads(path.read_text()), source=str(path))
    except (OSError, ValueError, WorkflowError):
        return ()
    encoding = getattr(saved, "encoding", None) if isinstance(saved, TablePreprocessing) else None
    return () if encoding is None else tuple(encoding.describe())


def embedded_plots(run_dir: Path | None) -> list[dict[str, str]]:
    """The run folder's PNG plots as ``{name, caption, data}`` (data: base64), known plots first.

    Args:
        run_dir: The run folder, or None.

    Returns:
        One dict per PNG file.

    Example:
        >>> [plot["name"] for plot in embedded_plots(run_dir)]  # doctest: +SKIP
        ['history.png', 'predicted_vs_true.png']
    """
    if run_dir is None or not run_dir.is_dir():
        return []
    order = list(PLOT_CAPTIONS)
    files = sorted(run_dir.glob("*.png"), key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name))
    files = [path for path in files if path.name not in EXPLANATION_PLOTS]  # shown in their own section
    return [
        {
            "name": path.name,
            "caption": PLOT_CAPTIONS.get(path.name, path.stem.replace("_", " ")),
            "data": base64.b64encode(path.read_bytes()).decode("ascii"),
        }
        for path in files
    ]


EXPLANATION_PLOTS = (artifacts.IMPORTANCE_PLOT, artifacts.SALIENCY_GRID)
"""``dlw explain``'s plots: shown in the page's Explanations section, not among the plots."""

MAX_EXPLAINED_ROWS = 20
"""Columns listed in the Explanations section's table (the chart shows more)."""


def explanations(run_dir: Path | None) -> dict[str, Any] | None:
    """What ``dlw explain`` saved in the run folder, for the page: importances, saliency maps, their figures; or None.

    Args:
        run_dir: The run folder, or None.

    Returns:
        ``{"importance": PermutationImportance or None, "columns": the most important, "plot": base64 PNG or "",
        "saliency": SaliencyMaps or None, "saliency_plot": base64 PNG or "", "words": WordImportances per
        text column}``; None when the run was not
        explained (or its ``explanation.json`` cannot be read).

    Example:
        >>> explanations(None) is None
        True
    """
    from dlworkflow.evaluation.permutation_importance import PermutationImportance
    from dlworkflow.evaluation.saliency import SaliencyMaps
    from dlworkflow.evaluation.word_importance import WordImportances

    if run_dir is None or not (run_dir / artifacts.EXPLANATION).is_file():
        return None
    try:
        saved = json.loads((run_dir / artifacts.EXPLANATION).read_text(encoding="utf-8"))
        importance = (PermutationImportance.from_dict(saved["permutation_importance"])
                      if "permutation_importance" in saved else None)
        saliency = SaliencyMaps.from_dict(saved["saliency"]) if "saliency" in saved else None
        words = tuple(WordImportances.from_dict(column) for column in saved.get("word_importance", ()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if importance is None and saliency is None and not words:
        return None
    return {
        "importance": importance,
        "columns": importance.columns[:MAX_EXPLAINED_ROWS] if importance is not None else (),
        "plot": _embedded(run_dir / artifacts.IMPORTANCE_PLOT) if importance is not None else "",
        "saliency": saliency,
        "saliency_plot": _embedded(run_dir / artifacts.SALIENCY_GRID) if saliency is not None else "",
        "words": words,
    }


def _embedded(plot: Path) -> str:
    return base64.b64encode(plot.read_bytes()).decode("ascii") if plot.is_file() else ""


def metric_table(record: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The model's and each baseline's evaluation metrics per split, as table columns and rows.

    Args:
        record: The run's record.

    Returns:
        ``(columns, rows)``: columns are ``(part, metric)`` pairs for the evaluation's metrics
        (not Keras' ``loss``); rows are ``{kind, name, cells}``, the model first.

    Example:
        >>> record = {"name": "weather", "metrics": {"test": {"rmse": 3.92, "loss": 15.4}},
        ...           "baselines": {"persistence": {"test": {"rmse": 3.877}}}}
        >>> columns, rows = metric_table(record)
        >>> columns
        [('train', 'rmse'), ('validation', 'rmse'), ('test', 'rmse')]
        >>> rows[1]
        {'kind': 'baseline', 'name': 'persistence', 'cells': [None, None, 3.877]}
    """
    metrics = record.get("metrics") or {}
    baselines = record.get("baselines") or {}
    names: list[str] = []
    for scores in [*metrics.values(), *(part for baseline in baselines.values() for part in baseline.values())]:
        names += [name for name in (scores or {}) if name in METRIC_DIRECTIONS and name not in names]
    columns = [(part, name) for name in names for part in PARTS]
    model_row = {"kind": "model", "name": f"{record.get('name')} (this model)",
                 "cells": [(metrics.get(part) or {}).get(name) for part, name in columns]}
    baseline_rows = [
        {"kind": "baseline", "name": baseline,
         "cells": [(scores.get(part) or {}).get(name) for part, name in columns]}
        for baseline, scores in baselines.items()
    ]
    rows = [model_row, *baseline_rows] if metrics or baselines else []
    return columns, rows
