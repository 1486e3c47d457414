"""The index's worker processes run at the priority of the process that asked (a niced
worker gets next to no CPU on a busy machine, and can never be raised again), and are
stopped while that process answers a request (`GATE.hold`)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

from scopewise.index.gate import GATE, WorkerGate
from scopewise.index.workspace import IndexStats, WorkspaceIndex

FILES = 96


def workspace(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    for i in range(FILES):
        (root / "pkg" / f"m{i}.py").write_text(
            "".join(f"def f{i}_{j}(x):\n    return x + {j}\n\n\n" for j in range(30))
        )
    return root


def descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    kids = {int(c) for c in fh.read().split()}
            except OSError:
                continue
            todo.extend(kids - out)
            out |= kids
    return out


def stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields from the state on (field 3 is item 0)."""
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()


def niceness(pid: int) -> int:
    return int(stat(pid)[16])


def started(pids: set[int]) -> set[int]:
    """The index's workers among pids: the processes the fork server forked."""
    out = set()
    for p in pids:
        try:
            with open(f"/proc/{p}/cmdline", "rb") as fh:
                forked = b"forkserver" in fh.read()
            if forked and int(stat(p)[1]) != os.getpid():
                out.add(p)
        except OSError:
            continue
    return out


def test_workers_run_at_normal_priority_and_stop_while_a_request_is_answered(
    tmp_path: Path,
) -> None:
    w = WorkspaceIndex(workspace(tmp_path / "w"), use_cache=False)
    progress: list[int] = []
    result: list[IndexStats] = []
    build = threading.Thread(
        target=lambda: result.append(w.build(lambda d, _: progress.append(d), workers=2))
    )
    with GATE.hold():  # a request being answered
        build.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(started(descendants(os.getpid()))) < 2:
            time.sleep(0.05)
        workers = started(descendants(os.getpid()))
        assert len(workers) >= 2
        time.sleep(1.0)
        assert {niceness(p) for p in workers} == {os.getpriority(os.PRIO_PROCESS, 0)}
        assert not any(progress), "a worker parsed while a request was being answered"
        assert {stat(p)[0] for p in workers} == {"T"}  # stopped: the CPU is the request's
    assert {stat(p)[0] for p in workers} <= {"R", "S", "D"}  # and running again
    build.join(60)
    assert result and result[0].files == FILES and result[0].parsed == FILES


def test_a_pool_released_while_a_stopped_worker_waits_on_the_gate_does_not_hang() -> None:
    """A worker asleep on the pool's event, stopped while a request holds the gate, and the
    pool released (a build that ended early): the release returns at once, and the request's
    hold ends (the worker is continued before the event is set, or set() would wait for
    a sleeper that cannot wake, the gate's lock held)."""
    ctx = multiprocessing.get_context("fork")
    gate = WorkerGate()
    with gate.hold():
        ev = gate.event(ctx)  # cleared: the gate is held
        worker = ctx.Process(target=ev.wait)
        worker.start()
        try:
            time.sleep(0.3)  # asleep on the event
            gate.stoppable([worker.pid or 0])  # and stopped, as a registered worker is
            releasing = threading.Thread(target=gate.release, args=(ev, [worker.pid or 0]))
            releasing.start()
            releasing.join(5)
            hung = releasing.is_alive()
            if hung:  # let it go, so that the test fails rather than hangs
                os.kill(worker.pid or 0, signal.SIGCONT)
                releasing.join(5)
            assert not hung, "release waited on a stopped worker"
        finally:
            worker.join(5)
            if worker.is_alive():
                worker.kill()
    assert worker.exitcode == 0
