"""One RandomPassword whose length is the stack's `length` setting: no cluster, no cloud."""

import pulumi
import pulumi_random as random

random.RandomPassword("probe", length=pulumi.Config().require_int("length"), special=False)
