# One word per action: make up|preview|destroy|test [STACK=local|dev|staging|prod]
# State goes to a local file backend under .pulumi-state/ unless PULUMI_BACKEND_URL is set.

STACK ?= local
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# What up/preview/destroy run in: only the hashed deploy lock (Pulumi.yaml names it too).
DEPLOY_VENV ?= .venv-deploy
DEPLOY_PY := $(DEPLOY_VENV)/bin/python
PULUMI ?= pulumi

export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
# The file backend encrypts secrets with this passphrase. Empty is accepted for the `local`
# stack only (check-secrets below); every other stack needs one or its KMS secrets provider.
ifeq ($(STACK),local)
export PULUMI_CONFIG_PASSPHRASE ?=
endif
export PULUMI_SKIP_UPDATE_CHECK ?= true

PULUMI_FLAGS := --stack $(STACK)$(if $(CI), --non-interactive,)

# renovate: datasource=pypi depName=checkov
CHECKOV_VERSION := 3.3.30

.PHONY: venv deploy-venv lock check-lock check-secrets outdated tools engine controlplane node preflight doctor up preview destroy test test-unit lint docs config-table architecture-docs bench-graph bench-preview bench-serve start stop

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# The deploy environment: the lock's packages only, every file checked against its hash. The
# program imports components/ and infra/ from the checkout (infra/__main__.py puts it on the path).
$(DEPLOY_VENV)/.installed: requirements/deploy.txt
	$(PYTHON) -m infra.deploy_lock check
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_PY) -m pip install --quiet --require-hashes --no-deps --only-binary :all: \
		-r requirements/deploy.txt
	touch $@

deploy-venv: $(DEPLOY_VENV)/.installed

# uv (pinned in pyproject's test extras) compiles the lock; its header keeps the command, which
# Renovate re-runs. `check-lock` (lint, and every deploy venv) catches a stale lock offline.
lock: venv
	$(VENV)/bin/uv pip compile pyproject.toml --extra policy --generate-hashes --universal \
		--python-version 3.11 --quiet -o requirements/deploy.txt

check-lock:
	$(PYTHON) -m infra.deploy_lock check

# Each pin against the newest version its registry serves ("unreachable" when offline).
outdated: venv
	$(PY) -m infra.outdated

# checkov pins dependencies that clash with MLflow's, so it gets a venv of its own.
.tools/checkov/.installed:
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# actionlint from its Go module (the PyPI wrapper downloads a binary at build time).
# renovate: datasource=go depName=github.com/rhysd/actionlint
ACTIONLINT_VERSION := v1.7.12
.tools/bin/actionlint:
	GOBIN=$(CURDIR)/.tools/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

# helm from its Go module, to render the upstream charts in tests/manifests/test_charts.py.
# v4.3.2 is the newest v4 release the Go module proxy serves; the tests render with it offline.
# renovate: datasource=go depName=helm.sh/helm/v4
HELM_VERSION := v4.3.2
.tools/bin/helm:
	GOBIN=$(CURDIR)/.tools/bin go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

tools: .tools/checkov/.installed .tools/bin/actionlint .tools/bin/helm

# The Pulumi engine (CLI, Python language host, providers) from Go modules, for tests/engine.
engine:
	tools/engine/build.sh

# What `make docs` needs of the engine: its CLI, built with the rest when missing. (`engine`
# relinks every binary on each run; `make test` keeps that, so a changed pin is picked up.)
ENGINE_CLI := .tools/engine/bin/pulumi
$(ENGINE_CLI):
	tools/engine/build.sh

# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, for tests/engine.
controlplane:
	tools/controlplane/build.sh

# A real node for tests/engine: kubelet, kube-proxy, CoreDNS, containerd and the images (root).
node:
	tools/node/build.sh

.pulumi-state:
	mkdir -p .pulumi-state

# What the stack needs on this machine (the Pulumi CLI; minikube, Docker and its room; gcloud,
# its GKE plugin and credentials), in one message before anything runs; `doctor` lists every check.
preflight: deploy-venv
	@$(DEPLOY_PY) -m infra.preflight $(STACK)

doctor: deploy-venv
	@$(DEPLOY_PY) -m infra.preflight $(STACK) --report

# A stack other than `local` on a self-managed backend (file://, gs://, ...) without a passphrase
# would have its secrets encrypted with an empty key; one that names a KMS provider passes.
check-secrets:
	@$(PYTHON) -m infra.secrets_guard "$(STACK)"

stack: preflight check-secrets $(if $(findstring file://,$(PULUMI_BACKEND_URL)),.pulumi-state,)
	$(PULUMI) stack select --create $(STACK) >/dev/null

# Deploys enforce the same mandatory policies as previews.
POLICY_FLAGS := $(if $(wildcard policy/PulumiPolicy.yaml),--policy-pack policy,)

# A minikube profile stopped by a reboot is started again (with its saved settings) first.
up: stack start
	$(PULUMI) up --yes $(PULUMI_FLAGS) $(POLICY_FLAGS)

start: deploy-venv
	$(DEPLOY_PY) -m infra.laptop start $(STACK)

stop: deploy-venv
	$(DEPLOY_PY) -m infra.laptop stop $(STACK)

preview: stack
	$(PULUMI) preview --diff $(PULUMI_FLAGS) $(POLICY_FLAGS)

destroy: stack start
	$(PULUMI) stack export $(PULUMI_FLAGS) | $(DEPLOY_PY) -m infra.guard $(STACK)
	$(PULUMI) destroy --yes $(PULUMI_FLAGS)

# Everything every test layer needs is built (or reused) first, so this run equals CI's.
# Two workers: the engine layer on one, the workload layer on the other (tests/layers.py).
# The deploy venv is the policy pack's (policy/PulumiPolicy.yaml), which the engine layer runs.
test: venv deploy-venv tools engine controlplane node
	$(PY) -m pytest -n 2

# The quick loop: mocks, schema, policy, manifests' unit parts; no builds, no real software.
test-unit: venv
	$(PY) -m pytest -m "not integration and not engine"

# The docs: relative links and anchors resolve, generated blocks are current
# (infra/docs_check.py), and every `pulumi config set` example runs in the real CLI.
docs: venv $(ENGINE_CLI)
	$(PY) -m infra.docs_check
	$(PY) -m pytest -q tests/engine/test_engine_docs_examples.py

lint: venv .tools/bin/actionlint check-lock docs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy components infra policy bootstrap examples tests
	.tools/bin/actionlint
	$(VENV)/bin/zizmor --offline --quiet .github/workflows

# Time to a working endpoint per stack, from the resource graph under mocks (no cloud needed).
bench-graph: venv
	$(PY) -m tests.bench.graph

# The program's own time per stack against the floor of importing the SDK modules it uses.
bench-preview: venv
	$(PY) -m tests.bench.preview

# The rendered MLflow server against MLflow's defaults on real PostgreSQL (BENCH_QUICK=1: a smoke run).
bench-serve: venv
	$(PY) -m tests.bench.serve

config-table: venv
	$(PY) -m infra.docs_check --write config-table

# docs/architecture.md's component tables and resource graph, CONTRIBUTING.md's layout tree.
architecture-docs: venv
	$(PY) -m infra.docs_check --write component-tables resource-graph layout
