"""Prometheus: ``target`` writes rule files, promtool tests and ``config`` (prometheus.yaml); ``rules/`` builds the
groups; ``tests`` the promtool tests, evaluated by ``sim`` first; ``promql`` parses PromQL (promql-parser) and
``quote`` writes it; ``compat`` knows what each Prometheus version accepts; ``strict`` models rule and test files."""
