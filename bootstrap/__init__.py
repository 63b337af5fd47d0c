"""The CI trust chain as code: run once per project (docs/delivery.md)."""
