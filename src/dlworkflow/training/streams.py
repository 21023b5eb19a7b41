"""Read a streamed part's image files batch by batch with ``tf.data``, memory bounded.

A streamed :class:`~dlworkflow.data.dataset.Part` holds image file paths instead of pixels
(``part.x is None``). :func:`image_stream` turns it into a ``tf.data.Dataset`` that reads each
file, decodes it (``tf.io.decode_image``, PNG/JPEG/GIF/BMP), resizes it to the dataset's
``height × width`` (bilinear), multiplies its pixels by ``scale`` and batches the result, a
few batches ahead of the model (``prefetch``). Only file paths and labels are held in
memory, never the images of a whole part. The training part is shuffled again each epoch
(file order, with the spec's seed); validation and test parts keep their order, so
predictions line up with ``part.labels``.

``tf.data`` feeds Keras on every backend (JAX included). TensorFlow is imported only when a
streamed part is used: importing this module does not import it.

Example:
    >>> stream = image_stream(dataset.train, dataset.image, batch_size=32, shuffle=True, seed=0)  # doctest: +SKIP
    >>> model.fit(stream, epochs=3)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import DataError

if TYPE_CHECKING:
    import tensorflow as tf

    from dlworkflow.data.dataset import Part

MAX_PARALLEL_READS = 4
"""Most image files decoded at the same time (fewer on machines with fewer cores)."""


def parallel_reads() -> int:
    """How many files are read and decoded in parallel: the usable cores, at most :data:`MAX_PARALLEL_READS`.

    Returns:
        1 or more.

    Example:
        >>> 1 <= parallel_reads() <= MAX_PARALLEL_READS
        True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PARALLEL_READS))


def import_tensorflow() -> Any:
    """Import TensorFlow (for ``tf.data``) quietly, whatever the Keras backend.

    Its C++ start-up log lines are held back (shown only if the import fails), as
    :func:`~dlworkflow.training.backend.activate_backend` does.

    Returns:
        The ``tensorflow`` module.

    Raises:
        DataError: when TensorFlow is not installed (streamed images need it).

    Example:
        >>> tf = import_tensorflow()  # doctest: +SKIP
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    from dlworkflow.training.backend import _native_stderr_held_back

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with _native_stderr_held_back():
            import tensorflow
    except ImportError as err:
        raise DataError.single(
            "<data>", "data.path", "reading images batch by batch needs TensorFlow (tf.data), which is not installed",
            hint="Install it with `pip install tensorflow-cpu`.",
        ) from err
    return tensorflow


def stream_errors() -> tuple[type[BaseException], ...]:
    """The exception types a ``tf.data`` pipeline raises for a file it cannot read.

    Returns:
        ``(tf.errors.OpError,)`` once TensorFlow is imported, else ``()`` (catches nothing).

    Example:
        >>> try: ...
        ... except stream_errors() as err: ...  # doctest: +SKIP
    """
    tensorflow = sys.modules.get("tensorflow")
    errors = getattr(tensorflow, "errors", None)
    op_error = getattr(errors, "OpError", None)
    return (op_error,) if isinstance(op_error, type) else ()


def unreadable_file_error(source: str, path: str, err: BaseException) -> DataError:
    """The error for an image file a ``tf.data`` pipeline could not read (one of :func:`stream_errors`).

    Args:
        source: The spec file (or ``<data>``).
        path: Where in the spec or data, e.g. ``data.path`` or ``parts.test``.
        err: TensorFlow's error.

    Returns:
        A DataError quoting TensorFlow's message and saying what to do.

    Example:
        >>> raise unreadable_file_error("cats.toml", "data.path", err) from err  # doctest: +SKIP
    """
    message = " ".join(str(getattr(err, "message", err)).split())
    return DataError.single(
        source, path, f"an image file could not be read: {message[:300]}",
        hint="Remove or replace files that are not PNG, JPEG, GIF or BMP images (or are damaged).",
    )


def image_stream(
    part: Part,
    image: Mapping[str, Any] | None,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    targets: bool = True,
) -> tf.data.Dataset:
    """A ``tf.data.Dataset`` of a streamed part's batches: ``(images, targets)`` or images alone.

    Pipeline: file paths and ``part.y`` → (training: ``shuffle`` of the file order, again each
    epoch, seeded) → read, ``decode_image(channels, expand_animations=False)``, ``resize`` to
    ``(height, width)``, ``float32 × scale`` in parallel (:func:`parallel_reads` at a time,
    order kept) → ``batch(batch_size)`` → ``prefetch(AUTOTUNE)``.

    Args:
        part: A streamed part (``part.files`` set).
        image: ``Dataset.image``: ``{"height", "width", "channels", "scale"}``.
        batch_size: Images per batch.
        shuffle: Shuffle the file order each epoch (the training part only).
        seed: The shuffle's seed (``train.seed``).
        targets: Yield ``(images, targets)`` pairs; False yields images alone (for predict).

    Returns:
        The dataset; each element a float32 batch of shape ``(n, height, width, channels)``
        (and its targets).

    Raises:
        DataError: when the part has no files or ``image`` lacks the decoding settings.

    Example:
        >>> stream = image_stream(dataset.test, dataset.image, batch_size=32)  # doctest: +SKIP
        >>> next(iter(stream))[0].shape  # doctest: +SKIP
        TensorShape([32, 64, 64, 3])
    """
    if part.files is None:
        raise DataError.single("<data>", f"parts.{part.name}", "is not streamed: it has no image files")
    settings = _decoding(part, image)
    tf = import_tensorflow()
    height, width, channels, scale = settings
    files = tf.constant(list(part.files), dtype=tf.string)
    labels = tf.constant(part.y)
    stream = tf.data.Dataset.from_tensor_slices((files, labels))
    if shuffle and len(part.files) > 1:
        stream = stream.shuffle(len(part.files), seed=seed, reshuffle_each_iteration=True)

    def load(path: Any, target: Any) -> Any:
        pixels = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        pixels = tf.image.resize(pixels, (height, width))
        pixels = tf.ensure_shape(tf.cast(pixels, tf.float32) * scale, (height, width, channels))
        return (pixels, target) if targets else pixels

    stream = stream.map(load, num_parallel_calls=parallel_reads(), deterministic=True)
    return stream.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _decoding(part: Part, image: Mapping[str, Any] | None) -> tuple[int, int, int, float]:
    if image is None:
        raise DataError.single(
            "<data>", f"parts.{part.name}", "is streamed (read from image files) but no image settings were given",
            hint="Pass image=dataset.image (height, width, channels and scale of the images).",
        )
    try:
        return int(image["height"]), int(image["width"]), int(image.get("channels", 3)), float(image.get("scale", 1.0))
    except (KeyError, TypeError, ValueError) as err:
        raise DataError.single(
            "<data>", "image", "must give height, width, channels and scale", got=dict(image),
            hint="Use dataset.image as the data layer made it.",
        ) from err
