"""Grafana: ``datasources`` and ``provider`` (provisioning files), ``dashboards/`` (overview, per-service,
sampling), ``compat`` (grafanalib's gaps at the pinned Grafana), ``strict`` (what provisioning and the dashboard
schema accept)."""
