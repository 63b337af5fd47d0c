"""components/infrastructure."""
