"""components/stores."""
