"""Keras image sets: ``data.dataset = "cifar10"``, ``"mnist"`` or ``"fashion_mnist"``.

:func:`load_keras_dataset` first looks for an offline copy, ``<name>.npz`` in the data home
(:func:`dlworkflow.data.home.data_home`), holding the arrays ``x_train, y_train, x_test,
y_test`` (and optionally ``class_names``). Without one it calls Keras' own loader,
``keras.datasets.<name>.load_data()``, which downloads the set the first time (and keeps it
in ``~/.keras/datasets``). Keras is imported inside that call only; the caller activates
the Keras backend first. The arrays then go through the same preparation as an ``.npz``
(:func:`dlworkflow.data.image_arrays.build_array_dataset`).

Example:
    >>> arrays = load_keras_dataset("mnist")  # doctest: +SKIP
    >>> arrays.x_train.shape, arrays.class_names[:3]  # doctest: +SKIP
    ((60000, 28, 28, 1), ('0', '1', '2'))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlworkflow.data.data_source import ImageSource
from dlworkflow.data.home import DATA_HOME_VARIABLE, data_home
from dlworkflow.data.image_arrays import ImageArrays, build_array_dataset, image_arrays, read_image_arrays
from dlworkflow.errors import DataError, SpecError, suggestion

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import Spec

KERAS_IMAGE_DATASETS: dict[str, tuple[str, ...]] = {
    "cifar10": (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ),
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion_mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
}
"""``data.dataset`` names loaded with ``keras.datasets.<name>.load_data()`` → class names in label order."""

Loader = Callable[[], Any]
"""A function like ``keras.datasets.mnist.load_data``: returns ``((x_train, y_train), (x_test, y_test))``."""


def mirror_path(name: str) -> Path:
    """Where the offline copy of a Keras image set is looked for: ``<data home>/<name>.npz``.

    Args:
        name: A key of :data:`KERAS_IMAGE_DATASETS`.

    Returns:
        The path (which may not exist).

    Example:
        >>> mirror_path("mnist").name
        'mnist.npz'
    """
    return data_home() / f"{name}.npz"


def load_keras_dataset(name: str, *, source: str = "<spec>", loader: Loader | None = None) -> ImageArrays:
    """Load a Keras image set: the offline copy in the data home, else Keras' own loader.

    Args:
        name: A key of :data:`KERAS_IMAGE_DATASETS`.
        source: The spec file, for error messages.
        loader: Called instead of ``keras.datasets.<name>.load_data`` when there is no
            offline copy (tests pass a fake; nothing else needs to).

    Returns:
        The checked arrays, named ``name``, with the set's class names.

    Raises:
        SpecError: at ``data.dataset`` when ``name`` is not a Keras image set.
        DataError: at ``data.dataset`` when the set cannot be downloaded (no network) — saying
            how to work offline — or the offline copy is not a valid image ``.npz``.

    Example:
        >>> load_keras_dataset("cifar10", source="cifar10.toml").x_test.shape  # doctest: +SKIP
        (10000, 32, 32, 3)
    """
    if name not in KERAS_IMAGE_DATASETS:
        raise SpecError.single(
            source, "data.dataset", "unknown Keras image set", got=name,
            hint=suggestion(name, list(KERAS_IMAGE_DATASETS)),
        )
    class_names = KERAS_IMAGE_DATASETS[name]
    owner = f"the Keras image set {name!r}"
    mirror = mirror_path(name)
    if mirror.is_file():
        return read_image_arrays(
            mirror, source=source, spec_path="data.dataset", name=name, owner=owner,
            default_class_names=class_names,
        )
    load = loader if loader is not None else _keras_loader(name)
    try:
        (x_train, y_train), (x_test, y_test) = load()
    # keras.utils.get_file raises a plain Exception (wrapping URLError/HTTPError) when it
    # cannot download, and OSError/ValueError for a broken cached file: all mean "not loadable".
    except Exception as err:  # noqa: BLE001
        raise DataError.single(
            source, "data.dataset", f"cannot load the Keras image set {name!r}: {_first_line(err)}",
            hint=_offline_hint(name, str(mirror)),
        ) from err
    return image_arrays(
        x_train, y_train, x_test, y_test, default_class_names=class_names, name=name,
        origin=f"keras.datasets.{name}", owner=owner, source=source, spec_path="data.dataset",
    )


class KerasDataset(ImageSource):
    """``data.dataset = "cifar10"``: a Keras image set, from its offline copy or downloaded by Keras."""

    label = "Keras image set"

    def build_dataset(self, location: str | Path, spec: Spec) -> Dataset:
        """Load the set (see :func:`load_keras_dataset`) and build the dataset."""
        return build_array_dataset(load_keras_dataset(str(location), source=spec.source), spec)


KERAS_DATASET = KerasDataset()
"""The source registered for each name of :data:`KERAS_IMAGE_DATASETS` in
:data:`dlworkflow.spec.registries.DATASETS`."""


def _keras_loader(name: str) -> Loader:
    import keras  # the caller has activated the backend; nothing else in the data layer imports Keras

    return getattr(keras.datasets, name).load_data


def _offline_hint(name: str, mirror: str) -> str:
    return (
        f"Keras downloads {name!r} from the internet the first time (then keeps it in ~/.keras/datasets), "
        f"so it needs network once. To work offline, put {name}.npz (arrays x_train, y_train, x_test, y_test) "
        f"in the data home: {mirror!r} (set {DATA_HOME_VARIABLE} to choose another folder); "
        "or give data.path = 'file.npz' instead of data.dataset."
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
