"""The docs checker (infra/docs_check.py, run by `make lint`): links, anchors, generated blocks;
and the `pulumi config set` examples (infra/docs_examples.py) handed to the real CLI
(tests/engine)."""

from __future__ import annotations

from pathlib import Path

from infra import docs_check as d
from infra import docs_examples as x
from tests.harness import ROOT


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_repositorys_docs_pass() -> None:
    problems, summary = d.check()
    assert not problems, "\n".join(p.shown() for p in problems)
    assert "external links (not fetched)" in summary


def test_slugs_follow_githubs_rules() -> None:
    assert d.slug("Promote dev → staging → prod") == "promote-dev--staging--prod"
    assert d.slug("Upgrade MLflow (and roll back)") == "upgrade-mlflow-and-roll-back"
    assert d.slug("`make test`: two workers") == "make-test-two-workers"
    assert d.slug("dev: what the pods may do in GCP") == "dev-what-the-pods-may-do-in-gcp"
    assert d.slug("The [engine](x.md) from source") == "the-engine-from-source"
    assert d.slug("mlflow.extra_args") == "mlflowextra_args"


def test_anchors_number_repeated_headings_and_skip_code() -> None:
    text = '# Usage\n\n```bash\n# not a heading\n```\n\n## Usage\n<a id="kept"></a>\n'
    assert d.anchors(text) == {"usage", "usage-1", "kept"}


def test_a_broken_link_and_a_broken_anchor_are_reported_with_file_and_line(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "README.md": "# Top\n\nSee [ops](docs/ops.md#rotate) and [gone](docs/gone.md).\n",
            "docs/ops.md": (
                "# Ops\n\n## Rotate\n\n[back](../README.md#top) [nowhere](#restore)\n"
                "[site](https://example.com) `[code](missing.md)`\n\n```\n[x](missing.md)\n```\n"
            ),
        },
    )
    report = d.check_links(d.documents(root), root)
    shown = sorted(p.shown(root) for p in report.problems)
    assert shown == [
        "README.md:3: link to docs/gone.md: no such file",
        "docs/ops.md:5: link to #restore: no heading with the anchor #restore in ops.md",
    ]
    assert (report.local, report.external) == (4, 1)


def test_a_link_out_of_the_repository_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo", {"README.md": "[charts](../charts)\n"})
    (tmp_path / "charts").mkdir()
    [problem] = d.check_links(d.documents(root), root).problems
    assert problem.shown(root) == "README.md:1: link to ../charts: outside the repository"


def _entry(content: str) -> d.Generated:
    return d.Generated("docs/table.md", "table", lambda: content, "table")


def test_a_stale_block_is_reported_with_file_line_and_the_make_target(tmp_path: Path) -> None:
    text = "# T\n\n<!-- generated: table -->\n| a |\n<!-- end generated: table -->\n"
    root = _tree(tmp_path, {"docs/table.md": text})
    assert d.check_block(_entry("| a |"), root) is None
    problem = d.check_block(_entry("| a | b |"), root)
    assert problem is not None
    assert problem.shown(root) == (
        "docs/table.md:3: generated block 'table' is out of date: run `make table`"
    )


def test_missing_markers_and_a_missing_file_are_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"docs/table.md": "# T\n"})
    problem = d.check_block(_entry("x"), root)
    assert problem is not None and "no generated block 'table'" in problem.message
    gone = d.check_block(d.Generated("docs/gone.md", "table", lambda: "x", "table"), root)
    assert gone is not None and gone.shown(root).startswith("docs/gone.md:1: missing")


def test_blocks_are_rewritten_between_their_markers_and_may_be_empty() -> None:
    empty = "a\n<!-- generated: g -->\n<!-- end generated: g -->\nb\n"
    filled = d.with_block(empty, "g", "one\ntwo")
    assert filled == "a\n<!-- generated: g -->\none\ntwo\n<!-- end generated: g -->\nb\n"
    assert d.with_block(filled, "g", "") == empty
    assert d.block_names(filled) == ["g"]


def test_blocks_without_a_generator_are_listed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"docs/a.md": "<!-- generated: later -->\n<!-- end generated: later -->\n"},
    )
    assert d.unregistered_blocks(d.documents(root), (), root) == ["docs/a.md: later"]


def test_config_set_examples_as_the_cli_gets_them(tmp_path: Path) -> None:
    doc = tmp_path / "ops.md"
    doc.write_text(
        "Bump it: `pulumi config set --path mlflow.version 3.18.0 -s prod`, then `make up`.\n"
        "With `pulumi config set --path` (a mention, no key) nothing runs.\n\n"
        "```bash\n"
        "pulumi config set --secret --path 'auth.oidc.client_secret' 'a b' -s prod  # quoted\n"
        "pulumi config set --path 'mlflow.extra_args[0]' -s <stack> -- --uvicorn-opts\n"
        "pulumi config set --path github.repository_id \\\n"
        '  "$(gh api repos/OWNER/REPO --jq .id)" --stack=dev && echo done\n'
        "pulumi config set --path 'mlflow.host' <mlflow.host>\n"
        "```\n\n"
        "<!-- generated: table -->\n| `pulumi config set --secret --path ...` |\n"
        "<!-- end generated: table -->\n"
    )
    examples = x.config_set_examples(doc)
    assert [(e.line, e.key, e.value, e.path, e.secret) for e in examples] == [
        (1, "mlflow.version", "3.18.0", True, False),
        (5, "auth.oidc.client_secret", "a b", True, True),
        (6, "mlflow.extra_args[0]", "--uvicorn-opts", True, False),
        (7, "github.repository_id", x.SAMPLE_SUBSTITUTION, True, False),
        (9, "mlflow.host", "sample-mlflow.host", True, False),
    ]
    # The stack flag is left out (the caller names its own); `--` stays where it was.
    assert examples[2].args == ("--path", "mlflow.extra_args[0]", "--", "--uvicorn-opts")
    assert all("-s" not in e.args and "--stack=dev" not in e.args for e in examples)


def test_a_value_that_looks_like_a_flag_is_no_value() -> None:
    """What the CLI does with it too: `error: unknown flag: --uvicorn-opts`."""
    _, positional, switches = x._parsed(["--path", "mlflow.extra_args[0]", "--uvicorn-opts"])
    assert positional == ["mlflow.extra_args[0]"] and "--uvicorn-opts" in switches


def test_the_docs_show_config_set_examples() -> None:
    """The engine test runs these; an extraction that finds none would prove nothing."""
    examples = [e for doc in d.documents(ROOT) for e in x.config_set_examples(doc)]
    assert len(examples) >= 20
    assert any(e.key.startswith("mlflow.extra_args[") for e in examples)


def test_a_generated_code_block_holds_no_examples(tmp_path: Path) -> None:
    """Generated blocks quote the code's own prose (the layout tree is a code block that names
    `pulumi config set`): a fresh CI run took that prose for a command."""
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- generated: layout -->\n```\n"
        "infra/docs_examples.py   The `pulumi config set` commands the docs show, as\n"
        "```\n<!-- end generated: layout -->\n\n"
        "```\npulumi config set mlflow-platform:mlflow.workers 4\n```\n"
    )
    assert [e.key for e in x.config_set_examples(doc)] == ["mlflow-platform:mlflow.workers"]
