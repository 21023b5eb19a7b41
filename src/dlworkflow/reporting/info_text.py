"""The terminal's view of ``dlw info``: versions, the Keras backends and the devices they see.

Example:
    >>> from dlworkflow.plain_text import PlainConsole
    >>> render_info(PlainConsole(), backend_report())  # doctest: +SKIP
    dlworkflow 0.1.0 · Python 3.11.7
    jax         0.10.2  default for dense models · cpu:0 (cpu)
    tensorflow  2.21.0  devices not asked (dlw info --devices)
    torch       not installed
    a run here trains on: cpu:0 (cpu)
"""

from __future__ import annotations

from rich.console import Console

from dlworkflow.training.devices import BackendReport, Device


def _devices_text(devices: tuple[Device, ...]) -> str:
    return ", ".join(f"{device.name} ({device.kind})" for device in devices) or "no devices"


def render_info(out: Console, report: BackendReport) -> None:
    """Print a :class:`~dlworkflow.training.devices.BackendReport`, one line per backend.

    Args:
        out: Where to print (a :class:`~dlworkflow.plain_text.PlainConsole`).
        report: What ``dlw info`` found.
    """
    out.print(f"dlworkflow {report.dlworkflow} · Python {report.python}")
    width = max(len(status.name) for status in report.backends) if report.backends else 0
    for status in report.backends:
        if not status.installed:
            out.print(f"{status.name:<{width}}  not installed")
            continue
        notes = []
        if status.name == report.active_backend:
            notes.append("active in this process")
        if status.name == report.default_backend:
            notes.append("default for dense models")
        notes.append("devices not asked (dlw info --devices)" if status.devices is None
                     else _devices_text(status.devices))
        out.print(f"{status.name:<{width}}  {status.version}  " + " · ".join(notes), soft_wrap=True)
    chosen = report.active_backend or report.default_backend
    if chosen is None:
        out.print("no Keras backend is installed: `pip install jax` (or tensorflow-cpu)")
    else:
        out.print(f"a dense model here trains with {chosen} on: {_devices_text(report.devices)}", soft_wrap=True)
    if not any(device.kind != "cpu" for device in report.devices):
        out.print('no GPU seen; on a GPU machine: pip install -c constraints.txt ".[cuda]"', soft_wrap=True)
