"""The :class:`DataSource` interface: one kind of data a spec can name, and how it is loaded.

A spec names its data by ``data.dataset`` (a name) or ``data.path`` (a file or a folder); the
open registries of :mod:`dlworkflow.spec.registries` choose the source:
:data:`~dlworkflow.spec.registries.DATASETS` by name,
:data:`~dlworkflow.spec.registries.DATA_FILES` by the file's ending, and
:data:`~dlworkflow.spec.registries.FOLDER_SOURCE` for a folder. Each source lives in a module
of its own:

* tables — :mod:`.csv_file` (``.csv``), :mod:`.parquet_file` (``.parquet``),
  :mod:`.builtin_tables` (``penguins``, ``weather``): a :class:`TableSource` returns the table
  as read, and the one table pipeline (:mod:`.pipeline`) prepares, splits and scales it;
* images — :mod:`.image_arrays` (``.npz``), :mod:`.image_folder` (a folder),
  :mod:`.keras_datasets` (``cifar10``, ``mnist``, ``fashion_mnist``): an :class:`ImageSource`
  builds the dataset itself.

Adding one is one module plus one entry: a :class:`TableSource` (or :class:`ImageSource`)
subclass and an instance of it, registered under its name or file ending.

Example:
    >>> class TabSeparated(TableSource):  # doctest: +SKIP
    ...     label = "tab-separated file"
    ...     def read_table(self, location, *, source):
    ...         return pd.read_csv(location, sep="\\t", float_precision="round_trip")
    >>> DATA_FILES.register(".tsv", TabSeparated())  # doctest: +SKIP
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import pandas as pd

    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import Spec


def error_summary(err: BaseException) -> str:
    """The first line of a reader's error, for a message that quotes it (its type when it says nothing).

    Example:
        >>> error_summary(ValueError("Expected 3 fields in line 4, saw 5\\nmore detail"))
        'Expected 3 fields in line 4, saw 5'
        >>> error_summary(OSError())
        'OSError'
    """
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class DataSource(ABC):
    """Where data comes from: a file type, a folder, or datasets known by name.

    Attributes:
        label: What it reads, for messages: ``"CSV file"`` (``"CSV file not found: ..."``).
    """

    label: ClassVar[str] = "data file"

    def dataset_name(self, location: str | Path) -> str:
        """The dataset's short name in results: a name as given, a file's stem.

        Args:
            location: ``data.dataset`` or the located ``data.path``.

        Example:
            >>> CSV_FILE.dataset_name(Path("tables/mine.csv"))  # doctest: +SKIP
            'mine'
        """
        return location.stem if isinstance(location, Path) else str(location)


class TableSource(DataSource):
    """A source of one table; the table pipeline prepares, splits and scales what it reads."""

    @abstractmethod
    def read_table(self, location: str | Path, *, source: str) -> pd.DataFrame:
        """Read the table as it is: no column dropped, no row removed.

        Args:
            location: ``data.dataset`` or the located ``data.path``.
            source: The spec file, for error messages.

        Returns:
            The table, with at least one row and string column names.

        Raises:
            DataError: at ``data.path`` (or ``data.dataset``) when it cannot be read.
        """


class ImageSource(DataSource):
    """A source of images with their class labels; it builds the whole dataset."""

    @abstractmethod
    def build_dataset(self, location: str | Path, spec: Spec) -> Dataset:
        """Load, check, split and scale the images.

        Args:
            location: ``data.dataset`` or the located ``data.path``.
            spec: The validated spec.

        Returns:
            The dataset.

        Raises:
            SpecError: for settings that do not apply to images.
            DataError: for images that cannot be used.
        """
