"""The numbers of `make bench-serve` and how they are reported: settings from the environment,
percentiles, ratios to the baseline and the table. No I/O, so tests/test_bench_serve.py checks
the arithmetic without running a server.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

MiB = 2**20


@dataclass(frozen=True)
class Settings:
    runs: int  # seeded runs that search_runs pages through
    history_points: int  # steps of the metric whose history is read
    clients: int  # concurrent log_batch clients
    seconds: float  # how long the log_batch clients run
    samples: int  # sequential search_runs and get-history calls
    artifact_mib: tuple[int, ...]  # sizes uploaded then downloaded
    stacks: tuple[str, ...]  # whose rendered servers run (dev's also with the login variants)
    login_off: bool  # also run the dev server without its login
    metrics_per_batch: int = 10


FULL = Settings(
    runs=10_000,
    history_points=2_000,
    clients=8,
    seconds=20,
    samples=40,
    artifact_mib=(100, 1100),
    stacks=("local", "dev", "prod"),
    login_off=True,
)
QUICK = replace(FULL, seconds=2, samples=5, artifact_mib=(4, 16), stacks=("dev",), login_off=False)


def settings(env: Mapping[str, str]) -> Settings:
    """FULL, or QUICK with BENCH_QUICK=1; BENCH_ARTIFACT_MIB ("100,1100"), BENCH_RUNS,
    BENCH_SECONDS and BENCH_SAMPLES override either."""
    base = QUICK if env.get("BENCH_QUICK", "") not in ("", "0") else FULL
    sizes = env.get("BENCH_ARTIFACT_MIB")
    return Settings(
        runs=int(env.get("BENCH_RUNS", base.runs)),
        history_points=base.history_points,
        clients=base.clients,
        seconds=float(env.get("BENCH_SECONDS", base.seconds)),
        samples=int(env.get("BENCH_SAMPLES", base.samples)),
        artifact_mib=tuple(int(s) for s in sizes.split(",")) if sizes else base.artifact_mib,
        stacks=base.stacks,
        login_off=base.login_off,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the two nearest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mib_per_s(size: int, seconds: float) -> float:
    return size / MiB / seconds


def ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline, or None when either is missing or the baseline is zero."""
    if value is None or not baseline:
        return None
    return value / baseline


@dataclass
class Result:
    """One server configuration's figures. Latencies in seconds, throughputs per second."""

    name: str
    workers: int
    log_batch: float = 0.0  # successful calls per second, all clients together
    log_batch_errors: int = 0
    worker_kills: int = 0  # workers the supervisor found unresponsive and replaced
    search: list[float] = field(default_factory=list)
    history: list[float] = field(default_factory=list)
    upload: dict[int, float] = field(default_factory=dict)  # MiB -> MiB/s
    download: dict[int, float] = field(default_factory=dict)
    peak_memory_mib: float = 0.0
    ready_s: float = 0.0  # from the server's start to its first healthy answer
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after

    def metrics(self) -> dict[str, float | None]:
        """Every reported figure by column name (None when not measured)."""
        row: dict[str, float | None] = {"log_batch/s": self.log_batch}
        for label, samples in (("search", self.search), ("history", self.history)):
            row[f"{label} p50 ms"] = percentile(samples, 50) * 1000 if samples else None
            row[f"{label} p95 ms"] = percentile(samples, 95) * 1000 if samples else None
        for size, value in self.upload.items():
            row[f"up {size} MiB/s"] = value
        for size, value in self.download.items():
            row[f"down {size} MiB/s"] = value
        row["peak PSS MiB"] = self.peak_memory_mib
        row["ready s"] = self.ready_s
        return row


def cell(value: float | None, baseline: float | None, is_baseline: bool) -> str:
    if value is None:
        return "-"
    number = f"{value:.1f}" if value < 1000 else f"{value:.0f}"
    relative = ratio(value, baseline)
    if is_baseline or relative is None:
        return number
    return f"{number} ({relative:.2f}x)"


def table(results: Sequence[Result]) -> str:
    """One row per figure, one column per configuration; each cell after the first is also
    given as a ratio to the first (the baseline). Throughput: above 1x is better; latency and
    memory: below 1x is better."""
    if not results:
        return ""
    baseline = results[0].metrics()
    names = list(baseline)
    for result in results[1:]:
        names += [n for n in result.metrics() if n not in names]
    header = ["", *(f"{r.name} ({r.workers}w)" for r in results)]
    rows = [header]
    for name in names:
        rows.append(
            [name]
            + [
                cell(r.metrics().get(name), baseline.get(name), i == 0)
                for i, r in enumerate(results)
            ]
        )
    rows.append(["log_batch errors", *(str(r.log_batch_errors) for r in results)])
    rows.append(["worker kills", *(str(r.worker_kills) for r in results)])
    rows.append(["load 1m", *(f"{r.load[0]:.2f}->{r.load[1]:.2f}" for r in results)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
