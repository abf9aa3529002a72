"""The sandbox: results come back, runaways are killed at the deadline, nothing lingers."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

import pytest

from gradgraph import sandbox
from gradgraph.errors import GradgraphError
from gradgraph.sandbox import SandboxError, SandboxLimitError, SandboxTimeout

pytestmark = pytest.mark.skipif(not sandbox.FORK_AVAILABLE, reason="needs fork")


def _add(a: int, b: int, *, c: int = 0) -> int:
    return a + b + c


def _raise() -> None:
    raise ValueError("bad value in the child")


def _sleep_after_writing_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))
    time.sleep(60)


def _spin() -> None:
    while True:
        pass


def _c_level_power() -> int:
    # One long C call (big-integer power) that no Python signal handler can interrupt.
    return len(str(7 ** (10**8)))


def _allocate() -> int:
    return len(bytearray(4 * 2**30))


def _die() -> None:
    os._exit(3)


def _unpicklable() -> object:
    return lambda: None


def _pid() -> int:
    return os.getpid()


def _gone(pid: int) -> bool:
    """True once ``pid`` is neither running nor a zombie (Linux: no /proc entry)."""
    return not Path(f"/proc/{pid}").exists()


def test_result_comes_back() -> None:
    assert sandbox.run(_add, (2, 3), {"c": 4}) == 9


def test_errors_are_gradgraph_errors() -> None:
    assert issubclass(SandboxTimeout, GradgraphError)
    assert issubclass(SandboxLimitError, SandboxError)


def test_exception_in_the_child_is_raised_here() -> None:
    with pytest.raises(ValueError, match="bad value in the child"):
        sandbox.run(_raise)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_deadline_kills_and_reaps_the_child(tmp_path) -> None:
    pid_file = tmp_path / "pid"
    start = time.monotonic()
    with pytest.raises(SandboxTimeout, match=r"more than 0\.5 s"):
        sandbox.run(_sleep_after_writing_pid, (str(pid_file),), timeout=0.5)
    assert time.monotonic() - start < 2.0
    assert _gone(int(pid_file.read_text()))
    assert multiprocessing.active_children() == []


def test_c_level_work_is_killed_at_the_deadline() -> None:
    start = time.monotonic()
    with pytest.raises(SandboxTimeout):
        sandbox.run(_c_level_power, timeout=0.5)
    assert time.monotonic() - start < 2.0


def test_cpu_limit_stops_a_busy_child() -> None:
    start = time.monotonic()
    with pytest.raises(SandboxLimitError, match="CPU"):
        sandbox.run(_spin, timeout=30, cpu_seconds=1)
    assert time.monotonic() - start < 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux-only")
def test_memory_limit_stops_a_greedy_child() -> None:
    with pytest.raises(SandboxLimitError, match="memory"):
        sandbox.run(_allocate, memory_mb=256)


def test_a_child_that_dies_is_reported() -> None:
    with pytest.raises(SandboxLimitError):
        sandbox.run(_die)


def test_unpicklable_result_is_an_error() -> None:
    with pytest.raises(SandboxError, match="cannot be sent back"):
        sandbox.run(_unpicklable)


def test_bad_timeout_is_refused() -> None:
    with pytest.raises(ValueError):
        sandbox.run(_add, (1, 2), timeout=0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_no_zombies_after_many_runs() -> None:
    pids = [sandbox.run(_pid) for _ in range(10)]
    assert len(set(pids)) == 10 and os.getpid() not in pids
    assert all(_gone(p) for p in pids)
    assert multiprocessing.active_children() == []


def _soft_deadline_fires() -> bool:
    try:
        with sandbox.soft_deadline(0.1):
            while True:
                time.sleep(0.01)
    except sandbox.SoftTimeout:
        return True


def test_soft_deadline_cuts_a_step_short_in_the_child() -> None:
    assert sandbox.run(_soft_deadline_fires, timeout=5) is True


def test_soft_deadline_works_in_a_child_forked_from_a_thread() -> None:
    """The web tutor checks from a server thread: the forked child's one thread is its
    main thread, so SIGALRM still cuts a step short there."""
    import threading

    out: list[object] = []
    worker = threading.Thread(target=lambda: out.append(
        sandbox.run(_soft_deadline_fires, timeout=5)))
    worker.start()
    worker.join()
    assert out == [True]


def test_soft_deadline_with_no_time_left_raises_at_once() -> None:
    with pytest.raises(sandbox.SoftTimeout), sandbox.soft_deadline(0):
        pass  # pragma: no cover - not reached
