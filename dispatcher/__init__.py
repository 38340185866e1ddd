"""Alarm and incident lifecycle: the pure core, its persistence, and the service loop."""
