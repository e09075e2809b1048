"""Pinned Kubernetes API data for the objects obsgen writes directly (not through a chart)."""
