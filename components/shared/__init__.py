"""components/shared."""
