"""The ``dlw`` commands of the workshop's workflow: run, runs, show, summary, inspect, comment, tune,
resume, compare, report, tensorboard, export, predict, recover and info.

Each parses, calls :mod:`dlworkflow.api` and renders; none holds logic.

Example:
    $ dlw run examples/weather.toml --set train.epochs=2
    $ dlw runs
    $ dlw show RUN --json
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from dlworkflow.cli import executors
from dlworkflow.cli.application import (
    JSON_OPTION,
    REGISTRY_OPTION,
    SET_OPTION,
    SPEC_ARGUMENT,
    app,
    err,
    out,
)
from dlworkflow.folding_table import FoldingTable
from dlworkflow.formatting import BRIEF_DIGITS, format_number
from dlworkflow.plain_text import printable
from dlworkflow.reporting.run_text import (
    leaderboard_table,
    render_run,
    styled,
    write_plain_leaderboard,
)


@app.command()
def run(
    spec: str = SPEC_ARGUMENT,
    overrides: list[str] = SET_OPTION,
    registry: str | None = REGISTRY_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar; print only the result."),
    executor: str = executors.EXECUTOR_OPTION, wait: bool = executors.WAIT_OPTION,
    partition: str | None = executors.PARTITION_OPTION, time: str | None = executors.TIME_OPTION,
    gpus: int | None = executors.GPUS_OPTION, cpus: int | None = executors.CPUS_OPTION,
    mem_gb: float | None = executors.MEM_OPTION,
) -> None:
    """Train the spec's model, score it beside the baselines, and record the run."""
    from dlworkflow import api

    executors.check_executor(executor)
    if executor == "slurm":
        slurm = {"partition": partition, "time": time, "gpus": gpus, "cpus": cpus, "mem_gb": mem_gb}
        return executors.submit_and_report(spec, overrides, registry, wait=wait, slurm=slurm)
    result = api.run(spec, overrides=overrides, registry=registry, quiet=quiet, console=err)
    render_run(out, result.record)
    for warning in result.warnings:
        err.print(styled(("warning:", "yellow"), f" {warning}"))


@app.command("runs")
def list_runs(
    test_set: str | None = typer.Option(None, "--test-set", help="Only runs on this test set."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Show the best N runs of each leaderboard."),
    show_all: bool = typer.Option(False, "--all", help="Show every run (overrides --limit)."),
    registry: str | None = REGISTRY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The results table: one leaderboard per test set, best first."""
    from dlworkflow import api

    api.recover(registry=registry)  # a run whose process was killed shows as interrupted
    boards = api.leaderboards(test_set=test_set, limit=None if show_all else limit, registry=registry)
    executors.print_live_jobs(registry, to_stderr=as_json)
    unrecorded = api.unrecorded_runs(registry=registry)  # finished, kept, but not in the registry yet
    if unrecorded:
        (err if as_json else out).print(styled(
            (f"{len(unrecorded)} trained run(s) not yet recorded:", "yellow"),
            f" {', '.join(unrecorded)} (their folders are kept); record them with `dlw recover`",
        ), soft_wrap=True)
    if as_json:
        rows = [asdict(row) for board in boards for row in board.runs]
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    if not boards:
        if not unrecorded:
            out.print("No runs yet. Start one with: dlw run SPEC")
        return
    screen_rows = shutil.get_terminal_size().lines
    for board in boards:
        if len(board.runs) > screen_rows:  # longer than a screen: plain lines, streamed (Rich lays out all first)
            write_plain_leaderboard(sys.stdout, board)
        else:
            out.print(FoldingTable(leaderboard_table(board)))
        if board.hidden:
            more = f"… and {format_number(board.hidden)} more runs on this test set by {board.metric or 'metric'} (--all, or --limit N)"
            out.print(styled((more, "dim")))


@app.command()
def show(
    run_id: str = typer.Argument(..., metavar="RUN", help="Run id or a unique prefix of it."),
    registry: str | None = REGISTRY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """One run's full record."""
    from dlworkflow import api

    shown = api.show(run_id, registry=registry)
    if as_json:
        sys.stdout.write(json.dumps(shown, indent=2, default=str) + "\n")
        return
    from dlworkflow.registry.record import RunRecord

    record = RunRecord.coerce(shown)
    if record.status == "finished":
        render_run(out, record)
    else:
        out.print(styled((record.name, "bold"), "  run ", (record.id, "cyan"), "  ", (record.status, "red"),
                          f": {record.error}"))
    git = record.git
    out.print(f"commit {git.commit or '–'}{' (dirty)' if git.dirty else ''} · spec {record.spec_file}")
    if record.artifacts.dir:
        out.print(f"artifacts {record.artifacts.dir}")
    executors.print_run_job(record.id, registry)
    for number, item in enumerate(record.comments, start=1):
        out.print(f"comment {number} ({item.created_at}): {item.text}")


@app.command()
def summary(
    spec: str = SPEC_ARGUMENT,
    overrides: list[str] = SET_OPTION,
) -> None:
    """Each layer's output shape and parameter count with its formula. No training."""
    from dlworkflow import api

    report = api.summary(spec, overrides=overrides)
    parameters = report.parameters
    table = Table(title=f"{report.spec.name} ({report.backend} backend)", title_justify="left")
    for column in ("layer", "type", "output shape", "parameters", "how they are counted"):
        table.add_column(column, justify="right" if column == "parameters" else "left",
                         no_wrap=column in ("output shape", "parameters"))
    for layer in parameters.layers:
        explanation = styled(layer.formula, "\n", (layer.note, "dim")) if layer.note else layer.formula
        table.add_row(layer.name, layer.type, str(layer.output_shape), format_number(layer.total), explanation)
    out.print(FoldingTable(table))
    rows = format_number(report.sizes["train"]) if report.sizes else "not loaded (model.input_shape given)"
    out.print(
        f"Total parameters: {format_number(parameters.total)} (trainable {format_number(parameters.trainable)}, "
        f"non-trainable {format_number(parameters.non_trainable)}) · training rows: {rows}"
    )
    if report.warning:
        err.print(styled(("warning:", "yellow"), f" {report.warning}"))


@app.command()
def inspect(spec: str = SPEC_ARGUMENT, overrides: list[str] = SET_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Each column's type, gaps, values and encoding, the target per split, and warnings. No training."""
    from dlworkflow import api

    found = api.inspect(spec, overrides=overrides)
    if as_json:
        sys.stdout.write(json.dumps(found.to_dict(), indent=2, default=str) + "\n")
        return
    shape = f", images {found.image_shape}" if found.image_shape else ""
    inputs = f" → {format_number(found.inputs)} network inputs" if found.inputs is not None else ""
    title = f"{found.name}: {found.dataset}, {format_number(found.rows)} rows{shape}{inputs}"
    if found.columns:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("column", "type", "missing", "distinct", "values", "encoding"):
            table.add_column(column, justify="right" if column in ("missing", "distinct") else "left")
        for column in found.columns:
            name = column.name if column.role == "feature" else styled(column.name, (f" ({column.role})", "dim"))
            kind = column.type if column.inferred else f"{column.type} (spec)"
            missing = f"{column.missing_share:.1%}" if column.missing else "0"
            table.add_row(name, kind, missing, format_number(column.distinct), column.values, column.encoding)
        out.print(FoldingTable(table))
        title = f"target {found.target} ({found.task or 'not prepared'}) per part"
    parts = Table(title=title, title_justify="left")
    names = found.class_names or ("mean", "std", "min", "max")
    for column in ("part", "rows", *names):
        parts.add_column(column, justify="left" if column == "part" else "right")
    for part in found.parts:
        values = ([f"{format_number(count)} ({count / max(part.rows, 1):.0%})" for count in part.counts]
                  if part.counts is not None else [format_number(value) for value in
                                                   (part.mean, part.std, part.minimum, part.maximum)])
        parts.add_row(part.part, format_number(part.rows), *values)
    if found.parts:
        out.print(FoldingTable(parts))
    for warning in found.warnings:
        err.print(styled(("warning:", "yellow"), f" {warning}"), soft_wrap=True)
    if found.problem:
        err.print(styled(("dlw run would stop:", "bold red"), f" {found.problem}"), soft_wrap=True)


@app.command()
def comment(
    run_id: str = typer.Argument(..., metavar="RUN", help="Run id or a unique prefix of it."),
    text: str | None = typer.Argument(None, help="The comment (with --edit N: its new text)."),
    edit: int | None = typer.Option(None, "--edit", metavar="N", min=1,
                                       help="Replace comment N (numbered as dlw show lists them)."),
    delete: int | None = typer.Option(None, "--delete", metavar="N", min=1, help="Delete comment N."),
    registry: str | None = REGISTRY_OPTION,
) -> None:
    """Add a comment to a run (the COMMENTS column of the results table), or correct or delete one."""
    from dlworkflow import api

    record = api.comment(run_id, text, edit=edit, delete=delete, registry=registry)
    done = "deleted from" if delete else "changed on" if edit else "added to"
    out.print(f"Comment {done} run {record['id']} ({len(record['comments'])} in all).")


@app.command()
def tune(
    spec: str = SPEC_ARGUMENT,
    overrides: list[str] = SET_OPTION,
    registry: str | None = REGISTRY_OPTION,
    storage: str | None = typer.Option(
        None, "--storage", help="Optuna storage shared by workers: a database URL, or journal:///path/study.log "
        "(a file on a shared folder, no server) [default: studies.db beside the registry]."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes on this machine (SLURM: array tasks)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars; print only the result."),
    executor: str = executors.EXECUTOR_OPTION, wait: bool = executors.WAIT_OPTION,
    partition: str | None = executors.PARTITION_OPTION, time: str | None = executors.TIME_OPTION,
    gpus: int | None = executors.GPUS_OPTION, cpus: int | None = executors.CPUS_OPTION,
    mem_gb: float | None = executors.MEM_OPTION,
) -> None:
    """Tune the [tune] parameters with Optuna: trials scored on validation, the best trained once more on test."""
    from dlworkflow import api

    executors.check_executor(executor)
    if executor == "slurm":
        slurm = {"partition": partition, "time": time, "gpus": gpus, "cpus": cpus, "mem_gb": mem_gb}
        return executors.submit_and_report(spec, overrides, registry, wait=wait, slurm=slurm, tune=True,
                                           workers=workers, storage=storage)

    result = api.tune(spec, overrides=overrides, registry=registry, storage=storage, workers=workers,
                      quiet=quiet or workers > 1, console=err)
    trials = result.trials
    table = Table(title=f"study {result.study} ({len(trials)} trials, {result.storage})", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for column in trials.columns:
        table.add_column(str(column), no_wrap=column in ("trial", "run_id"), overflow="fold")
    for row in trials.itertuples(index=False):
        table.add_row(*(format_number(value) if isinstance(value, float) else str(value) for value in row))
    out.print(FoldingTable(table))
    best = ", ".join(f"{path} = {value!r}" for path, value in result.best_params.items())
    out.print(f"best on validation: {best} ({format_number(result.best_value)})")
    out.print("final run, trained once more and evaluated on the test set once:")
    if result.final_run is None:
        out.print("(the study's best trial is unchanged: its final run, recorded before, is shown; no new test look)")
    render_run(out, result.final)
    out.print(f"study table and plots: {', '.join(result.files)} in {result.folder}")
    for note in result.notes:
        err.print(styled(("note:", "yellow"), f" {note}"))


@app.command()
def resume(
    run_id: str = typer.Argument(..., metavar="RUN", help="The interrupted run (id or unique prefix)."),
    registry: str | None = REGISTRY_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar; print only the result."),
) -> None:
    """Go on with an interrupted run from its last checkpoint and finish it as a normal run."""
    from dlworkflow import api

    result = api.resume(run_id, registry=registry, quiet=quiet, console=err)
    render_run(out, result.record)


@app.command()
def compare(
    run_ids: list[str] = typer.Argument(..., metavar="RUN RUN...", help="Runs evaluated on the same test set."),
    registry: str | None = REGISTRY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Runs of one test set side by side: test metrics beside baselines, best first."""
    from dlworkflow import api

    comparison = api.compare(run_ids, registry=registry)
    if as_json:
        sys.stdout.write(json.dumps(asdict(comparison), indent=2, default=str) + "\n")
        return
    table = Table(
        title=f"test set {comparison.test_set_name} · ranked by {comparison.metric}",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )
    # epochs run, and the epoch whose weights were scored (the best when restored, else the last);
    # baselines are ranked among the runs, in grey
    for column in ["ID", "MODEL NAME", *comparison.metrics, "skill", "epochs", "weights of"]:
        numeric = column in comparison.metrics or column in ("skill", "epochs")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric)
    for row in comparison.rows:
        values = [format_number(row["test"].get(name)) if row["status"] == "finished" else row["status"]
                  for name in comparison.metrics]
        cells = [row["id"] or "baseline", row["name"], *values, format_number(row["skill"], BRIEF_DIGITS),
                 format_number(row["epochs_run"]), _evaluated_weights(row)]
        table.add_row(*cells, style="dim" if row["kind"] == "baseline" else None)
    out.print(FoldingTable(table))
    if comparison.curves:
        out.print(f"loss curves overlaid: {comparison.curves}")


def _evaluated_weights(row: dict[str, Any]) -> str:
    """Which epoch's weights a compared run was scored with: "epoch 19 (best)", "epoch 29 (last)"."""
    epoch, best, last = row.get("evaluated_epoch"), row.get("best_epoch"), row.get("epochs_run")
    if epoch is None:
        return "–"
    which = "best" if epoch == best else "last" if epoch == last else None
    return f"epoch {epoch}" + (f" ({which})" if which else "")


@app.command()
def report(
    run_id: str = typer.Argument(..., metavar="RUN", help="Run id or a unique prefix of it."),
    output: Path | None = typer.Option(None, "--output", "-o", help="The HTML file [default: report.html in the run folder]."),
    open_it: bool = typer.Option(False, "--open", help="Open the page in the web browser."),
    registry: str | None = REGISTRY_OPTION,
) -> None:
    """One self-contained HTML page of a run: plots, metrics beside baselines, diagnosis, provenance."""
    from dlworkflow import api

    path = api.report(run_id, output=output, registry=registry)

    out.print(Text(f"report: {path}"), soft_wrap=True)
    if open_it:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())


@app.command()
def tensorboard(
    run_ids: list[str] = typer.Argument(None, metavar="[RUN]...", help="Runs to show (default: every run with logs)."),
    port: int = typer.Option(6006, "--port", help="Port on 127.0.0.1."),
    registry: str | None = REGISTRY_OPTION,
) -> None:
    """Start TensorBoard on 127.0.0.1 over the logs of runs trained with [train] tensorboard = true."""
    import signal
    import subprocess
    import threading

    from dlworkflow import api

    logs = api.tensorboard_logs(run_ids or (), registry=registry)
    spec = ",".join(f"{label.replace(' ', '_').replace(':', '_')}:{folder}" for label, folder in logs.items())
    command = [sys.executable, "-m", "tensorboard.main", "--logdir_spec", spec, "--host", "127.0.0.1",
               "--port", str(port)]
    err.print(f"TensorBoard over {len(logs)} run(s) at http://127.0.0.1:{port}/ (Ctrl-C stops it)")
    server = subprocess.Popen(command)
    # TensorBoard stops with dlw: SIGTERM and SIGHUP are passed on (Ctrl-C reaches both already).
    forwarded = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {number: signal.signal(number, lambda number, _: server.send_signal(number))
                for number in forwarded} if in_main_thread else {}
    try:
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if server.poll() is None:
            server.terminate()
        server.wait()
    raise typer.Exit(128 - code if code < 0 else code)  # killed by signal N: 128 + N, as a shell says


@app.command()
def export(
    run_id: str = typer.Argument(..., metavar="RUN", help="Run id or a unique prefix of it."),
    directory: str = typer.Argument(..., metavar="DIR", help="The bundle folder: new or empty."),
    force: bool = typer.Option(False, "--force", help="Replace an earlier bundle in DIR (only the files its "
                               "bundle.json lists; anything else in DIR refuses)."),
    registry: str | None = REGISTRY_OPTION,
    model_format: str = typer.Option("keras", "--format", help="keras, onnx (model.onnx: dlw predict runs it "
                                     "with onnxruntime, no Keras; needs pip install \"dlworkflow[onnx]\") or "
                                     "savedmodel (a TensorFlow SavedModel folder, for TensorFlow Serving)."),
) -> None:
    """Write a self-contained bundle of a run: model, preprocessing, model card, spec, sha256 manifest."""
    from dlworkflow import api

    folder = api.export(run_id, directory, force=force, registry=registry, model_format=model_format)
    files = sorted(path.name for path in folder.iterdir())
    out.print(f"Bundle written to {folder}: {', '.join(files)}", soft_wrap=True)
    out.print(f"Predict with: dlw predict {folder} --input rows.csv --output predictions.csv", soft_wrap=True)


@app.command()
def predict(
    source: str = typer.Argument(..., metavar="RUN|DIR", help="A bundle folder (dlw export) or a run id."),
    input_path: str = typer.Option(
        ..., "--input", "-i", help="CSV file of rows (table models), or an image file or folder (image models)."
    ),
    output: str | None = typer.Option(None, "--output", "-o", help="Write the predictions to this CSV file "
                                         "[default: print them as CSV]."),
    ignore_extra: bool = typer.Option(False, "--ignore-extra", help="Ignore input columns the model does not know."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --output file (never the input)."),
    registry: str | None = REGISTRY_OPTION,
) -> None:
    """Predict new rows or images with a run's model, applying its saved preprocessing."""
    import warnings

    from dlworkflow import api
    from dlworkflow.workflow_warning import WorkflowWarning

    with warnings.catch_warnings(record=True) as caught:  # a look at a test set, said on stderr
        warnings.simplefilter("always", WorkflowWarning)
        frame = api.predict(source, input_path, output, registry=registry, ignore_extra=ignore_extra, force=force)
    for note in caught:
        err.print(styled(("note:", "yellow"), f" {note.message}"), soft_wrap=True)
    if output is None:
        rows = frame.to_csv(index=False)  # labels a terminal would act on are escaped there, not in a pipe
        sys.stdout.write(printable(rows, newlines=True) if sys.stdout.isatty() else rows)
        return
    err.print(f"{len(frame)} predictions written to {output}", soft_wrap=True)


@app.command()
def recover(registry: str | None = REGISTRY_OPTION) -> None:
    """Record the runs the registry lacks: finished but not recorded, killed mid-training, or from a lost registry."""
    from dlworkflow import api

    recorded = api.recover(registry=registry, orphans=True)
    if recorded:
        out.print(f"{len(recorded)} run(s) recorded: {', '.join(recorded)}. See them with `dlw runs`.", soft_wrap=True)
    else:
        out.print("Nothing to recover: the registry holds every run folder that has a record.", soft_wrap=True)
    pending = api.unrecorded_runs(registry=registry)
    if pending:
        err.print(styled(("note:", "yellow"), f" {', '.join(pending)}: still being recorded by the process that "
                          "trained them; run `dlw recover` again if that process is gone"), soft_wrap=True)


@app.command()
def info(
    devices: bool = typer.Option(False, "--devices", help="Ask every installed backend for its devices (imports TensorFlow: slower)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The Keras backends installed, the default one for a dense model, and the devices a run would train on."""
    from dlworkflow.reporting.info_text import render_info
    from dlworkflow.training.devices import backend_report

    report = backend_report(every_backend=devices)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    render_info(out, report)
