"""The devices a backend reports (a fake backend module stands in for a GPU machine) and dlw info's report."""

from __future__ import annotations

import sys
import types

from dlworkflow.training.devices import (
    BackendReport,
    BackendStatus,
    Device,
    backend_report,
    visible_devices,
)


def test_jax_on_this_cpu_machine_sees_its_cpu() -> None:
    devices = visible_devices("jax")
    assert devices and all(device.kind == "cpu" for device in devices)
    assert devices[0].name == "cpu:0"


class _FakeJaxDevice:
    def __init__(self, index: int) -> None:
        self.platform, self.device_kind, self.id = "gpu", "NVIDIA H100 80GB HBM3", index

    def __str__(self) -> str:
        return f"cuda:{self.id}"


def test_gpus_of_a_fake_jax_are_named_with_their_hardware(monkeypatch) -> None:
    fake = types.SimpleNamespace(devices=lambda: [_FakeJaxDevice(0), _FakeJaxDevice(1)])
    monkeypatch.setitem(sys.modules, "jax", fake)
    assert visible_devices("jax") == (
        Device("gpu", "cuda:0 NVIDIA H100 80GB HBM3"), Device("gpu", "cuda:1 NVIDIA H100 80GB HBM3"),
    )


def test_a_fake_torch_with_cuda_reports_gpus(monkeypatch) -> None:
    cuda = types.SimpleNamespace(is_available=lambda: True, device_count=lambda: 1, get_device_name=lambda i: "A100")
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda, backends=types.SimpleNamespace()))
    assert visible_devices("torch") == (Device("gpu", "cuda:0 A100"),)


def test_unknown_backend_has_no_devices() -> None:
    assert visible_devices("numpy") == ()


def test_report_asks_only_the_default_backend_unless_told(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    asked: list[str] = []

    def ask(name: str) -> tuple[Device, ...]:
        asked.append(name)
        return (Device("gpu", f"{name}:0"),)

    report = backend_report(installed=lambda name: name != "torch", ask=ask)
    assert asked == ["jax"]
    assert report.default_backend == "jax" and report.active_backend is None
    assert report.devices == (Device("gpu", "jax:0"),)
    assert [(s.name, s.installed, s.devices is None) for s in report.backends] == [
        ("jax", True, False), ("tensorflow", True, True), ("torch", False, True),
    ]
    backend_report(every_backend=True, installed=lambda name: name != "torch", ask=ask)
    assert asked == ["jax", "jax", "tensorflow"]


def test_report_without_backends_has_no_default_and_no_devices(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    report = backend_report(installed=lambda name: False, ask=lambda name: (Device("cpu", "cpu:0"),))
    assert report.default_backend is None and report.devices == ()
    assert [s.version for s in report.backends] == [None, None, None]


def test_report_json_shape() -> None:
    report = BackendReport("1.0", "3.11.7", (BackendStatus("jax", True, "0.10.2", (Device("cpu", "cpu:0"),)),), "jax")
    assert report.to_dict() == {
        "dlworkflow": "1.0", "python": "3.11.7",
        "backends": [{"name": "jax", "installed": True, "version": "0.10.2", "devices": [{"kind": "cpu", "name": "cpu:0"}]}],
        "default_backend": "jax", "active_backend": None, "devices": [{"kind": "cpu", "name": "cpu:0"}],
    }
