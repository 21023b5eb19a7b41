"""The Python API, and the only place that wires the layers together.

``spec → data → models → training → evaluation → registry``: :func:`run` takes a spec (a
file, a dict or a :class:`~dlworkflow.spec.Spec`), prepares and splits the data, builds and
trains the model, scores it beside naive baselines, and records the run. The command line
(:mod:`dlworkflow.cli`) calls these functions and only renders what they return.

Keras is imported lazily, after the backend is chosen, so importing this module is cheap.

Example:
    >>> import dlworkflow
    >>> result = dlworkflow.run("examples/weather.toml", train__epochs=2)  # doctest: +SKIP
    >>> result.primary["baseline"], round(result.baselines["persistence"]["test"]["rmse"], 3)  # doctest: +SKIP
    ('persistence', 3.877)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError
from dlworkflow.execution.result import ModelSummary, Run
from dlworkflow.registry.lookups import (  # the look-ups: re-exported
    leaderboards,
    list_runs,
    recover,
    runs,
    show,
    tensorboard_logs,
    unrecorded_runs,
)
from dlworkflow.spec.resolution import Overrides, SpecLike, resolve_spec, user_code_notice
from dlworkflow.workflow_warning import warn_each

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from dlworkflow.data.inspection import Inspection
    from dlworkflow.execution.explanation import Explanation
    from dlworkflow.registry.record import RunRecord


__all__ = [
    "Run", "ModelSummary", "baseline_comparison", "comment", "compare", "leaderboards", "list_runs", "recover", "run",
    "runs", "show", "report", "resume", "summary", "tensorboard_logs", "tune", "export", "predict", "unrecorded_runs",
    "explain",
    "inspect",
]


def summary(spec: SpecLike, *, data: pd.DataFrame | None = None, overrides: Overrides = None) -> ModelSummary:
    """Build the model of a spec without training it, and explain its parameters.

    Args:
        spec: A spec file, dict or Spec.
        data: A DataFrame to use instead of the spec's data source.
        overrides: ``PATH=VALUE`` strings or a mapping of spec path to value.

    Returns:
        The per-layer report with formulas, the split sizes and an overfitting-risk note.
        A spec that gives ``model.input_shape`` is summarised without loading any data.

    Raises:
        SpecError: for an invalid spec or layer.
        DataError: when the data cannot be prepared as asked.

    Warns:
        WorkflowWarning: each note of :attr:`ModelSummary.warning`.

    Example:
        >>> summary("examples/weather.toml").parameters.total  # doctest: +SKIP
        14101
    """
    from dlworkflow.execution.preparation import prepare
    from dlworkflow.models import base_warning, build_model, explain_parameters, overparameterized_warning
    from dlworkflow.training.backend import activate_backend, choose_backend

    resolved = resolve_spec(spec, overrides)
    if resolved.model.input_shape is not None and data is None:
        backend = activate_backend(choose_backend(resolved), source=resolved.source)
        report = explain_parameters(build_model(resolved, None))
        warn_each(notes := [user_code_notice(resolved), base_warning(resolved)])
        return ModelSummary(resolved, backend, report, None, "\n".join(filter(None, notes)) or None)  # code, base
    prepared = prepare(resolved, data)
    dataset = prepared.dataset
    report = explain_parameters(build_model(resolved, dataset))
    notes = [user_code_notice(resolved), base_warning(resolved), *dataset.warnings, overparameterized_warning(report, dataset.train.size)]
    warning = "\n".join(note for note in notes if note) or None
    warn_each(notes)
    return ModelSummary(resolved, prepared.backend, report, dataset.sizes(), warning)


def inspect(spec: SpecLike, *, data: pd.DataFrame | None = None, overrides: Overrides = None) -> Inspection:
    """Look at a spec's data before training: column types, gaps, encodings, the target per part, warnings.

    Reads only the data: no model is built, nothing is recorded, no look at the test set is counted.

    Args:
        spec: A spec file, dict or Spec.
        data: A DataFrame to use instead of the spec's data source.
        overrides: ``PATH=VALUE`` strings or a mapping of spec path to value.

    Returns:
        The :class:`~dlworkflow.data.inspection.Inspection`; a notebook shows it as tables.

    Raises:
        SpecError: for an invalid spec. DataError: when the data cannot be read.

    Example:
        >>> inspect("examples/penguins.toml").inputs  # doctest: +SKIP
        4
    """
    from dataclasses import replace

    from dlworkflow.data.inspection import inspect_data, reads_images
    from dlworkflow.execution.preparation import prepare
    from dlworkflow.reporting.notebook_html import inspection_html

    resolved = resolve_spec(spec, overrides)
    images = prepare(resolved).dataset if data is None and reads_images(resolved) else None
    return replace(inspect_data(resolved, frame=data, images=images), render=inspection_html)


def run(
    spec: SpecLike,
    *,
    data: pd.DataFrame | None = None,
    overrides: Overrides = None,
    registry: str | None = None,
    quiet: bool = True,
    console: Console | None = None,
    **settings: Any,
) -> Run:
    """Run the whole workflow of a spec and record it.

    Steps: validate the spec → prepare and split the data → choose the Keras backend →
    build, compile and train the model → score it on validation and test beside the
    baselines (one look at the test set) → save the artifacts → record the run.

    Args:
        spec: A spec file, dict or Spec.
        data: A DataFrame to use instead of the spec's data source (from a notebook).
        overrides: ``PATH=VALUE`` strings or a mapping of spec path to value.
        registry: A SQLAlchemy URL; default ``DLW_REGISTRY`` or ``./.dlw/registry.db``.
        quiet: Hide the per-epoch progress bar.
        console: Where the progress bar is drawn (a rich Console).
        **settings: Overrides as keywords, ``__`` for dots: ``train__epochs=5``.

    Returns:
        The finished :class:`Run`.

    Raises:
        SpecError: for an invalid spec (before any data is read).
        DataError: when the data cannot be prepared as asked.
        TrainingError: when training fails (the run is recorded as ``failed``).
        RegistryError: when the registry cannot be reached.

    Warns:
        WorkflowWarning: each of :attr:`Run.warnings` (rows repeated across the splits, a test-set
            name reused for other data, ...), shown under a notebook cell.

    Example:
        >>> result = run("examples/penguins.toml", train__epochs=5)  # doctest: +SKIP
        >>> result.record["split"]["train"], result.record["split"]["test"]  # doctest: +SKIP
        (273, 69)
    """
    from dlworkflow.execution.preparation import prepare
    from dlworkflow.execution.runner import execute
    from dlworkflow.registry import Registry

    resolved = resolve_spec(spec, overrides, {key.replace("__", "."): value for key, value in settings.items()})
    prepared = prepare(resolved, data)
    with Registry.open(registry) as store:
        result = execute(resolved, prepared.dataset, prepared.backend, store, quiet=quiet, console=console,
                         timings=prepared.timings)
    result.warnings[:0] = [*filter(None, [user_code_notice(resolved)]), *prepared.dataset.warnings]  # code, data
    warn_each(result.warnings)
    return result


def baseline_comparison(record: RunRecord | Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every standard metric of a run beside the best baseline, per part, with skill scores.

    The best baseline is chosen on validation (train when there is none), never on test.

    Args:
        record: A run record (:attr:`Run.record` or :func:`show`).

    Returns:
        metric → part → ``{"model", "baseline", "baseline_value", "skill", "chosen_on", ...}``.

    Example:
        >>> baseline_comparison(show(run_id))["rmse"]["test"]["baseline"]  # doctest: +SKIP
        'linear_regression'
    """
    from dlworkflow.reporting.run_text import baseline_comparison as comparison

    return comparison(record)


def resume(run_id: str, *, registry: str | None = None, quiet: bool = True, console: Console | None = None) -> Run:
    """Go on with an interrupted run from its last checkpoint, to the epochs its spec asks for.

    The run keeps its id; when it finishes, its record (history continuous from epoch 1)
    replaces the interrupted one, as if it had not stopped.

    Args:
        run_id: The interrupted run's id, or a unique prefix of it.
        registry: A SQLAlchemy URL.
        quiet: Hide the per-epoch progress bar.
        console: Where the progress bar is drawn.

    Returns:
        The finished :class:`Run`.

    Raises:
        RegistryError: when the run is not interrupted or has no checkpoint (TrainingError: none readable).
        DataError: when the data no longer matches what the run trained on.

    Example:
        >>> resume("20261123-2315").record["status"]  # doctest: +SKIP
        'finished'
    """
    from dlworkflow.execution.resumption import resume_run

    result = resume_run(run_id, registry, quiet=quiet, console=console)
    warn_each(result.warnings)
    return result


def compare(run_ids: Iterable[str], *, registry: str | None = None) -> Any:
    """Compare runs evaluated on the same test set: their test metrics beside their baselines.

    Args:
        run_ids: Two or more run ids or unique prefixes.
        registry: A SQLAlchemy URL.

    Returns:
        A :class:`~dlworkflow.registry.run_comparison.RunComparison`, best run first, with
        ``curves``: a PNG of the runs' loss curves overlaid, in ``<registry home>/comparisons/``.

    Raises:
        RegistryError: when a run does not exist, fewer than two are given, or they were
            evaluated on different test sets (which cannot be ranked).

    Example:
        >>> [row["name"] for row in compare(["20261123-2159", "20261123-2201"]).rows]  # doctest: +SKIP
        ['weather_batchnorm', 'weather']
    """
    import dataclasses

    from dlworkflow.registry import Registry
    from dlworkflow.registry.run_comparison import compare_runs
    from dlworkflow.reporting.comparison_curves import COMPARISONS_DIR, draw_comparison_curves

    with Registry.open(registry) as store:
        records = [store.get(run_id) for run_id in run_ids]
        comparison = compare_runs(records, where=f"registry {store.url}")
        folder = store.home / COMPARISONS_DIR
    path = draw_comparison_curves(records, folder)
    return comparison if path is None else dataclasses.replace(comparison, curves=str(path))


def report(run_id: str, *, output: str | Path | None = None, registry: str | None = None) -> Path:
    """Write a run's self-contained HTML page (``dlw report``).

    Args:
        run_id: The run id, or a unique prefix of it.
        output: The HTML file; default ``report.html`` in the run folder.
        registry: A SQLAlchemy URL.

    Returns:
        The written file.

    Raises:
        RegistryError: when no run matches, or ``output`` is a folder, device or file dlw did not write.

    Example:
        >>> report("20261123-2201").name  # doctest: +SKIP
        'report.html'
    """
    from dlworkflow.execution.run_plots import redraw_missing_plots
    from dlworkflow.registry import Registry
    from dlworkflow.reporting.html_report import REPORT_FILE, report_output, write_report

    if output is not None:
        report_output(output).check()  # a folder, device or someone's file: refused before anything is read
    with Registry.open(registry) as store:
        record = store.get(run_id)
        run_dir = store.run_dir(record.id)
    redraw_missing_plots(record, run_dir)  # plots a full disk kept out of the run folder
    target = Path(output) if output is not None else run_dir / REPORT_FILE
    return write_report(record.to_dict(), run_dir, target)


def tune(
    spec: SpecLike,
    *,
    overrides: Overrides = None,
    registry: str | None = None,
    storage: str | None = None,
    workers: int = 1,
    quiet: bool = True,
    console: Console | None = None,
    **settings: Any,
) -> Any:
    """Tune a spec's hyperparameters with Optuna (``dlw tune``), then train the best once more.

    Every trial is a run in the registry, scored on validation only (trials never look at
    the test set); the best configuration is then trained as a normal run and evaluated on
    the test set once, beside the baselines. Running it again with the same study name
    continues the study; a study name made from another spec is refused.

    Args:
        spec: A spec file, dict or Spec with a ``[tune]`` section.
        overrides: ``PATH=VALUE`` strings or a mapping of spec path to value.
        registry: A SQLAlchemy URL; default ``DLW_REGISTRY`` or ``./.dlw/registry.db``.
        storage: The Optuna storage URL (workers on several machines share one); default
            ``studies.db`` beside a SQLite registry, else the registry's database.
        workers: Worker processes on this machine.
        quiet: Hide the per-epoch progress bars.
        console: Where progress is drawn.
        **settings: Overrides as keywords, ``__`` for dots: ``tune__n_trials=6``.

    Returns:
        A :class:`~dlworkflow.tuning.tuner.TuneResult`: the study's table, the best values
        and the final run.

    Raises:
        SpecError: for a missing ``[tune]``, a tuned path that is not in the spec, or a study
            name taken by another spec — all before any training.

    Example:
        >>> result = tune("examples/weather_tune.toml", tune__n_trials=6, train__epochs=3)  # doctest: +SKIP
        >>> len(result.trials), result.final.record["study"]["role"]  # doctest: +SKIP
        (6, 'final')
    """
    from dlworkflow.tuning.tuner import tune_spec

    resolved = resolve_spec(spec, overrides, {key.replace("__", "."): value for key, value in settings.items()})
    return tune_spec(resolved, registry=registry, storage=storage, workers=workers, quiet=quiet, console=console)


def comment(
    run_id: str, text: str | None = None, *, edit: int | None = None, delete: int | None = None,
    registry: str | None = None,
) -> dict[str, Any]:
    """Add a comment to a run (the COMMENTS column of the results table), or correct or delete one.

    Comments are numbered from 1, oldest first, as ``dlw show`` lists them.

    Args:
        run_id: The run id, or a unique prefix of it.
        text: The comment (or, with ``edit``, its new text).
        edit: Replace the text of this comment.
        delete: Delete this comment (no ``text``).
        registry: A SQLAlchemy URL.

    Returns:
        The run's updated record.

    Raises:
        SpecError: For ``edit`` and ``delete`` together, ``delete`` with a text, or no text to add.
        RegistryError: For an unknown run or comment number.

    Example:
        >>> comment("2026", "baseline beats it: needs more data")  # doctest: +SKIP
        >>> comment("2026", delete=1)  # doctest: +SKIP
    """
    from dlworkflow.registry import Registry

    if edit is not None and delete is not None or (delete is not None) == (text is not None):
        raise SpecError.single(
            "dlw comment", "", "give a text to add, --edit N with the new text, or --delete N alone",
            hint='e.g. dlw comment RUN "needs more data", dlw comment RUN --edit 1 "new text", '
                 "dlw comment RUN --delete 1",
        )
    with Registry.open(registry) as store:
        full_id = store.resolve_id(run_id)
        if delete is not None:
            store.delete_comment(full_id, delete)
        elif edit is not None:
            store.edit_comment(full_id, edit, text)
        else:
            store.add_comment(full_id, text)
        return store.get(full_id).to_dict()


def export(
    run_id: str, directory: str | Path, *, force: bool = False, registry: str | None = None, model_format: str = "keras"
) -> Path:
    """Write a run's self-contained bundle: model, fitted preprocessing, model card, spec, manifest.

    The folder gets ``model.keras``, ``preprocessing.json``, ``spec.toml``, ``model_card.md``
    (with the test set's current looks) and ``bundle.json`` (format version, run id, backend
    and package versions, sha256 of every file). Nothing is pickled. It is written next to
    the folder and renamed into place when complete.

    Args:
        run_id: The run id, or a unique prefix of it.
        directory: The bundle folder: new or empty (created with its parents).
        force: Replace the folder when it holds an earlier bundle (never other files).
        registry: A SQLAlchemy URL.
        model_format: ``keras``, or ``onnx`` (``model.onnx`` in place of ``model.keras``, which
            ``predict`` runs through onnxruntime without Keras; needs ``dlworkflow[onnx]``).

    Returns:
        The bundle folder, absolute.

    Raises:
        RegistryError: when no single run matches, the run has no model (it failed), or the
            folder is not empty (without ``force``), is not a bundle, holds the registry, or
            cannot be written.

    Example:
        >>> export("20261123", "shared/weather")  # doctest: +SKIP
        PosixPath('/home/ann/project/shared/weather')
    """
    from dlworkflow.registry import Registry
    from dlworkflow.sharing.bundle_export import write_bundle

    with Registry.open(registry) as store:
        record = store.get(run_id)
        return write_bundle(store.run_dir(record.id), record, directory, force=force, model_format=model_format)


def explain(
    run_id: str, *, rows: int | None = None, part: str = "validation", repeats: int = 5, registry: str | None = None
) -> Explanation:
    """Explain a run's model (``dlw explain``): columns' permutation importance or images' saliency maps, into its folder.

    Args:
        run_id: The run id, or a unique prefix of it.
        rows: At most this many rows of the part, or all.
        part: ``validation`` (default) or ``test`` (counts a look at the test set).
        repeats: Shuffles per column (their spread is shown).
        registry: A SQLAlchemy URL.

    Returns:
        The importances, most important first (a table), or the occlusion maps (images), and the files
        written (``explanation.json``, ``feature_importance.png`` or ``saliency_maps.png``).

    Raises:
        RegistryError: when no finished run matches. DataError: when its data changed.

    Example:
        >>> explain("20261123").importance.columns[0].column  # doctest: +SKIP
        'BASEL_sunshine'
    """
    from dlworkflow.execution.explanation import explain_run
    from dlworkflow.registry import Registry

    with Registry.open(registry) as store:
        explained = explain_run(store, store.get(run_id), rows=rows, part=part, repeats=repeats)
    warn_each([explained.note] if explained.note else [])
    return explained


def predict(
    source: str | Path,
    input: str | Path | pd.DataFrame,
    output: str | Path | None = None,
    *,
    registry: str | None = None,
    ignore_extra: bool = False,
    force: bool = False,
) -> pd.DataFrame:
    """Predict new rows or images with a run's model, applying its saved preprocessing.

    ``source`` is a bundle folder (``dlw export``; every file is checked against the
    manifest's sha256) or a run id of the registry. The input is checked and prepared
    before Keras is imported; then the backend the run trained with is activated and the
    model is loaded with Keras' safe mode (a model holding Python code, such as a ``Lambda``
    layer, is refused). The same rows in the same order give exactly the run's own
    predictions.

    Table models take a CSV file: it needs every feature column (any order); the target, the
    spec's ``data.drop`` columns and the persistence column are accepted and ignored, any
    other column is an error unless ``ignore_extra``. No shift, row window or ``dropna`` is
    applied: each row gets the prediction the model was trained to make for it (with
    ``data.shift = -1``, the target's next value), in input order. Image models take an image
    file or a folder of images, read as the run's images were.

    Args:
        source: A bundle folder, or a run id (or unique prefix).
        input: A CSV file or a DataFrame (table models), or an image file or folder (image models).
        output: Write the predictions to this CSV file too (checked first; never the input).
        registry: A SQLAlchemy URL (for a run id).
        ignore_extra: Table models: ignore columns the model does not know.
        force: Replace an existing ``output`` file (never the input).

    Returns:
        One row per input row or image, in order: ``file`` (images), ``prediction`` (the
        value, or the class name) and for classes ``probability_<class>`` per class.

    Raises:
        DataError: for a bundle that is not intact (a file changed after export), a model
            holding Python code, input the model cannot take (missing or extra columns,
            text, missing or infinite values, unreadable images), NaN or infinite predictions,
            or an ``output`` that is the input or exists (without ``force``).
        RegistryError: when ``source`` is neither a bundle folder nor a finished run.

    Example:
        >>> predict("shared/weather", "new_days.csv")["prediction"].round(1).tolist()  # doctest: +SKIP
        [5.1, 2.1]
    """
    from dlworkflow.sharing.bundle_source import bundle_for
    from dlworkflow.sharing.prediction import predict_bundle, prediction_output

    target = prediction_output(output, input, force=force)
    return predict_bundle(bundle_for(source, registry), input, target, ignore_extra=ignore_extra, registry=registry)


def submit(spec: SpecLike, *, overrides: Overrides = None, registry: str | None = None,
           slurm: Mapping[str, Any] | None = None, tune: bool = False, workers: int = 1, storage: str | None = None) -> Any:
    """Submit a run (``tune``: a study's ``workers`` as a job array) to SLURM; ``dlw run/tune --executor slurm``.

    ``slurm`` (partition, time, gpus, cpus, mem_gb, ...) overrides the spec's ``[slurm]`` table.
    Returns a :class:`~dlworkflow.executors.submission.Submission`: the jobs, recorded as queued;
    ``.wait()`` waits for them.

    Example:
        >>> submit("examples/weather.toml", slurm={"time": 30}).job_ids  # doctest: +SKIP
        ['4242']
    """
    from dlworkflow.executors.slurm import SlurmSettings
    from dlworkflow.executors.submission import submit_run, submit_tune

    resolved = resolve_spec(spec, overrides)
    settings = SlurmSettings.from_spec(resolved.slurm, **dict(slurm or {}))
    if tune:
        return submit_tune(resolved, registry, storage, workers, settings)
    return submit_run(resolved, registry, settings)


def jobs(run_id: str | None = None, *, registry: str | None = None) -> Any:
    """The jobs not yet ended (queued, running, requeued), or with ``run_id`` the job that ran that run (or None).

    The listing first brings unfinished SLURM jobs up to date from the scheduler (``executors.scheduler``).

    Example:
        >>> [job.state for job in jobs()]  # doctest: +SKIP
        ['running']
    """
    from dlworkflow.registry.quick_read import has_live_jobs_quickly

    if run_id is None and has_live_jobs_quickly(registry) is False:
        return []  # a local SQLite registry without live jobs: read without SQLAlchemy
    from dlworkflow.executors.scheduler import refresh_jobs
    from dlworkflow.registry import Registry

    with Registry.open(registry) as store:
        if run_id is not None:
            return store.jobs.for_run(store.resolve_id(run_id))
        refresh_jobs(store)  # a SLURM job cancelled while queued shows as cancelled (one squeue call, if any)
        return store.jobs.live()
