"""Run untrusted symbolic work in a child process that is killed at a deadline.

SymPy can spend unbounded time (``simplify((a+…+h)**100)``) or memory on valid input,
and some of its C-level big-number code cannot be interrupted by a signal. So the work
runs in a child process: the parent waits for the result until the deadline and then
kills the child (SIGKILL, which nothing can ignore). The child also limits itself with
``RLIMIT_AS`` (address space) and ``RLIMIT_CPU`` (CPU seconds), so runaway memory fails
as a ``MemoryError`` inside the child instead of swapping the machine.

The child is forked where the platform allows it: forking costs a few milliseconds,
inherits the already imported SymPy, and passes ``fn`` and its arguments without
pickling them. Elsewhere (Windows) the "spawn" start method is used, and then ``fn``
and its arguments must be picklable. In both cases the *result* travels back pickled,
so it must be picklable (plain data is best). Every child is joined, so none is left
behind as a zombie.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import pickle
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .errors import GradgraphError

DEFAULT_TIMEOUT = 3.0
DEFAULT_MEMORY_MB = 1024
FORK_AVAILABLE = "fork" in mp.get_all_start_methods()


class SandboxError(GradgraphError):
    """The sandboxed work could not finish (base class)."""


class SandboxTimeout(SandboxError):
    """The work ran past its deadline and was killed."""

    def __init__(self, seconds: float):
        super().__init__(f"the work took too long (more than {_seconds(seconds)})")
        self.seconds = seconds

    def __reduce__(self) -> tuple[type, tuple[float]]:
        return (type(self), (self.seconds,))


class SandboxLimitError(SandboxError):
    """The work hit the memory or CPU limit, or the child process died."""


class SoftTimeout(Exception):  # noqa: N818 - raised inside the work, never to users
    """A part of the work ran past the share of the deadline given to it."""


@contextmanager
def soft_deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`SoftTimeout` in the block after ``seconds`` (SIGALRM: main thread
    of a POSIX process, such as a sandbox child; elsewhere the block is not cut short,
    and the hard deadline still holds). For a step whose result is optional (a proof,
    a reveal text), so that running late costs that step, not the whole check."""
    usable = hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        if seconds <= 0:
            raise SoftTimeout
        yield
        return

    def alarm(signum: int, frame: Any) -> None:  # noqa: ARG001
        raise SoftTimeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run(fn: Callable[..., Any], args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None, *, timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int | None = DEFAULT_MEMORY_MB, cpu_seconds: float | None = None) -> Any:
    """``fn(*args, **kwargs)`` in a child process; its return value, or an error.

    ``timeout`` is the wall-clock deadline in seconds; ``memory_mb`` the memory the
    child may allocate beyond what it inherits (``None``: no limit); ``cpu_seconds``
    its CPU time (default: the deadline rounded up, plus one second). An exception
    raised by ``fn`` is raised again here when it can be pickled (else a
    :class:`SandboxError` carrying its text). Raises :class:`SandboxTimeout` at the
    deadline and :class:`SandboxLimitError` when a limit stops the child.
    """
    if not timeout > 0:
        raise ValueError("timeout must be positive")
    cpu = cpu_seconds if cpu_seconds is not None else math.ceil(timeout) + 1
    ctx = mp.get_context("fork" if FORK_AVAILABLE else "spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, daemon=True,
                       args=(sender, fn, tuple(args), dict(kwargs or {}), memory_mb, cpu))
    try:
        _start(proc)
    except Exception as e:  # spawn could not pickle fn or its arguments
        receiver.close()
        sender.close()
        raise SandboxError(f"cannot start the worker process: {e}") from None
    sender.close()  # keep only the child's copy, so EOF means the child is gone
    try:
        message = _wait(receiver, proc, timeout)
    finally:
        receiver.close()
        exitcode = _reap(proc)
    return _unpack(message, exitcode)


def _start(proc: mp.process.BaseProcess) -> None:
    # Python 3.12+ warns when forking a process that has threads (e.g. BLAS pools), and so
    # does JAX once imported (its own at-fork hook); the child only runs Python code,
    # SymPy and numpy, and never calls into JAX, so it takes none of their locks.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called",
                                category=RuntimeWarning)
        proc.start()


def _wait(receiver: Any, proc: mp.process.BaseProcess, timeout: float) -> Any:
    """The child's message, or None if it died without one; raises at the deadline."""
    if not receiver.poll(timeout):
        proc.kill()
        raise SandboxTimeout(timeout)
    try:
        return receiver.recv()
    except (EOFError, OSError):
        return None  # the child died before or while sending
    except Exception as e:  # noqa: BLE001 - a result that cannot be unpickled
        return ("error", SandboxError(f"the worker's result could not be read: {e}"))


def _reap(proc: mp.process.BaseProcess) -> int | None:
    """Make sure the child is gone and waited for (no zombie); its exit code."""
    proc.join(1.0)
    if proc.is_alive():
        proc.kill()
        proc.join()
    code = proc.exitcode
    proc.close()
    return code


def _unpack(message: Any, exitcode: int | None) -> Any:
    if message is None:
        raise SandboxLimitError(_death(exitcode))
    kind, payload = message
    if kind == "ok":
        return payload
    raise payload


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        sig = -exitcode
        if sig == getattr(signal, "SIGXCPU", None):
            return "the work used more CPU time than allowed"
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        return f"the worker process was stopped by {name} (a memory or CPU limit?)"
    return "the worker process ended without a result (a memory limit?)"


def _child(sender: Any, fn: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any], memory_mb: int | None, cpu: float) -> None:
    """Body of the child process: set limits, run, send ("ok", value) or ("error", exc)."""
    _set_limits(memory_mb, cpu)
    try:
        message: tuple[str, Any] = ("ok", fn(*args, **kwargs))
    except MemoryError:
        message = ("error", SandboxLimitError("the work needed more memory than allowed"))
    except RecursionError:
        message = ("error", SandboxLimitError("the work nested too deeply (recursion limit)"))
    except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
        message = ("error", e)
    _send(sender, message)
    sender.close()
    os._exit(0)  # skip the inherited atexit handlers and buffers of the parent


def _send(sender: Any, message: tuple[str, Any]) -> None:
    try:
        data = pickle.dumps(message)
    except Exception as e:  # noqa: BLE001 - an unpicklable result or exception
        kind, payload = message
        what = "result" if kind == "ok" else f"{type(payload).__name__}: {payload}"
        data = pickle.dumps(("error", SandboxError(f"the worker's {what} cannot be sent "
                                                   f"back ({e})")))
    try:
        sender.send_bytes(data)
    except OSError:
        pass  # the parent stopped listening (deadline); nothing to do


def _set_limits(memory_mb: int | None, cpu: float) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX; the deadline still holds
        return
    # A CPU-time overrun ends the child with SIGXCPU, whose default action is to stop it.
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    _limit(resource, resource.RLIMIT_CPU, max(1, math.ceil(cpu)), extra=1)
    mapped = _address_space()
    if memory_mb is not None and mapped and hasattr(resource, "RLIMIT_AS"):
        # The forked child already maps everything the parent had; allow that much more.
        _limit(resource, resource.RLIMIT_AS, mapped + memory_mb * 2**20)


def _limit(resource: Any, which: int, soft: int, extra: int = 0) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    new_hard = hard if hard != resource.RLIM_INFINITY else soft + extra
    try:
        resource.setrlimit(which, (soft, max(soft, new_hard)))
    except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS; the deadline still holds
        pass


def _address_space() -> int:
    """Bytes of address space this process maps now (0 where unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _seconds(seconds: float) -> str:
    return f"{seconds:g} s"
