"""The policy pack entry point: `pulumi preview --policy-pack policy`. Rules live in rules.py
and, for the CI trust chain (bootstrap/), in bootstrap.py."""

import os
import sys

from pulumi_policy import PolicyPack

# The checkout's root: the deploy venv holds only the lock's packages, not the project.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from policy.bootstrap import BOOTSTRAP_POLICIES
from policy.rules import POLICIES

PolicyPack(name="mlflow-platform-guardrails", policies=POLICIES + BOOTSTRAP_POLICIES)
