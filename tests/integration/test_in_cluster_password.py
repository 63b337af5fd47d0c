"""Rotating the in-cluster database password really changes it.

The official PostgreSQL image only reads POSTGRES_PASSWORD when it creates the data directory;
the StatefulSet's postStart hook applies it on every start. This runs that hook, exactly as
rendered, where the server runs (inside the PostgreSQL container, as the kubelet does, or
beside Debian's server process), over a Unix socket trusted as the image's is.
"""

from __future__ import annotations

import psycopg2
import pytest

from components.stores.postgres import InClusterPostgres, InClusterPostgresArgs
from tests.harness import run_under_mocks
from tests.integration import services

pytestmark = pytest.mark.integration

OLD, NEW = "old-password-0123456789", "new-password-9876543210"


def _post_start_command() -> list[str]:
    capture = run_under_mocks(lambda: InClusterPostgres("mlflow-postgres", InClusterPostgresArgs()))
    container = capture.one("kubernetes:apps/v1:StatefulSet").inputs["spec"]["template"]["spec"][
        "containers"
    ][0]
    env = {e["name"]: e for e in container["env"]}
    # The hook reads the same variables the image does; the password comes from the Secret.
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "POSTGRES_PASSWORD"
    command: list[str] = container["lifecycle"]["postStart"]["exec"]["command"]
    return command


def _can_log_in(pg: services.Postgres, password: str) -> bool:
    try:
        psycopg2.connect(pg.dsn("mlflow", "mlflow", password)).close()
    except psycopg2.OperationalError:
        return False
    return True


def test_post_start_hook_applies_the_rotated_password(
    postgres: services.Postgres,
) -> None:
    postgres.reset_database("mlflow", "mlflow", OLD)
    assert _can_log_in(postgres, OLD)
    env = {"POSTGRES_USER": "mlflow", "POSTGRES_DB": "mlflow", "POSTGRES_PASSWORD": NEW}
    # In the container, exactly as the kubelet runs the hook: the image's psql, its socket.
    result = postgres.run_beside(_post_start_command(), env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert NEW not in result.stdout + result.stderr
    assert _can_log_in(postgres, NEW)
    assert not _can_log_in(postgres, OLD)
