"""The devices a Keras backend trains on, and what ``dlw info`` reports about the backends.

:func:`visible_devices` asks the active backend which devices it sees (``jax.devices()``,
TensorFlow's logical devices, ``torch.cuda``); every run records them. :func:`backend_report`
is ``dlw info``: each backend installed or not and its version (read from the package
metadata, nothing imported), the backend a dense model gets by default, and the devices of
one backend: the one Keras already uses in this process, else that default (importing only
that backend; JAX takes well under a second). With ``every_backend=True`` (``dlw info
--devices``) every installed backend is asked, which imports TensorFlow (several seconds).

This module imports no backend at import time.

Example:
    >>> visible_devices("jax")  # doctest: +SKIP
    (Device(kind='cpu', name='cpu:0'),)
    >>> backend_report().default_backend  # doctest: +SKIP
    'jax'
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from dlworkflow.training.backend import BACKENDS, _native_stderr_held_back, is_installed

DeviceKind = Literal["cpu", "gpu", "tpu"]

_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "jax": ("jax",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly"),
    "torch": ("torch",),
}
"""The pip distributions that install each backend's package, first found wins."""

_GPU_PLATFORMS = frozenset({"gpu", "cuda", "rocm", "metal", "mps"})


@dataclass(frozen=True)
class Device:
    """One device a backend trains on.

    Attributes:
        kind: ``cpu``, ``gpu`` or ``tpu``.
        name: The backend's name for it, with the hardware's where the backend knows it,
            e.g. ``cpu:0`` or ``cuda:0 NVIDIA H100 80GB HBM3``.

    Example:
        >>> Device("gpu", "cuda:0 NVIDIA H100 80GB HBM3").kind
        'gpu'
    """

    kind: DeviceKind
    name: str


def _kind(platform_name: str) -> DeviceKind:
    """The device kind of a backend's platform or device-type name (``CUDA``, ``gpu``, ``TPU``...)."""
    lowered = platform_name.lower()
    if lowered in _GPU_PLATFORMS:
        return "gpu"
    return "tpu" if lowered == "tpu" else "cpu"


def _jax_devices() -> tuple[Device, ...]:
    import jax

    devices = []
    for device in jax.devices():
        kind = _kind(device.platform)
        hardware = str(getattr(device, "device_kind", "") or "")
        name = str(device) if hardware.lower() in ("", "cpu", device.platform) else f"{device} {hardware}"
        devices.append(Device(kind, name))
    return tuple(devices)


def _tensorflow_devices() -> tuple[Device, ...]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # as activate_backend does: no C++ log lines
    with _native_stderr_held_back():
        import tensorflow as tf

    physical_gpus = tf.config.list_physical_devices("GPU")
    devices = []
    for logical in tf.config.list_logical_devices():
        kind = _kind(logical.device_type)
        name = logical.name.removeprefix("/device:").lower()
        index = int(name.rsplit(":", 1)[-1]) if name.rsplit(":", 1)[-1].isdigit() else -1
        if kind == "gpu" and 0 <= index < len(physical_gpus):
            details = tf.config.experimental.get_device_details(physical_gpus[index])
            if details.get("device_name"):
                name = f"{name} {details['device_name']}"
        devices.append(Device(kind, name))
    return tuple(devices)


def _torch_devices() -> tuple[Device, ...]:
    import torch

    if torch.cuda.is_available():
        return tuple(Device("gpu", f"cuda:{index} {torch.cuda.get_device_name(index)}")
                     for index in range(torch.cuda.device_count()))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return (Device("gpu", "mps:0"),)
    return (Device("cpu", "cpu:0"),)


_ASK: dict[str, Callable[[], tuple[Device, ...]]] = {
    "jax": _jax_devices, "tensorflow": _tensorflow_devices, "torch": _torch_devices,
}


def visible_devices(backend: str) -> tuple[Device, ...]:
    """The devices a Keras backend sees, as that backend reports them.

    Call it with the active backend (a run's): the backend's package is imported inside this
    function, which costs nothing once Keras has imported it; no other backend is touched.

    Args:
        backend: ``jax``, ``tensorflow`` or ``torch``.

    Returns:
        The devices in the backend's order (accelerators first where the backend lists them
        so); empty for a backend dlworkflow does not know.

    Example:
        >>> visible_devices("jax")  # on a machine without accelerators  # doctest: +SKIP
        (Device(kind='cpu', name='cpu:0'),)
    """
    ask = _ASK.get(backend)
    return ask() if ask is not None else ()


def installed_version(backend: str) -> str | None:
    """The version of a backend's installed distribution, read from its metadata (nothing imported).

    Example:
        >>> installed_version("jax") is not None
        True
    """
    for distribution in _DISTRIBUTIONS.get(backend, (backend,)):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@dataclass(frozen=True)
class BackendStatus:
    """One Keras backend as ``dlw info`` shows it.

    Attributes:
        name: ``jax``, ``tensorflow`` or ``torch``.
        installed: Whether its package can be imported.
        version: Its distribution's version, None when not installed.
        devices: The devices it sees; None when it was not asked (asking imports it).

    Example:
        >>> BackendStatus("torch", False, None).devices is None
        True
    """

    name: str
    installed: bool
    version: str | None
    devices: tuple[Device, ...] | None = None


@dataclass(frozen=True)
class BackendReport:
    """What ``dlw info`` prints: versions, the backends, the default one and the devices.

    Attributes:
        dlworkflow: dlworkflow's version.
        python: The Python version.
        backends: One :class:`BackendStatus` per backend of :data:`BACKENDS`.
        default_backend: The backend a dense model trains on (``train.backend = "auto"``);
            None when no backend is installed.
        active_backend: The backend Keras already uses in this process, None when Keras is
            not imported yet.

    Example:
        >>> report = backend_report()  # doctest: +SKIP
        >>> report.devices  # doctest: +SKIP
        (Device(kind='cpu', name='cpu:0'),)
    """

    dlworkflow: str
    python: str
    backends: tuple[BackendStatus, ...]
    default_backend: str | None
    active_backend: str | None = None

    @property
    def devices(self) -> tuple[Device, ...]:
        """The devices of the backend a run here would use (the active one, else the default).

        Example:
            >>> BackendReport("1.0", "3.12.0", (), None).devices
            ()
        """
        chosen = self.active_backend or self.default_backend
        for status in self.backends:
            if status.name == chosen and status.devices is not None:
                return status.devices
        return ()

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON data (``dlw info --json``).

        Example:
            >>> BackendReport("1.0", "3.12.0", (), None).to_dict()["devices"]
            []
        """
        data = asdict(self)
        data["backends"] = [
            {**asdict(status), "devices": None if status.devices is None else [asdict(d) for d in status.devices]}
            for status in self.backends
        ]
        data["devices"] = [asdict(device) for device in self.devices]
        return data


def default_dense_backend(installed: Callable[[str], bool] = is_installed) -> str | None:
    """The backend ``train.backend = "auto"`` gives a dense model: the first installed of :data:`BACKENDS`.

    Example:
        >>> default_dense_backend(lambda name: name == "torch")
        'torch'
    """
    return next((backend for backend in BACKENDS if installed(backend)), None)


def _dlworkflow_version() -> str:
    try:
        return importlib.metadata.version("dlworkflow")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def backend_report(
    *, every_backend: bool = False, installed: Callable[[str], bool] = is_installed,
    ask: Callable[[str], tuple[Device, ...]] = visible_devices,
) -> BackendReport:
    """The backends, their versions and the devices they see, for ``dlw info``.

    Args:
        every_backend: Ask every installed backend for its devices (imports TensorFlow and
            PyTorch: seconds); by default only the active backend, else the default one.
        installed: Tells whether a backend is installed; tests pass a fake.
        ask: Lists a backend's devices; tests pass a fake.

    Returns:
        The report.

    Example:
        >>> backend_report(installed=lambda name: name == "jax", ask=lambda name: (Device("cpu", "cpu:0"),)).devices
        (Device(kind='cpu', name='cpu:0'),)
    """
    keras_module = sys.modules.get("keras")
    active = keras_module.backend.backend() if keras_module is not None else None
    default = default_dense_backend(installed)
    asked = {name for name in BACKENDS if every_backend or name == (active or default)}
    statuses = tuple(
        BackendStatus(
            name, present, installed_version(name) if present else None,
            ask(name) if present and name in asked else None,
        )
        for name in BACKENDS
        for present in [installed(name)]
    )
    return BackendReport(_dlworkflow_version(), platform.python_version(), statuses, default, active)
