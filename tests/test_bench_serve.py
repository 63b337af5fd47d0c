"""The arithmetic and formatting of `make bench-serve` (tests/bench): no server, no timing."""

from __future__ import annotations

import configparser

import pytest

from tests.bench.serve import (
    cache_ttl,
    cores_for,
    killed_workers,
    with_cache_ttl,
    worker_count,
    worker_pids,
)
from tests.bench.serve_report import (
    FULL,
    QUICK,
    MiB,
    Result,
    cell,
    mib_per_s,
    percentile,
    ratio,
    settings,
    table,
)


def test_percentiles_interpolate_between_ranks() -> None:
    samples = [0.4, 0.1, 0.3, 0.2, 0.5]
    assert percentile(samples, 50) == 0.3
    assert percentile(samples, 0) == 0.1 and percentile(samples, 100) == 0.5
    # 95th of five values: 95% of the way from the 4th (0.4) to the 5th (0.5).
    assert percentile(samples, 95) == pytest.approx(0.48)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_throughput_and_ratios() -> None:
    assert mib_per_s(300 * MiB, 2.0) == 150.0
    assert ratio(30.0, 20.0) == 1.5
    assert ratio(None, 20.0) is None and ratio(3.0, 0.0) is None and ratio(3.0, None) is None
    assert cell(30.0, 20.0, is_baseline=False) == "30.0 (1.50x)"
    assert cell(20.0, 20.0, is_baseline=True) == "20.0"
    assert cell(2500.0, 1000.0, is_baseline=False) == "2500 (2.50x)"
    assert cell(None, 20.0, is_baseline=False) == "-"
    assert cell(5.0, None, is_baseline=False) == "5.0"


def _result(name: str, workers: int, scale: float) -> Result:
    return Result(
        name,
        workers,
        log_batch=40.0 * scale,
        search=[0.1, 0.2, 0.3],
        history=[0.05] * 3,
        upload={100: 200.0 * scale},
        download={100: 400.0},
        peak_memory_mib=1000.0,
        ready_s=10.0,
        load=(1.0, 2.5),
    )


def test_the_table_puts_each_configuration_beside_the_baseline() -> None:
    lines = table([_result("baseline", 4, 1.0), _result("dev", 2, 0.5)]).splitlines()
    assert lines[0].split() == ["baseline", "(4w)", "dev", "(2w)"]
    rows = {line.split("  ")[0]: line.split() for line in lines[1:]}
    assert rows["log_batch/s"][-3:] == ["40.0", "20.0", "(0.50x)"]
    assert rows["search p50 ms"][-3:] == ["200.0", "200.0", "(1.00x)"]
    assert rows["search p95 ms"][-3:] == ["290.0", "290.0", "(1.00x)"]
    assert rows["up 100 MiB/s"][-3:] == ["200.0", "100.0", "(0.50x)"]
    assert rows["load 1m"][-2:] == ["1.00->2.50", "1.00->2.50"]
    assert rows["log_batch errors"][-2:] == ["0", "0"]
    assert rows["worker kills"][-2:] == ["0", "0"]
    assert table([]) == ""


def test_a_figure_measured_only_on_some_configurations_shows_a_dash() -> None:
    without_artifacts = _result("dev, login off", 2, 1.0)
    without_artifacts.upload, without_artifacts.download = {}, {}
    lines = table([without_artifacts, _result("dev", 2, 1.0)]).splitlines()
    upload = next(line for line in lines if line.startswith("up 100 MiB/s")).split()
    assert upload[-2:] == ["-", "200.0"]


def test_settings_full_quick_and_overrides() -> None:
    assert settings({}) == FULL
    assert FULL.runs == 10_000 and FULL.clients == 8 and FULL.artifact_mib == (100, 1100)
    assert settings({"BENCH_QUICK": "1"}) == QUICK
    assert settings({"BENCH_QUICK": "0"}) == FULL
    assert QUICK.stacks == ("dev",) and QUICK.runs == FULL.runs
    assert FULL.login_off and not QUICK.login_off
    chosen = settings({"BENCH_QUICK": "1", "BENCH_ARTIFACT_MIB": "5,50", "BENCH_SECONDS": "2"})
    assert chosen.artifact_mib == (5, 50) and chosen.seconds == 2.0


RENDERED_INI = (
    "[mlflow]\ndefault_permission = READ\ndatabase_uri = postgresql://u:p@h/mlflow_auth\n"
    "admin_username = admin\n"
)


def test_the_credential_cache_is_set_once_in_the_mlflow_section() -> None:
    assert cache_ttl(RENDERED_INI) == 0
    cached = with_cache_ttl(RENDERED_INI, 60)
    assert cache_ttl(cached) == 60
    off = with_cache_ttl(cached, 0)
    assert cache_ttl(off) == 0 and off.count("auth_cache_ttl_seconds") == 1
    ini = configparser.ConfigParser()
    ini.read_string(cached)
    assert ini.getint("mlflow", "auth_cache_ttl_seconds") == 60
    assert ini["mlflow"]["admin_username"] == "admin"


def test_cores_follow_the_cpu_limit_and_worker_pids_come_from_the_log() -> None:
    assert cores_for("1", [0, 1]) == [1]
    assert cores_for("1500m", [0, 1, 2, 3]) == [2, 3]
    assert cores_for("250m", [0, 1]) == [1]
    assert cores_for("8", [0, 1]) == [0, 1]
    log = (
        "INFO:     Started server process [101]\nINFO:     Waiting for application startup.\n"
        "INFO:     Started server process [102]\nINFO:     Started server process [101]\n"
    )
    assert worker_pids(log) == {"101", "102"}
    assert worker_count(["server", "--workers", "4"], log) == 4
    restarted = log + "INFO:     Child process [101] died\nINFO:     Started server process [103]\n"
    assert killed_workers(restarted) == 1 and killed_workers(log) == 0
    # MLflow's default, as it ran: three processes started, one of them killed and replaced.
    assert worker_count(["server", "--port", "5000"], restarted) == 2
