"""The stage clock: nested stages counted once, no clock no cost, one clock per context."""

from __future__ import annotations

import threading
import time

import pytest

from dlworkflow.stage_clock import StageClock, current, stage


def test_nested_stages_are_counted_in_the_innermost_one_only():
    clock = StageClock({"prepare": 1.0})
    with clock.active(), clock.measure("outer"):
        time.sleep(0.01)
        with stage("inner"):
            time.sleep(0.02)
        with stage("inner"):  # a stage entered again adds up
            time.sleep(0.02)
    assert list(clock.seconds) == ["prepare", "outer", "inner"]
    assert clock.seconds["inner"] >= 0.04
    assert 0.0 <= clock.seconds["outer"] < clock.seconds["inner"]  # the inner time is not counted twice
    assert sum(clock.seconds.values()) == pytest.approx(clock.covered)
    assert clock.with_total()["total"] == pytest.approx(clock.covered)


def test_without_an_active_clock_a_stage_measures_nothing_and_the_clock_is_reset():
    with stage("read"):
        pass
    assert current() is None
    clock = StageClock()
    with clock.active():
        assert current() is clock
    assert current() is None


def test_a_stage_that_raises_is_still_counted():
    clock = StageClock()
    with pytest.raises(ValueError), clock.active(), stage("read"):
        raise ValueError("bad file")
    assert clock.seconds["read"] >= 0.0 and current() is None


def test_another_thread_does_not_see_the_active_clock():
    clock = StageClock()
    seen = []
    with clock.active():
        thread = threading.Thread(target=lambda: seen.append(current()))
        thread.start()
        thread.join()
    assert seen == [None]
