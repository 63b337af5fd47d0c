"""A private Docker engine (Debian's docker.io) that leaves the host as it found it.

Used by tools/node/images/build.sh (as a script: `python3 tools/node/dockerd.py [--data-root DIR]
-- CMD...` runs CMD with DOCKER_HOST set) and by the integration tests' testcontainers fixture
(tests/integration/docker_engine.py). Standard library only: the build script runs it with the
system Python.

The engine gets its own socket, exec root, pidfile and containerd under a temp dir, its own
bridge (on a /24 no other interface uses) and cgroup parent. It never touches the firewall or
forwarding: `--iptables=false --ip-forward=false --ip-masq=false` mean no DOCKER* chains, no
FORWARD policy DROP and no ip_forward change (which would cut the test node's pod->Service
traffic), and `--bridge` means no docker0; published ports still work through docker-proxy,
which is all testcontainers needs. So teardown has no host-wide setting to put back (and must
not: a kubelet node running beside it may have changed them meanwhile). It stops the daemon by
its PID and removes what is attributable to it: its children and processes naming its temp dir
(containerd, shims, docker-proxy) if any outlived it, mounts under its dirs, its bridge, its
cgroups, the temp dir.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DOCKERD = "/usr/sbin/dockerd"
# Each engine's bridge gets a /24 of this range that no other interface uses (pods get
# 10.244.0.0/16): two engines on one subnet would route to each other's containers.
BRIDGE_NETWORKS = "10.213.{}.1/24"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def available() -> str | None:
    """Why a private engine cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "not root (dockerd needs root)"
    if not Path(DOCKERD).exists():
        return "Debian's docker.io is not installed (make node installs it)"
    return None


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _quiet(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    return result.stdout


@dataclass
class Dockerd:
    """A running private engine; `env` is what a docker client needs to talk to it."""

    workdir: Path
    data_root: Path
    bridge: str
    cgroup_parent: str
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.workdir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log(self) -> Path:
        return self.workdir / "dockerd.log"

    def argv(self) -> list[str]:
        (self.workdir / "daemon.json").write_text("{}\n")
        return [
            DOCKERD,
            # An empty config file: nothing from /etc/docker/daemon.json leaks in.
            f"--config-file={self.workdir / 'daemon.json'}",
            f"--data-root={self.data_root}",
            f"--exec-root={self.workdir / 'exec'}",
            f"--pidfile={self.workdir / 'dockerd.pid'}",
            f"--host={self.host}",
            f"--bridge={self.bridge}",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            # The test machines run cgroup v1 without systemd as PID 1.
            "--exec-opt=native.cgroupdriver=cgroupfs",
            f"--cgroup-parent={self.cgroup_parent}",
            "--log-level=warn",
        ]


def _ping(path: Path) -> bool:
    """GET /_ping on the engine's Unix socket."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            response = http.client.HTTPResponse(sock)
            response.begin()
            return response.status == 200
        except OSError:
            return False


def _free_bridge_address(start: int) -> str:
    """The first 10.213.N.1/24, from N = `start` on, that no interface has an address in."""
    used = _quiet(["ip", "-4", "-o", "addr", "show"])
    for offset in range(256):
        address = BRIDGE_NETWORKS.format((start + offset) % 256)
        if f" {address.rsplit('.', 1)[0]}." not in used:
            return address
    raise RuntimeError("no free /24 left in 10.213.0.0/16 for a dockerd bridge")


def _start(engine: Dockerd) -> None:
    _quiet(["ip", "link", "add", "name", engine.bridge, "type", "bridge"])
    address = _free_bridge_address(os.getpid())
    subprocess.run(
        ["ip", "addr", "add", address, "dev", engine.bridge], check=True, capture_output=True
    )
    subprocess.run(["ip", "link", "set", engine.bridge, "up"], check=True, capture_output=True)
    with engine.log.open("wb") as log:
        engine.process = subprocess.Popen(
            engine.argv(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not _ping(engine.socket):
        if engine.process.poll() is not None or time.monotonic() > deadline:
            tail = engine.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"dockerd did not start (exit {engine.process.poll()}):\n{tail}")
        time.sleep(0.2)
    engine.env = {"DOCKER_HOST": engine.host}


def _stop_daemon(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def _leftover_processes(marker: str) -> list[int]:
    """Our managed containerd and its shims: every process whose command line names our dir."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
    return pids


def _children(parent: int) -> dict[int, bytes]:
    """The daemon's children (docker-proxy's command line does not name our dir), with their
    start times, so that a PID the kernel has reused meanwhile is left alone."""
    children = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = entry.read_bytes()
            if int(stat.rsplit(b")", 1)[1].split()[1]) == parent:
                children[int(entry.parent.name)] = stat.rsplit(b")", 1)[1].split()[19]
    return children


def _still_running(pid: int, started: bytes) -> bool:
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[19] == started
    return False


def _kill_leftovers(marker: str, children: dict[int, bytes]) -> None:
    survivors = [pid for pid, started in children.items() if _still_running(pid, started)]
    for pid in [*survivors, *_leftover_processes(marker)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _leftover_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.1)


def _unmount_under(*roots: Path) -> None:
    """Overlay, shm and netns mounts a killed engine can leave, deepest first."""
    prefixes = tuple(str(root) for root in roots)
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo]
    for point in sorted(set(points), key=len, reverse=True):
        if point.startswith(prefixes):
            _quiet(["umount", "-l", point])


def _remove_cgroups(parent: str) -> None:
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        group = hierarchy / parent.strip("/")
        if not group.is_dir():
            continue
        for child in sorted(group.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if child.is_dir():
                with contextlib.suppress(OSError):
                    child.rmdir()
        with contextlib.suppress(OSError):
            group.rmdir()


def _teardown(engine: Dockerd, own_data_root: bool) -> None:
    children = _children(engine.process.pid) if engine.process else {}
    _stop_daemon(engine.process)
    _kill_leftovers(str(engine.workdir), children)
    _unmount_under(engine.workdir, engine.data_root)
    if _link_exists(engine.bridge):
        _quiet(["ip", "link", "delete", engine.bridge])
    _remove_cgroups(engine.cgroup_parent)
    shutil.rmtree(engine.workdir, ignore_errors=True)
    if own_data_root:
        shutil.rmtree(engine.data_root, ignore_errors=True)


@contextlib.contextmanager
def private_dockerd(data_root: Path | None = None) -> Iterator[Dockerd]:
    """A running engine until the end of the block. Without `data_root`, images and containers
    live in a temp dir removed afterwards; with it, they persist there (a build cache)."""
    reason = available()
    if reason:
        raise RuntimeError(f"cannot run a private dockerd: {reason}")
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-platform-dockerd-"))
    # Interface names are at most 15 characters; the PID keeps concurrent engines apart.
    tag = f"{os.getpid() % 10**8}"
    engine = Dockerd(
        workdir=workdir,
        data_root=data_root or workdir / "data",
        bridge=f"mlfpd{tag}",
        cgroup_parent=f"/mlflow-platform-dockerd-{tag}",
    )
    try:
        _start(engine)
        yield engine
    finally:
        _teardown(engine, own_data_root=data_root is None)


def _raise_on_term(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, help="keep images here (default: a temp dir)")
    parser.add_argument("command", nargs="+", help="run with DOCKER_HOST set, after --")
    args = parser.parse_args(argv)
    # A TERM (e.g. from a timeout) unwinds like Ctrl-C, so the engine is still torn down.
    signal.signal(signal.SIGTERM, _raise_on_term)
    data_root = args.data_root.resolve() if args.data_root else None
    with private_dockerd(data_root) as engine:
        started = time.monotonic()
        print(f"dockerd up at {engine.host}", flush=True)
        result = subprocess.run(args.command, env={**os.environ, **engine.env}, check=False)
        print(f"command done in {time.monotonic() - started:.0f}s; stopping dockerd", flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
