"""Training over several devices: ``[train] distribution = "data_parallel"`` through Keras' distribution API.

With ``data_parallel`` every batch is split across all the devices the backend sees (GPUs, or
CPU devices simulated with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``): each
device holds a copy of the weights and computes the gradients of its share of the batch;
the shares are averaged, so a step is the same step as on one device, up to the order of
floating-point sums. On JAX this is ``keras.distribution.DataParallel``, set (as a scope)
while the model is built and while it trains, never left set for the rest of the process; on
TensorFlow it is ``tf.distribute.MirroredStrategy`` over the GPUs (else the CPU devices, e.g.
logical ones made with ``tf.config.set_logical_device_configuration``), its scope around the
same two steps. PyTorch is not wired in: a spec asking for it is refused with a hint.

``train.batch_size`` must be a multiple of the device count. On JAX the last batch of an
epoch must split evenly too, so the training and validation rows given to ``fit`` are cut to
a multiple of the device count: at most ``devices - 1`` rows of each part are left out of
training (the last ones of the part; the record says how many); TensorFlow's strategy splits
an uneven last batch itself. Scores are computed on every row of every part.

Keras is imported inside the functions.

Example:
    >>> with distributed(spec) as plan:  # doctest: +SKIP
    ...     model = build_model(spec, dataset)
    >>> plan.to_dict()["devices"]  # doctest: +SKIP
    [{'kind': 'cpu', 'name': 'cpu:0'}, {'kind': 'cpu', 'name': 'cpu:1'}]
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlworkflow.errors import SpecError
from dlworkflow.training.devices import Device, visible_devices

if TYPE_CHECKING:
    from dlworkflow.data.dataset import Dataset
    from dlworkflow.spec.schema import Spec

DATA_PARALLEL = "data_parallel"
"""The ``train.distribution`` that splits each batch across the devices."""

SUPPORTED_BACKENDS = ("jax", "tensorflow")
"""The Keras backends ``data_parallel`` runs on."""


@dataclass(frozen=True)
class DistributionPlan:
    """How a run trains over several devices (the record's ``training.distribution``).

    Attributes:
        kind: ``data_parallel``.
        devices: The devices each batch is split across, in the backend's order.
        batch_size: ``train.batch_size``, the rows of one whole step.
        rows_left_out: Rows of each part left out of ``fit`` so that its last batch splits
            evenly (``{"train": 1, "validation": 1}``; parts with none left out are not named).
        even_batches: Whether the parts are cut to a multiple of the device count (JAX); not
            recorded.

    Example:
        >>> plan = DistributionPlan("data_parallel", (Device("cpu", "cpu:0"), Device("cpu", "cpu:1")), 32)
        >>> plan.batch_size_per_device
        16
    """

    kind: str
    devices: tuple[Device, ...]
    batch_size: int
    rows_left_out: dict[str, int] = field(default_factory=dict)
    even_batches: bool = True

    @property
    def batch_size_per_device(self) -> int:
        """The rows of a whole batch each device computes."""
        return self.batch_size // max(1, len(self.devices))

    def to_dict(self) -> dict[str, Any]:
        """The plan as the record writes it.

        Example:
            >>> DistributionPlan("data_parallel", (Device("cpu", "cpu:0"),), 32).to_dict()["batch_size_per_device"]
            32
        """
        return {
            "kind": self.kind, "devices": [dataclasses.asdict(device) for device in self.devices],
            "batch_size_per_device": self.batch_size_per_device, "rows_left_out": dict(self.rows_left_out),
        }


def plan_distribution(
    spec: Spec, backend: str, devices: tuple[Device, ...] | None = None, part_sizes: Mapping[str, int] | None = None,
) -> DistributionPlan | None:
    """Check ``train.distribution`` against the backend and the devices, before any model is built.

    Args:
        spec: The validated spec.
        backend: The active Keras backend.
        devices: The devices to split across; default: all that the backend sees.
        part_sizes: The rows of the parts ``fit`` sees (``train``, ``validation``), for ``rows_left_out``.

    Returns:
        The plan, or None when the run trains on one device (``distribution`` left out or ``none``).

    Raises:
        SpecError: at ``train.distribution`` on a backend other than JAX and TensorFlow; at
            ``train.batch_size`` when it is not a multiple of the device count.

    Example:
        >>> from dlworkflow.spec.schema import Spec
        >>> two = (Device("cpu", "cpu:0"), Device("cpu", "cpu:1"))
        >>> spec = Spec.model_validate({"name": "w", "data": {"dataset": "weather", "target": "BASEL_sunshine"},
        ...     "model": {"layers": [{"type": "Dense", "units": 1}]},
        ...     "train": {"distribution": "data_parallel", "batch_size": 33}})
        >>> plan_distribution(spec, "jax", two)
        Traceback (most recent call last):
        ...
        dlworkflow.errors.SpecError: <spec>: train.batch_size: with train.distribution = 'data_parallel' ...
    """
    if spec.train.distribution in (None, "none"):
        return None
    if backend not in SUPPORTED_BACKENDS:
        raise SpecError.single(
            spec.source, "train.distribution",
            f"'data_parallel' runs on the JAX and TensorFlow backends; this run uses {backend!r}",
            got=spec.train.distribution,
            hint="Set train.backend = 'jax' (GPUs: pip install 'dlworkflow[cuda]'), "
            "or leave train.distribution out to train on one device.",
        )
    devices = visible_devices(backend) if devices is None else devices
    batch_size = spec.train.batch_size
    count = len(devices)
    if batch_size % count:
        lower = batch_size - batch_size % count
        options = " or ".join(str(size) for size in (lower, lower + count) if size > 0)
        raise SpecError.single(
            spec.source, "train.batch_size",
            f"with train.distribution = 'data_parallel' on {count} devices, must be a multiple of {count} "
            f"(each device takes an equal share of every batch)", got=batch_size,
            hint=f"Set train.batch_size = {options}.",
        )
    even = backend == "jax"  # XLA needs equal shares of every batch; tf.distribute splits a short one itself
    left_out = {name: size % count for name, size in (part_sizes or {}).items() if size % count and even}
    return DistributionPlan(DATA_PARALLEL, tuple(devices), batch_size, left_out, even_batches=even)


@contextlib.contextmanager
def distributed(spec: Spec, dataset: Dataset | None = None) -> Iterator[DistributionPlan | None]:
    """Build or train inside this block to split batches across the devices, as ``train.distribution`` asks.

    Without ``data_parallel`` the block runs as it would anyway and gives None. With it, Keras'
    ``DataParallel`` over all of the backend's devices is the distribution inside the block
    (variables created there are copied to every device; ``fit`` there splits each batch) and
    the one before it is back afterwards.

    Args:
        spec: The validated spec.
        dataset: The prepared data (its in-memory parts' sizes give the plan's ``rows_left_out``).

    Yields:
        The :class:`DistributionPlan`, or None.

    Raises:
        SpecError: as :func:`plan_distribution`.

    Example:
        >>> with distributed(spec) as plan:  # doctest: +SKIP
        ...     model.fit(x, y, batch_size=spec.train.batch_size)
    """
    if spec.train.distribution in (None, "none"):
        yield None
        return
    import keras

    sizes = {name: part.size for name in ("train", "validation")
             for part in [dataset.parts.get(name) if dataset is not None else None]
             if part is not None and not part.streamed}
    backend = keras.backend.backend()
    if backend == "tensorflow":
        with _mirrored(spec, sizes) as plan:
            yield plan
        return
    plan = plan_distribution(spec, backend, part_sizes=sizes)
    assert plan is not None
    import jax

    with keras.distribution.DataParallel(devices=jax.devices()).scope():
        yield plan


@contextlib.contextmanager
def _mirrored(spec: Spec, sizes: Mapping[str, int]) -> Iterator[DistributionPlan]:
    """TensorFlow's ``MirroredStrategy`` over the GPUs, else the CPU devices, as a scope with its plan."""
    visible = visible_devices("tensorflow")
    devices = tuple(device for device in visible if device.kind == "gpu") or visible
    plan = plan_distribution(spec, "tensorflow", devices, part_sizes=sizes)
    assert plan is not None
    names = tuple("/" + device.name.split()[0] for device in devices)  # "gpu:0 NVIDIA H100" → "/gpu:0"
    with _strategy(names).scope():
        yield plan


@functools.cache
def _strategy(names: tuple[str, ...]) -> Any:
    """One ``MirroredStrategy`` per set of devices: the model is built and trained in two scopes of the same one."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices=list(names))


def even_rows(arrays: Any, plan: DistributionPlan | None) -> Any:
    """Cut a part's arrays to a multiple of the device count, so that its last batch splits evenly.

    Args:
        arrays: An array, or a list, tuple or dict of arrays with the rows first (None stays None).
        plan: The distribution plan; None leaves the arrays as they are.

    Returns:
        The arrays without their last ``rows % devices`` rows.

    Example:
        >>> import numpy as np
        >>> plan = DistributionPlan("data_parallel", (Device("cpu", "cpu:0"), Device("cpu", "cpu:1")), 32)
        >>> even_rows({"a": np.zeros((767, 3))}, plan)["a"].shape
        (766, 3)
    """
    if plan is None or arrays is None or not plan.even_batches:
        return arrays
    first = _first_leaf(arrays)
    extra = 0 if first is None else len(first) % len(plan.devices)
    if extra == 0:
        return arrays
    return _cut(arrays, len(first) - extra)


def _first_leaf(arrays: Any) -> Any:
    if isinstance(arrays, dict):
        return next((leaf for leaf in map(_first_leaf, arrays.values()) if leaf is not None), None)
    if isinstance(arrays, list | tuple):
        return next((leaf for leaf in map(_first_leaf, arrays) if leaf is not None), None)
    return arrays


def _cut(arrays: Any, keep: int) -> Any:
    if isinstance(arrays, dict):
        return {key: _cut(value, keep) for key, value in arrays.items()}
    if isinstance(arrays, list | tuple):
        return type(arrays)(_cut(value, keep) for value in arrays)
    return None if arrays is None else arrays[:keep]


def streamed_refusal(spec: Spec) -> SpecError:
    """The error for ``data_parallel`` on image files streamed batch by batch (not supported yet).

    Example:
        >>> "in memory" in str(streamed_refusal(spec))  # doctest: +SKIP
        True
    """
    return SpecError.single(
        spec.source, "train.distribution",
        "'data_parallel' needs the training data in memory; this run streams its image files batch by batch",
        got=spec.train.distribution, hint="Leave train.distribution out for this spec (one device).",
    )


def distribution_line(recorded: Mapping[str, Any]) -> str:
    """The line ``dlw show`` prints for a record's ``training.distribution``.

    Args:
        recorded: :meth:`DistributionPlan.to_dict`'s data, as read from a record.

    Returns:
        One line: the kind, the devices, each device's share of a batch and the rows left out.

    Example:
        >>> plan = DistributionPlan("data_parallel", (Device("cpu", "cpu:0"), Device("cpu", "cpu:1")), 32, {"train": 1})
        >>> distribution_line(plan.to_dict())
        'data_parallel over 2 devices (cpu:0, cpu:1), 16 rows of each batch per device; left out of fit so the last batch splits evenly: 1 train row'
    """
    devices = [str(device.get("name", "?")) for device in recorded.get("devices") or []]
    left_out = recorded.get("rows_left_out") or {}
    line = (f"{recorded.get('kind', '?')} over {len(devices)} devices ({', '.join(devices)}), "
            f"{recorded.get('batch_size_per_device', '?')} rows of each batch per device")
    if left_out:
        line += "; left out of fit so the last batch splits evenly: " + ", ".join(
            f"{count} {part} row{'s' if count != 1 else ''}" for part, count in left_out.items())
    return line
