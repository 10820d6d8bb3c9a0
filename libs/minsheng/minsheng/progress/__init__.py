"""Computed progress: pure functions (no HTTP, no database) shared by the services and the gateway."""
