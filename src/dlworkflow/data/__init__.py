"""Data layer: load a table or images, prepare them, split them, scale them.

Never imports Keras, except to download a Keras image set (``keras.datasets.<name>``) when
no offline copy is in the data home (:mod:`dlworkflow.data.keras_datasets`). The names below
are imported on first use (:mod:`dlworkflow.lazy_exports`), so importing one module of the
layer (the scaler of a saved run, a fingerprint) does not import them all, nor scikit-learn.
"""

from dlworkflow.lazy_exports import lazy_exports as _lazy_exports

__all__ = [
    "BUILTIN_DATASETS",
    "KERAS_IMAGE_DATASETS",
    "Dataset",
    "Part",
    "build_dataset",
    "data_home",
    "load_table",
    "locate",
]

_MODULE_OF = {
    "BUILTIN_DATASETS": "dlworkflow.data.sources",
    "KERAS_IMAGE_DATASETS": "dlworkflow.data.keras_datasets",
    "Dataset": "dlworkflow.data.dataset",
    "Part": "dlworkflow.data.dataset",
    "build_dataset": "dlworkflow.data.pipeline",
    "data_home": "dlworkflow.data.home",
    "load_table": "dlworkflow.data.sources",
    "locate": "dlworkflow.data.home",
}

__getattr__, __dir__ = _lazy_exports(__name__, globals(), _MODULE_OF)
