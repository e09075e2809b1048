"""Grafana: ``datasources`` and ``provider`` (provisioning files), ``dashboards/`` (overview, per-service,
sampling, built as plain JSON data), ``strict`` (what provisioning and the dashboard schema accept)."""
