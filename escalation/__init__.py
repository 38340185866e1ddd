"""Assistance agreements: model, loading and checking, target resolution, notifiers."""
