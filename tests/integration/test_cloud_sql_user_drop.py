"""Why the Cloud SQL user is abandoned on destroy, shown on a real PostgreSQL.

On Cloud SQL the `mlflow` database is made through the Admin API (owned by the instance's
admin role) and MLflow's role only gets to create its tables. Once `mlflow db upgrade` has run,
those tables belong to the role, and PostgreSQL refuses to drop it: the very error that stopped
`pulumi destroy` at the user (the fix, `deletion_policy="ABANDON"`, is asserted on the
registered inputs in tests/test_stacks.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from tests.integration import services

pytestmark = pytest.mark.integration

ROLE, PASSWORD, DATABASE = "mlflow", "role-password-0123456789", "mlflow"


def _as_admin(pg: services.Postgres, database: str, *statements: sql.Composable) -> None:
    conn = psycopg2.connect(pg.dsn(database))
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.close()


def test_a_role_that_owns_mlflows_tables_cannot_be_dropped(
    postgres: services.Postgres,
) -> None:
    role, database = sql.Identifier(ROLE), sql.Identifier(DATABASE)
    # What Cloud SQL's API does for gcp.sql.Database and gcp.sql.User.
    _as_admin(
        postgres,
        "postgres",
        sql.SQL("CREATE DATABASE {}").format(database),
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(PASSWORD)),
        sql.SQL("GRANT ALL PRIVILEGES ON DATABASE {} TO {}").format(database, role),
    )
    _as_admin(postgres, DATABASE, sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(role))
    uri = (
        f"postgresql+psycopg2://{ROLE}:{PASSWORD}@{postgres.host}:{postgres.port}/{DATABASE}"
        "?sslmode=require"
    )
    mlflow = Path(sys.executable).parent / "mlflow"
    migrated = subprocess.run(
        [str(mlflow), "db", "upgrade", uri], capture_output=True, text=True, timeout=300
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]

    with pytest.raises(psycopg2.errors.DependentObjectsStillExist) as refused:
        _as_admin(postgres, "postgres", sql.SQL("DROP ROLE {}").format(role))
    assert "cannot be dropped because some objects depend on it" in str(refused.value)
