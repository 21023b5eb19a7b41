"""A text sequence beside other columns: two branches of one model, joined at a ``Concatenate`` entry.

When a table's ``sequence`` text column sits beside number, category or term-vector columns
(:class:`~dlworkflow.data.text_encoding.SequenceLayout`), each row is still one float32 vector:
the column's token ids first, then the other encoded inputs. The model splits it with built-in
Keras layers only (no ``Lambda``, no custom layer, so a saved ``.keras`` file loads anywhere)::

    input (ids + others) → Reshape (width, 1) ┬ Cropping1D → Reshape → token_ids ─ layers before Concatenate ┐
                                              └ Cropping1D → Flatten → other_inputs ──────────────────────── Concatenate → layers after

The spec's layers before its ``{ type = "Concatenate" }`` entry (``Embedding``, pooling,
``LSTM``, ``Conv1D``…) work on the token ids; the ``Concatenate`` entry joins their output to
the other inputs; the layers after it see both.

Example:
    >>> import keras  # doctest: +SKIP
    >>> from dlworkflow.data.text_encoding import SequenceLayout
    >>> inputs = keras.Input(shape=(35,))  # doctest: +SKIP
    >>> ids, others = split_inputs(keras, inputs, SequenceLayout("note", 32, 3, 500), str)  # doctest: +SKIP
    >>> tuple(ids.shape), tuple(others.shape)  # doctest: +SKIP
    ((None, 32), (None, 3))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError

if TYPE_CHECKING:
    from dlworkflow.data.text_encoding import SequenceLayout
    from dlworkflow.spec.schema import LayerSpec

JOIN_TYPE = "Concatenate"
"""The layer entry where the text branch meets the other inputs."""

BRANCH_NAMES = ("input_steps", "token_id_steps", "token_ids", "other_input_steps", "other_inputs")
"""The names of the splitting layers (``dlw summary`` shows them): the two branches' start."""

FLAT_TYPES = ("GlobalAveragePooling1D", "GlobalMaxPooling1D", "GlobalAvgPool1D", "GlobalMaxPool1D", "LSTM", "GRU",
              "SimpleRNN", "Bidirectional", "Flatten")
"""Layers that can end the text branch (one vector per row): the join is suggested after the first of them."""


def join_index(
    layers: Sequence[LayerSpec], layout: SequenceLayout | None, input_shape: tuple[int, ...], *, source: str
) -> int | None:
    """The index of the spec's ``Concatenate`` entry, checked against the data's layout.

    Args:
        layers: ``model.layers``.
        layout: The token ids and other inputs of the data, or None (one kind of input).
        input_shape: The model's input shape (without the batch).
        source: The spec file, for messages.

    Returns:
        The entry's index, or None when the data has one kind of input and the spec no join.

    Raises:
        SpecError: at ``model.layers`` for a text sequence beside other inputs without a
            ``Concatenate`` entry (naming where to add it), at ``model.layers[i]`` for a second
            entry or one without a text sequence beside other inputs, and at ``data.window``
            for such a text in windows.

    Example:
        >>> join_index([], None, (4,), source="x.toml") is None
        True
    """
    joins = [index for index, layer in enumerate(layers) if layer.type == JOIN_TYPE]
    if layout is None:
        if joins:
            raise SpecError.single(
                source, f"model.layers[{joins[0]}]", "Concatenate joins the branch of a text column in "
                "'sequence' mode to the other input columns; the data has no such text beside other columns",
                got=JOIN_TYPE, hint="Remove this entry (the layers then take the one input as it is), or set "
                "data.text.mode = 'sequence' for a text column that sits beside other columns.",
            )
        return None
    if len(input_shape) != 1:
        raise SpecError.single(
            source, "data.window", f"the token ids of the text column {layout.column!r} beside other columns "
            f"cannot be cut into windows (inputs of shape {input_shape!r})", got="window",
            hint="Remove [data.window], or encode the text as a term vector (data.text.mode = 'tf_idf').",
        )
    if not joins:
        raise SpecError.single(
            source, "model.layers", f"the token ids of the text column {layout.column!r} sit beside "
            f"{layout.other_inputs:,} other input{'s' if layout.other_inputs != 1 else ''}, so the layers need a "
            "Concatenate entry where the text branch (Embedding → pooling) joins them",
            got=[layer.type for layer in layers],
            hint=_join_hint(layers),
        )
    if len(joins) > 1:
        raise SpecError.single(
            source, f"model.layers[{joins[1]}]", "only one Concatenate entry can join the text branch to the other "
            f"inputs; model.layers[{joins[0]}] already does", got=JOIN_TYPE, hint="Remove this entry.",
        )
    return joins[0]


def _join_hint(layers: Sequence[LayerSpec]) -> str:
    entry = '{ type = "Concatenate" }'
    flat = next((index for index, layer in enumerate(layers) if layer.type in FLAT_TYPES
                 and not layer.arguments.get("return_sequences")), None)
    if flat is not None:
        return (f"Add {entry} as model.layers[{flat + 1}], right after the {layers[flat].type} (the layers before it "
                "read the token ids, those after it both).")
    return (f"Add {entry} after the pooling layer, e.g. Embedding → GlobalAveragePooling1D → {entry} → Dense "
            "(the layers before it read the token ids, those after it both).")


def split_inputs(keras: Any, inputs: Any, layout: SequenceLayout, name: Callable[[str], str]) -> tuple[Any, Any]:
    """Split the one input into the token ids ``(None, sequence_length)`` and the others ``(None, n)``.

    Args:
        keras: The ``keras`` module.
        inputs: The model's input tensor, ``(None, sequence_length + other_inputs)``.
        layout: Where the ids and the others sit.
        name: Makes a layer name unique (given one of :data:`BRANCH_NAMES`).

    Returns:
        The token ids and the other inputs, as tensors.

    Example:
        >>> ids, others = split_inputs(keras, inputs, layout, str)  # doctest: +SKIP
    """
    steps = keras.layers.Reshape((layout.width, 1), name=name(BRANCH_NAMES[0]))(inputs)
    ids = keras.layers.Cropping1D((0, layout.other_inputs), name=name(BRANCH_NAMES[1]))(steps)
    ids = keras.layers.Reshape((layout.sequence_length,), name=name(BRANCH_NAMES[2]))(ids)
    others = keras.layers.Cropping1D((layout.sequence_length, 0), name=name(BRANCH_NAMES[3]))(steps)
    others = keras.layers.Flatten(name=name(BRANCH_NAMES[4]))(others)
    return ids, others


def join(layer: Any, text_branch: Any, others: Any, *, index: int, source: str) -> Any:
    """Call the ``Concatenate`` entry on the text branch's output and the other inputs.

    Args:
        layer: The built ``keras.layers.Concatenate``.
        text_branch: The output of the layers before it, one vector per row.
        others: The other inputs (:func:`split_inputs`).
        index: The entry's index, for messages.
        source: The spec file, for messages.

    Returns:
        The joined tensor, ``(None, text width + other inputs)``.

    Raises:
        SpecError: at ``model.layers[index]`` when the text branch still has one vector per token.

    Example:
        >>> joined = join(keras.layers.Concatenate(), pooled, others, index=2, source="x.toml")  # doctest: +SKIP
    """
    shape = tuple(text_branch.shape)
    if len(shape) != 2:
        shown = "(" + ", ".join("None" if size is None else str(size) for size in shape) + ")"
        raise SpecError.single(
            source, f"model.layers[{index}]", f"Concatenate joins one vector per row to the other inputs; the text "
            f"branch before it still has shape {shown}", got=shown,
            hint="Add a GlobalAveragePooling1D (or an LSTM/GRU without return_sequences, or Flatten) before "
            "the Concatenate entry.",
        )
    return layer([text_branch, others])
