"""A deadline for an engine operation on the real node, with the cluster's story when it is missed.

Without one, a pod that never becomes ready makes `pulumi up` wait out pytest's whole timeout, and
the failure shows only thread stacks. Here the operation gets a deadline well inside that timeout;
when it passes, the report (what Pulumi last said, the pods that are not ready and why, the latest
warning events, the node agents' last errors) is printed at once and the Pulumi CLI is interrupted
as Ctrl-C would (it cancels, and the stack stays unlocked), so the test fails with the report.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.engine.controlplane import ControlPlane

# After Ctrl-C the CLI cancels its providers' waits; past this it is killed.
CANCEL_GRACE_SECONDS = 60


class Overdue(AssertionError):
    """The operation missed its deadline; the message is the cluster's report."""


class Progress:
    """The last lines the Pulumi CLI printed (`on_output` of an Automation API call)."""

    def __init__(self, keep: int = 25) -> None:
        self.lines: deque[str] = deque(maxlen=keep)

    def __call__(self, line: str) -> None:
        self.lines.append(line.rstrip())


def _container_story(status: dict[str, Any]) -> str:
    state = status.get("state", {})
    for kind in ("waiting", "terminated"):
        if kind in state:
            detail = state[kind]
            message = (detail.get("message") or "")[:200]
            return f"{status['name']} {kind} {detail.get('reason', '')} {message}".rstrip()
    ready = "ready" if status.get("ready") else "running, not ready"
    return f"{status['name']} {ready}, {status.get('restartCount', 0)} restarts"


def unready_pods(plane: ControlPlane) -> list[str]:
    """Each pod that is not Ready, with each container's state (or the pod's condition)."""
    lines = []
    for pod in plane.api("GET", "/api/v1/pods")["items"]:
        meta, status = pod["metadata"], pod.get("status", {})
        conditions = {c["type"]: c for c in status.get("conditions", [])}
        if conditions.get("Ready", {}).get("status") == "True" or status.get("phase") in (
            "Succeeded",
        ):
            continue
        containers = status.get("initContainerStatuses", []) + status.get("containerStatuses", [])
        story = "; ".join(_container_story(c) for c in containers) or next(
            (
                f"{c['type']}: {c.get('message', '')}"
                for c in conditions.values()
                if c["status"] != "True"
            ),
            "no status yet",
        )
        lines.append(f"{meta['namespace']}/{meta['name']} {status.get('phase')}: {story}")
    return lines


def warning_events(plane: ControlPlane, keep: int = 15) -> list[str]:
    events = [e for e in plane.api("GET", "/api/v1/events")["items"] if e.get("type") == "Warning"]
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [
        f"{e['involvedObject'].get('namespace', '')}/{e['involvedObject'].get('name', '')} "
        f"{e.get('reason', '')} x{e.get('count', 1)}: {(e.get('message') or '')[:200]}"
        for e in events[-keep:]
    ]


def agent_errors(logs: Path, keep: int = 8) -> list[str]:
    """The last error lines of each node agent's log (klog's `E` lines, containerd's errors)."""
    lines = []
    for log in sorted(logs.glob("*.log")):
        with contextlib.suppress(OSError):
            text = log.read_text(errors="replace").splitlines()
            errors = [line for line in text if line.startswith("E") or "level=error" in line]
            lines += [f"{log.stem}: {line[:240]}" for line in errors[-keep:]]
    return lines


def cluster_report(plane: ControlPlane, logs: Path, progress: Progress) -> str:
    sections: list[tuple[str, Callable[[], list[str]]]] = [
        ("Pulumi's last lines", lambda: list(progress.lines)),
        ("pods not ready", lambda: unready_pods(plane)),
        ("latest warning events", lambda: warning_events(plane)),
        ("node agents' last errors", lambda: agent_errors(logs)),
    ]
    text = []
    for title, read in sections:
        try:
            body = read() or ["(none)"]
        except Exception as error:  # the report must not hide the failure it reports
            body = [f"(could not read: {error})"]
        text += [f"--- {title}:", *(f"  {line}" for line in body)]
    return "\n".join(text)


def _pulumi_children() -> list[int]:
    """The Pulumi CLIs this process started (the Automation API runs them as children)."""
    me, found = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            parent = int(text[text.rindex(")") + 2 :].split()[1])
            if parent == me and name == "pulumi":
                found.append(int(stat.parent.name))
    return found


def _interrupt_pulumi() -> None:
    for sig, wait in ((signal.SIGINT, CANCEL_GRACE_SECONDS), (signal.SIGKILL, 0)):
        children = _pulumi_children()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while children and time.monotonic() < deadline:
            time.sleep(1)
            children = _pulumi_children()
        if not children:
            return


@contextlib.contextmanager
def deadline(seconds: float, what: str, plane: ControlPlane, logs: Path) -> Iterator[Progress]:
    """Run an engine operation (pass the yielded Progress as its `on_output`) for at most
    `seconds`; past that, report and interrupt it, and raise Overdue with the report."""
    progress = Progress()
    report: list[str] = []

    def overdue() -> None:
        report.append(
            f"{what} still running after {seconds:.0f} s\n" + cluster_report(plane, logs, progress)
        )
        print(report[0], flush=True)
        _interrupt_pulumi()

    timer = threading.Timer(seconds, overdue)
    timer.daemon = True
    timer.start()
    try:
        yield progress
    except Exception as error:
        if report:
            raise Overdue(report[0]) from error
        raise
    finally:
        timer.cancel()
    if report:
        raise Overdue(report[0])
