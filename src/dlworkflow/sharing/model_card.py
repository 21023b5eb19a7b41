"""The model card of a run: what a receiver of the model needs to know, as Markdown.

:func:`model_card` turns a run record (``dlw show --json``) and the run's saved
preprocessing into one Markdown page with these sections: intended use, model, data and
split, preprocessing, metrics beside the baselines (every part, the headline metric and the
best baseline with its skill), test-set looks, diagnosis, limitations, provenance (git
commit and dirty flag, backend, package versions). It is written into every run folder and
into every exported bundle (``model_card.md``).

Everything a user wrote (name, description, column and class names, dataset and test-set
names, comments) goes in as text: ``&``, ``<`` and ``>`` become HTML entities and the other
characters Markdown reads as syntax are backslash-escaped (:func:`escape_markdown`), or the
text is put in a code span (:func:`code`); line breaks become spaces. Numbers are shown
as every dlworkflow output shows them (:mod:`dlworkflow.formatting`): ``3.877``, ``14,101``.

Pure: reads nothing, imports nothing heavy.

Example:
    >>> from dlworkflow.registry.record import RunRecord
    >>> card = model_card(RunRecord(id="20250101-120000-3f2a9c", name="weather"))
    >>> card.splitlines()[0]
    '# Model card: weather'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dlworkflow.evaluation.comparison import compare_to_baselines, selection_part
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.formatting import BRIEF_DIGITS, SIGNIFICANT_DIGITS, format_number

if TYPE_CHECKING:
    from dlworkflow.data.preprocessing import Preprocessing
    from dlworkflow.registry.record import RunRecord

PARTS = ("train", "validation", "test")
"""The data parts, in report order."""

MAX_FEATURES_LISTED = 100
"""At most this many feature names are listed."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\t\v\f]+[ \t]*")


def escape_markdown(text: Any) -> str:
    """User text as Markdown text that renders literally, on one line.

    ``&``, ``<`` and ``>`` become HTML entities (so ``<script>`` shows as text); the
    characters Markdown reads as syntax inside a line (``\\ ` * _ [ ] | ~``) get a
    backslash; line breaks and tabs become single spaces, so the text never starts a line
    (where ``#``, ``-`` or ``1.`` would be read as a heading or a list).

    Args:
        text: Any value; ``str()`` of it is escaped. None gives an empty string.

    Returns:
        The escaped text.

    Example:
        >>> escape_markdown("<b>*very*</b> | new\\nline")
        '&lt;b&gt;\\\\*very\\\\*&lt;/b&gt; \\\\| new line'
    """
    if text is None:
        return ""
    value = _LINE_BREAKS.sub(" ", str(text))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)


def code(text: Any) -> str:
    """User text as an inline code span that renders literally (names of columns, files, commits).

    The fence is one backtick longer than the longest run of backticks inside, padded with
    spaces where the text starts or ends with a backtick; line breaks become spaces. Use
    :func:`escape_markdown` instead inside a table (a ``|`` ends a table cell even in code).

    Args:
        text: Any value; ``str()`` of it.

    Returns:
        The code span.

    Example:
        >>> code("BASEL_sunshine")
        '`BASEL_sunshine`'
        >>> code("a`b")
        '``a`b``'
    """
    value = _LINE_BREAKS.sub(" ", str(text))
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return f"{fence}{padding}{value}{padding}{fence}"


def number(value: Any, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A value for a card as every dlworkflow output prints it (:func:`dlworkflow.formatting.format_number`).

    4 significant digits, thousands separated, large floats rounded to whole numbers,
    ``–`` when absent; a value that is not a number is Markdown-escaped.

    Args:
        value: A number, None, or text.
        digits: Significant digits of a float.

    Returns:
        The formatted number, safe in Markdown.

    Example:
        >>> number(3.877323350410224), number(14101), number(12345.6), number(None)
        ('3.877', '14,101', '12,346', '–')
        >>> print(number("a_b"))
        a\\_b
    """
    return escape_markdown(format_number(value, digits))


def model_card(
    record: RunRecord | Mapping[str, Any], preprocessing: Preprocessing | Mapping[str, Any] | None = None
) -> str:
    """Write the model card of a run as Markdown.

    Args:
        record: The run's record (:attr:`dlworkflow.api.Run.record`), or a dict in its JSON
            shape (``dlw show --json``, :meth:`~dlworkflow.registry.record.RunRecord.to_dict`).
            A record not yet stored (``test_set.looks`` None) says its look is counted when
            the run is recorded.
        preprocessing: The run's saved preprocessing (``Dataset.preprocessing``, or the
            ``preprocessing.json`` dict); without it the preprocessing section is built from
            the record's spec and data sections alone.

    Returns:
        The card, ending with a newline.

    Raises:
        RegistryError: when ``record`` is a dict without ``id`` and ``name``.

    Example:
        >>> from dlworkflow.registry.record import RunRecord
        >>> record = RunRecord(id="r1", name="weather", status="failed", error="loss became NaN")
        >>> "No metrics: the run did not finish." in model_card(record)
        True
        >>> run = dlworkflow.run("examples/weather.toml", train__epochs=2)  # doctest: +SKIP
        >>> "## Metrics beside the baselines" in model_card(run.record, run.dataset.preprocessing)  # doctest: +SKIP
        True
    """
    from dlworkflow.registry.record import RunRecord

    run = RunRecord.coerce(record)
    saved = _saved(preprocessing)
    sections = [
        _title(run),
        _intended_use(run, saved),
        _model(run),
        _data(run),
        _preprocessing(run, saved),
        _metrics(run),
        _looks(run),
        _diagnosis(run),
        _limitations(run, saved),
        _comments(run),
        _provenance(run),
    ]
    return "\n\n".join(section for section in sections if section).rstrip() + "\n"


# ---------------------------------------------------------------------------- sections


def _spec(record: RunRecord, section: str) -> Mapping[str, Any]:
    """A section of the record's resolved spec (a plain dict), empty when absent."""
    return (record.spec or {}).get(section) or {}


def _title(record: RunRecord) -> str:
    lines = [f"# Model card: {escape_markdown(record.name or 'unnamed model')}", ""]
    when = record.finished_at or record.created_at
    facts = [f"Run {code(record.id)}", f"status {escape_markdown(record.status)}"]
    if when:
        facts.append(f"trained {escape_markdown(when)}")
    version = record.versions.get("dlworkflow")
    if version:
        facts.append(f"dlworkflow {escape_markdown(version)}")
    lines.append(" · ".join(facts))
    return "\n".join(lines)


def _saved(preprocessing: Preprocessing | Mapping[str, Any] | None) -> Preprocessing | None:
    """The typed preprocessing, or None when none (or an empty dict) is given."""
    if not preprocessing:
        return None
    from dlworkflow.data.preprocessing import as_preprocessing

    return as_preprocessing(preprocessing)


def _task_sentence(record: RunRecord, saved: Preprocessing | None) -> str:
    from dlworkflow.data.preprocessing import ImagePreprocessing, TablePreprocessing

    data = record.data
    table = saved if isinstance(saved, TablePreprocessing) else None
    source = escape_markdown(data.name or "the training data")
    saved_classes = saved.class_names if saved is not None else None
    if isinstance(saved, ImagePreprocessing):
        image = saved.image
        classes = data.class_names or saved_classes or []
        return (
            f"An image classifier: it assigns each image ({image.height}×{image.width} pixels, "
            f"{image.channels} channels after resizing) one of {len(classes)} classes "
            f"({', '.join(escape_markdown(name) for name in classes)}), trained on images of {source}."
        )
    task = data.task or (table.task if table else None)
    features = data.features or (table.feature_names if table else None) or []
    shift = int(_spec(record, "data").get("shift") or (table.shift if table else 0) or 0)
    target = code(data.target or (table.target if table else None))
    when = f" {_rows_away(shift)} (data.shift = {shift})" if shift else ""
    if task == "classification":
        classes = data.class_names or saved_classes or []
        what = (f"A classifier: it predicts the class of {target}{when} — one of "
                f"{', '.join(escape_markdown(name) for name in classes)} — with a probability per class")
    else:
        what = f"A regression model: it predicts the value of {target}{when}"
    return f"{what}, from {len(features)} numeric feature columns of a table like {source}."


def _rows_away(shift: int) -> str:
    rows = abs(shift)
    return f"{rows} row{'s' if rows != 1 else ''} {'later' if shift < 0 else 'earlier'}"


def _intended_use(record: RunRecord, saved: Preprocessing | None) -> str:
    lines = ["## Intended use", ""]
    if record.description:
        lines += [f"**Description:** {escape_markdown(record.description)}", ""]
    lines.append(_task_sentence(record, saved))
    lines += [
        "",
        (
            "Use it on new rows from the same source, place and period as its training data, prepared the same "
            "way: `dlw predict` applies the saved preprocessing. It was trained to be compared with the baselines "
            "below; check the limitations before relying on it."
        ),
    ]
    return "\n".join(lines)


def _layer_text(layer: Mapping[str, Any]) -> str:
    arguments = ", ".join(f"{key}={value!r}" for key, value in layer.items() if key != "type")
    return f"{layer.get('type')}({arguments})"


def _model(record: RunRecord) -> str:
    model, train = _spec(record, "model"), _spec(record, "train")
    params, training = record.params, record.training
    lines = ["## Model", ""]
    base = model.get("base")
    if base:
        lines.append(f"- Pretrained base: {code(base.get('application'))} (weights {code(base.get('weights'))})")
    if model.get("builder"):
        lines.append(f"- Built by {code(model.get('builder'))}")
    layers = model.get("layers") or []
    if layers:
        lines.append("- Layers: " + " → ".join(code(_layer_text(layer)) for layer in layers))
    lines.append(
        f"- Parameters: {number(params.total)} ({number(params.trainable)} trainable, "
        f"{number(params.non_trainable)} non-trainable)"
    )
    optimizer = (train.get("optimizer") or {}).get("type")
    loss = (train.get("loss") or {}).get("type")
    epochs = training.epochs_run
    trained = [f"optimizer {code(optimizer)}" if optimizer else "", f"loss {code(loss)}" if loss else "",
               f"batch size {train.get('batch_size')}" if train.get("batch_size") else "",
               f"{epochs} epochs" if epochs is not None else "",
               f"seed {record.seed}" if record.seed is not None else ""]
    lines.append("- Training: " + ", ".join(item for item in trained if item))
    evaluated = training.evaluated_epoch
    if evaluated is not None:
        early = " (early stopping)" if training.stopped_early else ""
        lines.append(f"- Weights of epoch {evaluated} evaluated and shared{early}")
    return "\n".join(lines)


def _data(record: RunRecord) -> str:
    data, split, test_set = record.data, record.split, record.test_set
    spec_data = _spec(record, "data")
    source = spec_data.get("dataset") or spec_data.get("path")
    kind = "built-in dataset" if spec_data.get("dataset") else "file or folder"
    lines = ["## Data and split", "", "| | |", "|---|---|"]
    lines.append(f"| source | {escape_markdown(data.name)} ({kind} {escape_markdown(source)}) |")
    lines.append(f"| data fingerprint (sha256) | {escape_markdown(data.fingerprint)} |")
    if data.target:
        lines.append(f"| target | {escape_markdown(data.target)} ({escape_markdown(data.task)}) |")
    sizes = " / ".join(f"{number(getattr(split, part))} {part}" for part in PARTS)
    lines.append(f"| rows | {sizes} |")
    lines.append(f"| split | {escape_markdown(split.type)}, seed {number(split.seed)} |")
    lines.append(f"| test set | {escape_markdown(test_set.name)} (fingerprint {escape_markdown(test_set.fingerprint)}) |")
    return "\n".join(lines)


def _preprocessing(record: RunRecord, saved: Preprocessing | None) -> str:
    from dlworkflow.data.preprocessing import ImagePreprocessing, TablePreprocessing

    spec_data = _spec(record, "data")
    data = record.data
    lines = ["## Preprocessing", ""]
    if isinstance(saved, ImagePreprocessing):
        image = saved.image
        lines.append(f"- Images resized to {image.height}×{image.width} pixels, {image.channels} channels (bilinear)")
        lines.append(f"- Scaling: {code(saved.scaling.method)} (pixels multiplied by {number(image.scale)})")
        origin = saved.origin
        if origin:
            lines.append(f"- Read from: {'image files' if origin == 'folder' else 'image arrays'}")
    else:
        steps = []
        if spec_data.get("drop"):
            steps.append("drop " + ", ".join(code(name) for name in spec_data["drop"]))
        if spec_data.get("shift"):
            steps.append(f"shift the target by {spec_data['shift']} (each row's target is the value "
                         f"{_rows_away(int(spec_data['shift']))})")
        if spec_data.get("rows"):
            steps.append(f"keep the first {number(spec_data['rows'])} rows")
        if spec_data.get("dropna"):
            steps.append("drop rows with missing values")
        if spec_data.get("select"):
            steps.append("select " + ", ".join(code(name) for name in spec_data["select"]))
        lines.append("- Steps, in order: " + (" → ".join(steps) if steps else "none") + " → split → scale")
        table = saved if isinstance(saved, TablePreprocessing) else None
        method = (table.scaling.method if table else None) or spec_data.get("scaling") or "none"
        fitted = {
            "standardize": " (mean and standard deviation of the training rows; a constant column keeps scale 1)",
            "minmax": " (minimum and range of the training rows)",
        }.get(method, "")
        lines.append(f"- Scaling: {code(method)}{fitted}; the statistics are in `preprocessing.json`")
        features = list((table.feature_names if table else None) or data.features or [])
        shown = ", ".join(code(name) for name in features[:MAX_FEATURES_LISTED])
        more = f", … ({len(features) - MAX_FEATURES_LISTED} more)" if len(features) > MAX_FEATURES_LISTED else ""
        lines.append(f"- Features ({len(features)}, in network order): {shown}{more}")
    classes = (saved.class_names if saved else None) or data.class_names
    if classes:
        encoding = (saved.target_encoding if saved else None) or spec_data.get("target_encoding")
        lines.append(f"- Classes ({len(classes)}, in output order): "
                     + ", ".join(code(name) for name in classes) + f"; target encoding {code(encoding)}")
    return "\n".join(lines)


def _metric_names(record: RunRecord) -> list[str]:
    test = record.metrics.get("test") or {}
    names = []
    for parts in record.baselines.values():
        for values in parts.values():
            names += [name for name in values if name in METRIC_DIRECTIONS and name in test and name not in names]
    primary = record.primary.metric
    if primary in names:
        names.remove(primary)
        names.insert(0, primary)
    return names


def _metrics(record: RunRecord) -> str:
    metrics, baselines, primary = record.metrics, record.baselines, record.primary
    lines = ["## Metrics beside the baselines", ""]
    if not metrics.get("test"):
        lines.append("No metrics: the run did not finish.")
        return "\n".join(lines)
    if primary.metric:
        verdict = ""
        if primary.skill is not None:
            verdict = " — better than the baseline" if primary.skill > 0 else " — **no better than the baseline**"
        lines.append(
            f"Headline: test {code(primary.metric)} **{number(primary.value)}** against "
            f"{number(primary.baseline_value)} for the best baseline, "
            f"{escape_markdown(primary.baseline or 'none')} (skill {number(primary.skill, BRIEF_DIGITS)}){verdict}."
        )
        lines.append("")
    names = _metric_names(record)
    if baselines and names:
        chosen = selection_part(baselines)
        lines.append(f"The best baseline of each metric is chosen on {chosen}, never on test. "
                     "Skill: 1 is perfect, 0 no better than the baseline, below 0 worse.")
        lines += ["", "| metric | part | model | best baseline | baseline value | skill |",
                  "|---|---|---:|---|---:|---:|"]
        for name in names:
            comparison = compare_to_baselines(metrics, baselines, name)
            label = f"**{name}**" if name == primary.metric else name
            for part in PARTS:
                entry = comparison.get(part)
                if entry is None:
                    continue
                baseline = escape_markdown(entry.get("baseline") or "–")
                lines.append(
                    f"| {label} | {part} | {number(entry.get('model'))} | {baseline}"
                    f" | {number(entry.get('baseline_value'))} | {number(entry.get('skill'), BRIEF_DIGITS)} |"
                )
        lines += ["", "Every baseline on the test set:", ""]
        lines += ["| baseline | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for baseline, parts in baselines.items():
            test = parts.get("test") or {}
            lines.append(f"| {escape_markdown(baseline)} | " + " | ".join(number(test.get(n)) for n in names) + " |")
    for name, reason in record.baselines_skipped.items():
        lines.append("")
        lines.append(f"Baseline {escape_markdown(name)} skipped: {escape_markdown(reason)}")
    accuracy = ((record.classes or {}).get("per_class_accuracy") or {}).get("test") or {}
    if accuracy:
        lines += ["", "Test accuracy per class: " + " · ".join(
            f"{escape_markdown(name)} {number(value, BRIEF_DIGITS)}" for name, value in accuracy.items())]
    return "\n".join(lines)


def _looks(record: RunRecord) -> str:
    looks, look = record.test_set.looks, record.test_set.look
    name = escape_markdown(record.test_set.name)
    lines = ["## Test-set looks", ""]
    if looks is None:
        lines.append(f"This run's look at the test set {name} is counted when the run is recorded; "
                     "`dlw show RUN` gives the current count.")
    else:
        own = f" This run's look was #{look}." if look else ""
        lines.append(f"The test set {name} has been looked at {looks} time{'s' if looks != 1 else ''} "
                     f"(by every run evaluated on it).{own}")
    lines.append("Every look at the test set that informs a choice makes its score a little more optimistic.")
    return "\n".join(lines)


def _diagnosis(record: RunRecord) -> str:
    lines = ["## Diagnosis", ""]
    if not record.diagnosis:
        lines.append("No problem found in the training curves and baselines.")
        return "\n".join(lines)
    for finding in record.diagnosis:
        kind = escape_markdown(str(finding.kind).replace("_", " "))
        lines.append(f"- **{kind}**: {escape_markdown(finding.summary)} "
                     f"Evidence: {escape_markdown(finding.evidence)}")
        for position, remedy in enumerate(finding.remedies or [], start=1):
            lines.append(f"  {position}. {escape_markdown(remedy)}")
    return "\n".join(lines)


def _limitations(record: RunRecord, saved: Preprocessing | None) -> str:
    data, split, primary = record.data, record.split, record.primary
    spec_data = _spec(record, "data")
    items = []
    source = escape_markdown(data.name or "its data")
    window = f", the first {number(spec_data['rows'])} rows" if spec_data.get("rows") else ""
    items.append(
        f"Trained on {number(split.train)} rows of {source}{window} "
        f"(fingerprint {escape_markdown(str(data.fingerprint or '')[:12])}): rows from another place, "
        "period or population than these were never seen, and predictions for them are untested."
    )
    if primary.skill is not None and primary.skill <= 0:
        items.append(
            f"No better than the baseline: on the test set its {code(primary.metric)} "
            f"({number(primary.value)}) does not beat {escape_markdown(primary.baseline)} "
            f"({number(primary.baseline_value)}). The baseline is the simpler choice."
        )
    if not split.validation:
        items.append("No validation set: nothing but the test set shows how it does on unseen rows.")
    if split.test is not None and split.test < 100:
        items.append(f"A small test set ({number(split.test)} rows): its metrics are uncertain.")
    looks = record.test_set.looks
    if looks is not None and looks > 1:
        items.append(f"The test set has been looked at {looks} times, so its score is optimistic.")
    if spec_data.get("shift"):
        items.append(
            f"It predicts the target {_rows_away(int(spec_data['shift']))} than each input row: a row must be "
            "one time step of the same series, at the same step length, as in training."
        )
    if data.class_names or (saved.class_names if saved else None):
        items.append("It always answers with one of its classes, even for an input of none of them.")
    if spec_data.get("scaling", "none") == "none" and not (saved and saved.is_images):
        items.append("The features are not scaled, so columns with large values dominate the first layer.")
    if any(finding.kind == "overfitting" for finding in record.diagnosis):
        items.append("The diagnosis found overfitting: the training metrics overstate how it does on new rows.")
    return "\n".join(["## Limitations", "", *(f"- {item}" for item in items)])


def _comments(record: RunRecord) -> str:
    if not record.comments:
        return ""
    lines = ["## Comments", ""]
    lines += [f"- {escape_markdown(note.created_at)}: {escape_markdown(note.text)}" for note in record.comments]
    return "\n".join(lines)


def _provenance(record: RunRecord) -> str:
    commit, dirty = record.git.commit, record.git.dirty
    lines = ["## Provenance", ""]
    if commit:
        state = " with uncommitted changes (dirty)" if dirty else (" (clean)" if dirty is False else "")
        lines.append(f"- Git commit {code(commit)}{state}")
    else:
        lines.append("- Git commit: none (not run in a git repository)" + (" (dirty)" if dirty else ""))
    if record.spec_file:
        lines.append(f"- Spec file: {code(record.spec_file)}; spec hash {code(record.spec_hash)}")
    if record.backend:
        lines.append(f"- Keras backend: {code(record.backend)}")
    if record.versions:
        lines += ["", "| package | version |", "|---|---|"]
        lines += [f"| {escape_markdown(name)} | {escape_markdown(value)} |" for name, value in record.versions.items()]
    return "\n".join(lines)
