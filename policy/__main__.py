"""The policy pack entry point: `pulumi preview --policy-pack policy`. Rules live in rules.py."""

from pulumi_policy import PolicyPack

from policy.rules import POLICIES

PolicyPack(name="mlflow-platform-guardrails", policies=POLICIES)
