"""The docs stay true: the config table, the test command CI runs, the destroy guard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.config_docs import BLOCK, table
from infra.docs_check import block_pattern
from infra.guard import explain, main, protected_resources
from policy.bootstrap import BOOTSTRAP_RULES
from policy.rules import RULES
from tests.harness import ROOT
from tests.test_pod_secrets import OWN_SECRETS

README_MAX_LINES = 300


def test_the_config_reference_is_generated_from_the_schema() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    block = block_pattern(BLOCK).search(reference)
    assert block, "docs/configuration.md lost its config-table block"
    assert block.group(2) == table() + "\n", "run `make config-table` (it rewrites the block)"
    assert "docs/configuration.md" in (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.search(r"## Two commands\n\n```bash\n(.*?)```", readme, re.S)
    assert commands
    test_line = next(line for line in commands.group(1).splitlines() if "test" in line)
    test_command = test_line.split("#")[0].strip()
    assert test_command == "make test"
    assert re.search(rf"^{re.escape(test_command)}$", ci, re.M)


def test_destroy_guard_lists_protected_resources(capsys: pytest.CaptureFixture[str]) -> None:
    export: dict[str, Any] = {
        "deployment": {
            "resources": [
                {
                    "urn": "urn:pulumi:prod::mlflow-platform::gcp:storage/bucket:Bucket::b",
                    "protect": True,
                },
                {"urn": "urn:pulumi:prod::mlflow-platform::kubernetes:core/v1:Service::s"},
            ]
        }
    }
    assert protected_resources(export) == [export["deployment"]["resources"][0]["urn"]]
    message = explain("prod", protected_resources(export))
    assert "artifacts.protect: false" in message and "make up STACK=prod" in message
    import io
    import sys

    stdin = sys.stdin
    try:
        sys.stdin = io.StringIO(json.dumps(export))
        assert main(["guard", "prod"]) == 1
        sys.stdin = io.StringIO(json.dumps({"deployment": {"resources": []}}))
        assert main(["guard", "dev"]) == 0
    finally:
        sys.stdin = stdin
    assert "protects 1 resource" in capsys.readouterr().err


def test_destroy_guard_says_how_to_keep_an_adopted_resource() -> None:
    urn = "urn:pulumi:dev::mlflow-platform::gcp:storage/bucket:Bucket::mlflow-artifacts"
    text = explain("dev", [urn])
    assert urn in text and "import_existing" in text
    assert "pulumi state delete --stack dev --force" in text


def test_lint_checks_the_docs() -> None:
    """Links, generated blocks, and every `pulumi config set` example in the real CLI."""
    makefile = (ROOT / "Makefile").read_text()
    lint = re.search(r"^lint: (.*)$", makefile, re.M)
    assert lint and "docs" in lint.group(1).split()
    docs = re.search(r"^docs: (.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert docs and "$(ENGINE_CLI)" in docs.group(1)
    assert "-m infra.docs_check" in docs.group(2)
    assert "tests/engine/test_engine_docs_examples.py" in docs.group(2)


def test_the_readme_is_the_users_path_in_at_most_300_lines() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES
    headings = re.findall(r"^## (.+)$", readme, re.M)
    for section in ("Architecture", "Two commands", "Per environment", "Login and https"):
        assert section in headings, section
    assert "| `prod` |" in readme  # the stacks table


def test_the_readme_points_at_every_doc() -> None:
    readme = (ROOT / "README.md").read_text()
    docs = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "docs").glob("*.md"))]
    for doc in [*docs, "CONTRIBUTING.md", "CHANGELOG.md"]:
        assert f"]({doc}" in readme, doc


def test_the_security_doc_lists_every_policy_rule() -> None:
    security = (ROOT / "docs" / "security.md").read_text()
    for rule in (*RULES, *BOOTSTRAP_RULES):
        assert f"| `{rule.name}` |" in security, rule.name


def test_the_security_doc_names_each_containers_secrets() -> None:
    """The secret table's containers and variables are the ones the pods really get."""
    security = (ROOT / "docs" / "security.md").read_text()
    section = security.split("## Where each secret flows", 1)[1].split("\n## ", 1)[0]
    for container, variables in OWN_SECRETS.items():
        assert f"`{container}`" in section, container
        for variable in variables:
            assert f"`{variable}`" in section, variable


def test_the_changelog_keeps_unreleased_and_the_tagged_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert versions[:2] == ["Unreleased", "0.1.0"]
    for heading in re.findall(r"^### (.+)$", changelog, re.M):
        assert heading in ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
