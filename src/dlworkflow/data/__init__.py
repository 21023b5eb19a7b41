"""Data layer: load a table or images, prepare them, split them, scale them.

Never imports Keras, except to download a Keras image set (``keras.datasets.<name>``) when
no offline copy is in the data home (:mod:`dlworkflow.data.keras_datasets`).
"""

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.data.home import data_home, locate
from dlworkflow.data.keras_datasets import KERAS_IMAGE_DATASETS
from dlworkflow.data.pipeline import build_dataset
from dlworkflow.data.sources import BUILTIN_DATASETS, load_table

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
