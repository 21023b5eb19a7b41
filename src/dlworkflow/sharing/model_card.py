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
    >>> card = model_card(record, preprocessing)  # doctest: +SKIP
    >>> card.splitlines()[0]  # doctest: +SKIP
    '# Model card: weather'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dlworkflow.evaluation.comparison import compare_to_baselines, selection_part
from dlworkflow.evaluation.metric_directions import METRIC_DIRECTIONS
from dlworkflow.formatting import BRIEF_DIGITS, SIGNIFICANT_DIGITS, format_number

if TYPE_CHECKING:
    from dlworkflow.data.preprocessing import Preprocessing

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


def model_card(record: Mapping[str, Any], preprocessing: Preprocessing | Mapping[str, Any] | None = None) -> str:
    """Write the model card of a run as Markdown.

    Args:
        record: The run's record (:attr:`dlworkflow.api.Run.record`, ``dlw show --json``, or
            the dict the runner stores). A record not yet stored (``test_set.looks`` None)
            says its look is counted when the run is recorded.
        preprocessing: The run's saved preprocessing (``Dataset.preprocessing``, or the
            ``preprocessing.json`` dict); without it the preprocessing section is built from
            the record's spec and data sections alone.

    Returns:
        The card, ending with a newline.

    Example:
        >>> run = dlworkflow.run("examples/weather.toml", train__epochs=2)  # doctest: +SKIP
        >>> "## Metrics beside the baselines" in model_card(run.record, run.dataset.preprocessing)  # doctest: +SKIP
        True
    """
    saved = _saved(preprocessing)
    sections = [
        _title(record),
        _intended_use(record, saved),
        _model(record),
        _data(record),
        _preprocessing(record, saved),
        _metrics(record),
        _looks(record),
        _diagnosis(record),
        _limitations(record, saved),
        _comments(record),
        _provenance(record),
    ]
    return "\n\n".join(section for section in sections if section).rstrip() + "\n"


# ---------------------------------------------------------------------------- sections


def _spec(record: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    return (record.get("spec") or {}).get(section) or {}


def _title(record: Mapping[str, Any]) -> str:
    lines = [f"# Model card: {escape_markdown(record.get('name') or 'unnamed model')}", ""]
    when = record.get("finished_at") or record.get("created_at")
    facts = [f"Run {code(record.get('id'))}", f"status {escape_markdown(record.get('status'))}"]
    if when:
        facts.append(f"trained {escape_markdown(when)}")
    version = (record.get("versions") or {}).get("dlworkflow")
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


def _task_sentence(record: Mapping[str, Any], saved: Preprocessing | None) -> str:
    from dlworkflow.data.preprocessing import ImagePreprocessing, TablePreprocessing

    data = record.get("data") or {}
    table = saved if isinstance(saved, TablePreprocessing) else None
    source = escape_markdown(data.get("name") or "the training data")
    saved_classes = saved.class_names if saved is not None else None
    if isinstance(saved, ImagePreprocessing):
        image = saved.image
        classes = data.get("class_names") or saved_classes or []
        return (
            f"An image classifier: it assigns each image ({image.height}×{image.width} pixels, "
            f"{image.channels} channels after resizing) one of {len(classes)} classes "
            f"({', '.join(escape_markdown(name) for name in classes)}), trained on images of {source}."
        )
    task = data.get("task") or (table.task if table else None)
    features = data.get("features") or (table.feature_names if table else None) or []
    shift = int(_spec(record, "data").get("shift") or (table.shift if table else 0) or 0)
    target = code(data.get("target") or (table.target if table else None))
    when = f" {_rows_away(shift)} (data.shift = {shift})" if shift else ""
    if task == "classification":
        classes = data.get("class_names") or saved_classes or []
        what = (f"A classifier: it predicts the class of {target}{when} — one of "
                f"{', '.join(escape_markdown(name) for name in classes)} — with a probability per class")
    else:
        what = f"A regression model: it predicts the value of {target}{when}"
    return f"{what}, from {len(features)} numeric feature columns of a table like {source}."


def _rows_away(shift: int) -> str:
    rows = abs(shift)
    return f"{rows} row{'s' if rows != 1 else ''} {'later' if shift < 0 else 'earlier'}"


def _intended_use(record: Mapping[str, Any], saved: Preprocessing | None) -> str:
    lines = ["## Intended use", ""]
    description = record.get("description")
    if description:
        lines += [f"**Description:** {escape_markdown(description)}", ""]
    lines.append(_task_sentence(record, saved))
    lines += [
        "",
        "Use it on new rows from the same source, place and period as its training data, prepared the same "
        "way: `dlw predict` applies the saved preprocessing. It was trained to be compared with the baselines "
        "below; check the limitations before relying on it.",
    ]
    return "\n".join(lines)


def _layer_text(layer: Mapping[str, Any]) -> str:
    arguments = ", ".join(f"{key}={value!r}" for key, value in layer.items() if key != "type")
    return f"{layer.get('type')}({arguments})"


def _model(record: Mapping[str, Any]) -> str:
    model, train = _spec(record, "model"), _spec(record, "train")
    params = record.get("params") or {}
    training = record.get("training") or {}
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
        f"- Parameters: {number(params.get('total'))} ({number(params.get('trainable'))} trainable, "
        f"{number(params.get('non_trainable'))} non-trainable)"
    )
    optimizer = (train.get("optimizer") or {}).get("type")
    loss = (train.get("loss") or {}).get("type")
    epochs = training.get("epochs_run")
    trained = [f"optimizer {code(optimizer)}" if optimizer else "", f"loss {code(loss)}" if loss else "",
               f"batch size {train.get('batch_size')}" if train.get("batch_size") else "",
               f"{epochs} epochs" if epochs is not None else "",
               f"seed {record.get('seed')}" if record.get("seed") is not None else ""]
    lines.append("- Training: " + ", ".join(item for item in trained if item))
    evaluated = training.get("evaluated_epoch")
    if evaluated is not None:
        early = " (early stopping)" if training.get("stopped_early") else ""
        lines.append(f"- Weights of epoch {evaluated} evaluated and shared{early}")
    return "\n".join(lines)


def _data(record: Mapping[str, Any]) -> str:
    data, split, test_set = record.get("data") or {}, record.get("split") or {}, record.get("test_set") or {}
    spec_data = _spec(record, "data")
    source = spec_data.get("dataset") or spec_data.get("path")
    kind = "built-in dataset" if spec_data.get("dataset") else "file or folder"
    lines = ["## Data and split", "", "| | |", "|---|---|"]
    lines.append(f"| source | {escape_markdown(data.get('name'))} ({kind} {escape_markdown(source)}) |")
    lines.append(f"| data fingerprint (sha256) | {escape_markdown(data.get('fingerprint'))} |")
    if data.get("target"):
        lines.append(f"| target | {escape_markdown(data.get('target'))} ({escape_markdown(data.get('task'))}) |")
    sizes = " / ".join(f"{number(split.get(part))} {part}" for part in PARTS)
    lines.append(f"| rows | {sizes} |")
    lines.append(f"| split | {escape_markdown(split.get('type'))}, seed {number(split.get('seed'))} |")
    fingerprint = escape_markdown(test_set.get("fingerprint"))
    lines.append(f"| test set | {escape_markdown(test_set.get('name'))} (fingerprint {fingerprint}) |")
    return "\n".join(lines)


def _preprocessing(record: Mapping[str, Any], saved: Preprocessing | None) -> str:
    from dlworkflow.data.preprocessing import ImagePreprocessing, TablePreprocessing

    spec_data = _spec(record, "data")
    data = record.get("data") or {}
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
        features = list((table.feature_names if table else None) or data.get("features") or [])
        shown = ", ".join(code(name) for name in features[:MAX_FEATURES_LISTED])
        more = f", … ({len(features) - MAX_FEATURES_LISTED} more)" if len(features) > MAX_FEATURES_LISTED else ""
        lines.append(f"- Features ({len(features)}, in network order): {shown}{more}")
    classes = (saved.class_names if saved else None) or data.get("class_names")
    if classes:
        encoding = (saved.target_encoding if saved else None) or spec_data.get("target_encoding")
        lines.append(f"- Classes ({len(classes)}, in output order): "
                     + ", ".join(code(name) for name in classes) + f"; target encoding {code(encoding)}")
    return "\n".join(lines)


def _metric_names(record: Mapping[str, Any]) -> list[str]:
    baselines = record.get("baselines") or {}
    test = (record.get("metrics") or {}).get("test") or {}
    names = []
    for parts in baselines.values():
        for values in parts.values():
            names += [name for name in values if name in METRIC_DIRECTIONS and name in test and name not in names]
    primary = (record.get("primary") or {}).get("metric")
    if primary in names:
        names.remove(primary)
        names.insert(0, primary)
    return names


def _metrics(record: Mapping[str, Any]) -> str:
    metrics = record.get("metrics") or {}
    baselines = record.get("baselines") or {}
    primary = record.get("primary") or {}
    lines = ["## Metrics beside the baselines", ""]
    if not metrics.get("test"):
        lines.append("No metrics: the run did not finish.")
        return "\n".join(lines)
    if primary.get("metric"):
        verdict = ""
        skill = primary.get("skill")
        if skill is not None:
            verdict = " — better than the baseline" if skill > 0 else " — **no better than the baseline**"
        lines.append(
            f"Headline: test {code(primary.get('metric'))} **{number(primary.get('value'))}** against "
            f"{number(primary.get('baseline_value'))} for the best baseline, "
            f"{escape_markdown(primary.get('baseline') or 'none')} (skill {number(primary.get('skill'), BRIEF_DIGITS)}){verdict}."
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
            label = f"**{name}**" if name == primary.get("metric") else name
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
    skipped = record.get("baselines_skipped") or {}
    for name, reason in skipped.items():
        lines.append("")
        lines.append(f"Baseline {escape_markdown(name)} skipped: {escape_markdown(reason)}")
    classes = record.get("classes") or {}
    accuracy = (classes.get("per_class_accuracy") or {}).get("test") or {}
    if accuracy:
        lines += ["", "Test accuracy per class: " + " · ".join(
            f"{escape_markdown(name)} {number(value, BRIEF_DIGITS)}" for name, value in accuracy.items())]
    return "\n".join(lines)


def _looks(record: Mapping[str, Any]) -> str:
    test_set = record.get("test_set") or {}
    looks, look = test_set.get("looks"), test_set.get("look")
    name = escape_markdown(test_set.get("name"))
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


def _diagnosis(record: Mapping[str, Any]) -> str:
    findings = record.get("diagnosis") or []
    lines = ["## Diagnosis", ""]
    if not findings:
        lines.append("No problem found in the training curves and baselines.")
        return "\n".join(lines)
    for finding in findings:
        kind = escape_markdown(str(finding.get("kind", "")).replace("_", " "))
        lines.append(f"- **{kind}**: {escape_markdown(finding.get('summary'))} "
                     f"Evidence: {escape_markdown(finding.get('evidence'))}")
        for position, remedy in enumerate(finding.get("remedies") or [], start=1):
            lines.append(f"  {position}. {escape_markdown(remedy)}")
    return "\n".join(lines)


def _limitations(record: Mapping[str, Any], saved: Preprocessing | None) -> str:
    data, split = record.get("data") or {}, record.get("split") or {}
    spec_data = _spec(record, "data")
    primary = record.get("primary") or {}
    test_set = record.get("test_set") or {}
    items = []
    source = escape_markdown(data.get("name") or "its data")
    window = f", the first {number(spec_data['rows'])} rows" if spec_data.get("rows") else ""
    items.append(
        f"Trained on {number(split.get('train'))} rows of {source}{window} "
        f"(fingerprint {escape_markdown(str(data.get('fingerprint') or '')[:12])}): rows from another place, "
        "period or population than these were never seen, and predictions for them are untested."
    )
    skill = primary.get("skill")
    if skill is not None and skill <= 0:
        items.append(
            f"No better than the baseline: on the test set its {code(primary.get('metric'))} "
            f"({number(primary.get('value'))}) does not beat {escape_markdown(primary.get('baseline'))} "
            f"({number(primary.get('baseline_value'))}). The baseline is the simpler choice."
        )
    if not split.get("validation"):
        items.append("No validation set: nothing but the test set shows how it does on unseen rows.")
    if split.get("test") is not None and split.get("test") < 100:
        items.append(f"A small test set ({number(split.get('test'))} rows): its metrics are uncertain.")
    looks = test_set.get("looks")
    if looks is not None and looks > 1:
        items.append(f"The test set has been looked at {looks} times, so its score is optimistic.")
    if spec_data.get("shift"):
        items.append(
            f"It predicts the target {_rows_away(int(spec_data['shift']))} than each input row: a row must be "
            "one time step of the same series, at the same step length, as in training."
        )
    classes = data.get("class_names") or (saved.class_names if saved else None)
    if classes:
        items.append("It always answers with one of its classes, even for an input of none of them.")
    if spec_data.get("scaling", "none") == "none" and not (saved and saved.is_images):
        items.append("The features are not scaled, so columns with large values dominate the first layer.")
    if any(f.get("kind") == "overfitting" for f in record.get("diagnosis") or []):
        items.append("The diagnosis found overfitting: the training metrics overstate how it does on new rows.")
    return "\n".join(["## Limitations", "", *(f"- {item}" for item in items)])


def _comments(record: Mapping[str, Any]) -> str:
    notes: Sequence[Mapping[str, Any]] = record.get("comments") or []
    if not notes:
        return ""
    lines = ["## Comments", ""]
    lines += [f"- {escape_markdown(note.get('created_at'))}: {escape_markdown(note.get('text'))}" for note in notes]
    return "\n".join(lines)


def _provenance(record: Mapping[str, Any]) -> str:
    git = record.get("git") or {}
    commit = git.get("commit")
    dirty = git.get("dirty")
    lines = ["## Provenance", ""]
    if commit:
        state = " with uncommitted changes (dirty)" if dirty else (" (clean)" if dirty is False else "")
        lines.append(f"- Git commit {code(commit)}{state}")
    else:
        lines.append("- Git commit: none (not run in a git repository)" + (" (dirty)" if dirty else ""))
    if record.get("spec_file"):
        lines.append(f"- Spec file: {code(record['spec_file'])}; spec hash {code(record.get('spec_hash'))}")
    if record.get("backend"):
        lines.append(f"- Keras backend: {code(record['backend'])}")
    versions = record.get("versions") or {}
    if versions:
        lines += ["", "| package | version |", "|---|---|"]
        lines += [f"| {escape_markdown(name)} | {escape_markdown(value)} |" for name, value in versions.items()]
    return "\n".join(lines)
