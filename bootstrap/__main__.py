"""`pulumi up` in bootstrap/: the Workload Identity pool and provider, the CI service accounts,
the state bucket and one KMS key per stack (docs/delivery.md)."""

import os
import sys

# The checkout's root: the deploy venv holds only the lock's packages, not the project.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bootstrap.program import run

run()
