"""What a real node changes on the host, recorded before and put back after.

The node fixture (tests/engine/node.py) runs as root on a developer's machine too, so it leaves
nothing behind: firewall rules and chains (kubelet, kube-proxy, the CNI plugins), nftables
tables, kernel settings (the kubelet and kube-proxy tune some), its address, its bridge and the
pods' links, mounts (pod volumes, network namespaces, container root filesystems) and cgroups
(pods, containers). Links, mounts and cgroups are removed only where they are the node's own (its
bridge, its directory, `kubepods`), so whatever else started meanwhile (a Docker engine of the
workload tests, say) is left alone.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The CNI plugins' network namespaces: a bind mount on a file here each.
NETNS = Path("/run/netns")
# The kubelet links every container's log from here, wherever its podLogsDir is.
CONTAINER_LOG_LINKS = Path("/var/log/containers")
# Kernel settings the kubelet (protectKernelDefaults: false), kube-proxy, the CNI bridge and
# dockerd may change.
SYSCTLS = (
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables",
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _quiet(*cmd: str) -> None:
    subprocess.run(cmd, capture_output=True, check=False)


def _mounts() -> list[str]:
    return [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]


def _netns() -> set[str]:
    return {p.name for p in NETNS.iterdir()} if NETNS.exists() else set()


def _links() -> set[str]:
    return {p.name for p in Path("/sys/class/net").iterdir()}


def _nft_tables() -> set[str]:
    lines = _run("nft", "list", "tables").splitlines()
    return {line.removeprefix("table ").strip() for line in lines if line.startswith("table ")}


def _cgroup_dirs() -> set[Path]:
    """Every cgroup directory, all hierarchies (v1 controllers and the unified one)."""
    found: set[Path] = set()
    for hierarchy in CGROUP_ROOT.iterdir():
        if hierarchy.is_dir() and not hierarchy.is_symlink():
            for path, dirs, _ in os.walk(hierarchy):
                found.update(Path(path) / d for d in dirs)
    return found


@dataclass(frozen=True)
class Owned:
    """What counts as the node's: its directory, its bridge."""

    directory: Path
    bridge: str

    def mount(self, path: str) -> bool:
        return path.startswith((f"{self.directory}/", f"{NETNS}/cni-"))

    def log_link(self, path: Path) -> bool:
        return path.is_symlink() and str(path.readlink()).startswith(f"{self.directory}/")

    def link(self, name: str) -> bool:
        master = Path("/sys/class/net") / name / "master"
        return name == self.bridge or (master.exists() and master.resolve().name == self.bridge)

    @staticmethod
    def cgroup(path: Path) -> bool:
        # The kubelet's cgroupfs driver puts every pod (and its containers) under `kubepods`.
        return "kubepods" in path.parts


@dataclass
class HostState:
    iptables: str
    ip6tables: str
    nft_tables: set[str]
    sysctls: dict[str, str]
    links: set[str]
    mounts: list[str]
    cgroups: set[Path]
    netns: set[str]
    owned: Owned
    added_addresses: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def record(cls, owned: Owned) -> HostState:
        return cls(
            owned=owned,
            iptables=_run("iptables-save"),
            ip6tables=_run("ip6tables-save"),
            nft_tables=_nft_tables(),
            sysctls={
                name: (Path("/proc/sys") / name).read_text()
                for name in SYSCTLS
                if (Path("/proc/sys") / name).exists()
            },
            links=_links(),
            mounts=_mounts(),
            cgroups=_cgroup_dirs(),
            netns=_netns(),
        )

    def add_address(self, cidr: str, link: str) -> None:
        existing = _run("ip", "-o", "addr", "show", "dev", link)
        if f" {cidr} " not in existing:
            _run("ip", "addr", "add", cidr, "dev", link)
            self.added_addresses.append((cidr, link))

    def restore(self) -> None:
        """Undo in dependency order; each step runs even if an earlier one failed."""
        for step in (
            self._unmount,
            self._remove_cgroups,
            self._remove_log_links,
            self._remove_links,
            self._restore_firewall,
            self._restore_sysctls,
            self._remove_addresses,
        ):
            with contextlib.suppress(Exception):
                step()

    def _unmount(self) -> None:
        before = set(self.mounts)
        for mount in reversed(_mounts()):
            if mount not in before and self.owned.mount(mount):
                _quiet("umount", "-l", mount)
        for name in _netns() - self.netns:
            if not name.startswith("cni-"):
                continue
            with contextlib.suppress(OSError):
                (NETNS / name).unlink()

    def _remove_cgroups(self) -> None:
        # Deepest first: a cgroup directory goes only once its children have.
        new = [p for p in _cgroup_dirs() - self.cgroups if self.owned.cgroup(p)]
        for path in sorted(new, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                path.rmdir()

    def _remove_log_links(self) -> None:
        if CONTAINER_LOG_LINKS.exists():
            for path in CONTAINER_LOG_LINKS.iterdir():
                if self.owned.log_link(path):
                    path.unlink()

    def _remove_links(self) -> None:
        # The pods' links first (they name the bridge as master), then the bridge.
        new = sorted(_links() - self.links, key=lambda name: name == self.owned.bridge)
        for link in [name for name in new if self.owned.link(name)]:
            _quiet("ip", "link", "delete", link)

    def _restore_firewall(self) -> None:
        # iptables-restore replaces each table it names, custom chains included.
        subprocess.run(["iptables-restore"], input=self.iptables, text=True, check=True)
        subprocess.run(["ip6tables-restore"], input=self.ip6tables, text=True, check=True)
        for table in _nft_tables() - self.nft_tables:
            _quiet("nft", "delete", "table", *table.split())

    def _restore_sysctls(self) -> None:
        for name, value in self.sysctls.items():
            with contextlib.suppress(OSError):
                (Path("/proc/sys") / name).write_text(value)

    def _remove_addresses(self) -> None:
        for cidr, link in self.added_addresses:
            _quiet("ip", "addr", "del", cidr, "dev", link)


@contextlib.contextmanager
def recorded_host(owned: Owned) -> Iterator[HostState]:
    """The host as it was, put back on exit (where the node changed it)."""
    state = HostState.record(owned)
    try:
        yield state
    finally:
        state.restore()
