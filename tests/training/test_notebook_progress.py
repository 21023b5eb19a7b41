"""The progress bar in a Jupyter kernel: one line redrawn through a display handle, no ipywidgets."""

from __future__ import annotations

import io
import warnings

from rich.console import Console

from dlworkflow.training.progress import EpochProgress, NotebookLine


class FakeHandle:
    def __init__(self, shown: list[str]):
        self.shown = shown

    def update(self, bundle, *, raw):
        assert raw
        self.shown.append(bundle["text/plain"])


class FakeDisplay:
    """IPython's display as a kernel answers it: a handle for a display id."""

    def __init__(self):
        self.shown: list[str] = []
        self.displays = 0

    def __call__(self, bundle, *, raw, display_id):
        assert raw and display_id is True
        self.displays += 1
        self.shown.append(bundle["text/plain"])
        return FakeHandle(self.shown)


def jupyter_console(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_jupyter=True, width=150)


def test_in_jupyter_the_bar_is_one_line_redrawn_in_place_without_a_rich_live_display():
    display, buffer = FakeDisplay(), io.StringIO()
    progress = EpochProgress(jupyter_console(buffer), label="weather", display=display)
    progress.set_params({"epochs": 3})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        progress.on_train_begin()
        for epoch in range(3):
            progress.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        progress.on_train_end()
    assert [str(warning.message) for warning in caught] == []  # rich's 'install "ipywidgets"' is not reached
    assert display.displays == 1 and buffer.getvalue() == ""
    assert display.shown[0].startswith("weather  " + "─" * 20 + "  epoch 0/3")
    assert display.shown[-1].startswith("weather  " + "━" * 20 + "  epoch 3/3  0:00:0")
    assert display.shown[-1].endswith("loss 0.3333")
    assert progress.last_description == "weather  epoch 3/3  loss 0.3333"


def test_quiet_in_jupyter_shows_nothing():
    display = FakeDisplay()
    progress = EpochProgress(jupyter_console(io.StringIO()), quiet=True, display=display)
    progress.set_params({"epochs": 2})
    progress.on_train_begin()
    progress.on_epoch_end(0, {"loss": 1.0})
    progress.on_train_end()
    assert display.shown == []


def test_the_line_redraws_at_most_every_interval_and_flushes_the_last_skipped_one():
    now = [0.0]
    display = FakeDisplay()
    line = NotebookLine(display, min_interval=0.25, clock=lambda: now[0])
    line.show("epoch 0")
    now[0] = 0.1
    line.show("epoch 1")  # too soon: kept for later
    now[0] = 0.2
    line.show("epoch 2")
    assert display.shown == ["epoch 0"]
    line.flush()
    line.flush()  # nothing left to draw
    now[0] = 0.3
    line.show("epoch 3")  # 0.1 s after the flush
    line.show("epoch 4", force=True)
    assert display.shown == ["epoch 0", "epoch 2", "epoch 4"]


def test_outside_a_kernel_display_gives_no_handle_and_the_line_does_not_fail():
    shown = []
    line = NotebookLine(lambda bundle, raw, display_id: shown.append(bundle["text/plain"]), min_interval=0)
    line.show("epoch 1")
    line.show("epoch 2")
    assert shown == ["epoch 1"]
