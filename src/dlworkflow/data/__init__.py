"""Data layer: load a table, prepare it, split it, scale it. Never imports Keras."""

from dlworkflow.data.dataset import Dataset, Part
from dlworkflow.data.pipeline import build_dataset
from dlworkflow.data.sources import BUILTIN_DATASETS, load_table

__all__ = ["BUILTIN_DATASETS", "Dataset", "Part", "build_dataset", "load_table"]
