"""Sharing layer: the model card, the exported bundle, and predictions for new data.

Part of the API level (it uses the data, training, evaluation and registry layers). Names
are loaded on first use, so importing this package imports neither Keras nor pandas; Keras
is imported only to load a model, after :func:`activate_saved_backend` chose the backend
the run trained with.

    card = model_card(record, preprocessing)                 # Markdown
    write_bundle(run_dir, record, "shared/weather")          # model, preprocessing, card, spec, manifest
    bundle = Bundle.open("shared/weather")                   # every file checked against its sha256
    activate_saved_backend(bundle.backend, where=bundle.where)
    model = load_model_safely(bundle.model_path)             # safe mode; a Lambda layer is refused
    part = new_input(bundle, "new_days.csv")
    frame = predictions_frame(part, predict_part(model, part, bundle.preprocessing), bundle.preprocessing)

Example:
    >>> from dlworkflow.sharing import model_card  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlworkflow.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from dlworkflow.sharing.bundle import (
        BUNDLE_FILE,
        FORMAT_VERSION,
        MODEL_CARD,
        Bundle,
        manifest,
        sha256_file,
    )
    from dlworkflow.sharing.bundle_export import write_bundle
    from dlworkflow.sharing.model_card import code, escape_markdown, model_card
    from dlworkflow.sharing.model_loading import (
        activate_saved_backend,
        check_safe,
        load_model_safely,
        unsafe_layers,
    )
    from dlworkflow.sharing.prediction import (
        new_input,
        predict_part,
        predictions_frame,
        write_predictions,
    )

_BUNDLE = "dlworkflow.sharing.bundle"
_CARD = "dlworkflow.sharing.model_card"
_LOADING = "dlworkflow.sharing.model_loading"
_PREDICTION = "dlworkflow.sharing.prediction"
_LAZY = {
    "BUNDLE_FILE": _BUNDLE,
    "FORMAT_VERSION": _BUNDLE,
    "MODEL_CARD": _BUNDLE,
    "Bundle": _BUNDLE,
    "manifest": _BUNDLE,
    "sha256_file": _BUNDLE,
    "write_bundle": "dlworkflow.sharing.bundle_export",
    "code": _CARD,
    "escape_markdown": _CARD,
    "model_card": _CARD,
    "activate_saved_backend": _LOADING,
    "check_safe": _LOADING,
    "load_model_safely": _LOADING,
    "unsafe_layers": _LOADING,
    "new_input": _PREDICTION,
    "predict_part": _PREDICTION,
    "predictions_frame": _PREDICTION,
    "write_predictions": _PREDICTION,
}

__all__ = [
    "BUNDLE_FILE",
    "FORMAT_VERSION",
    "MODEL_CARD",
    "Bundle",
    "activate_saved_backend",
    "check_safe",
    "code",
    "escape_markdown",
    "load_model_safely",
    "manifest",
    "model_card",
    "new_input",
    "predict_part",
    "predictions_frame",
    "sha256_file",
    "unsafe_layers",
    "write_bundle",
    "write_predictions",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
