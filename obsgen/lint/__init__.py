"""``obsgen lint``: check existing config files with obsgen's strict models, with positioned diagnostics.

Teams with hand-written configs can check them before they adopt specs. Each file's kind is told by
its content (or given), it is read the way its tool reads it (``lint.source``), checked by the strict
model of that tool (``lint.kinds``) and every finding is reported at its line and column
(``lint.report``).

This package's ``__init__`` is kept free of imports: the command line reads ``KINDS`` from it at every
start, and the strict models load only when a file is linted.
"""

COLLECTOR = "collector"
TEMPO = "tempo"
DATASOURCES = "grafana-datasources"
DASHBOARD_PROVIDER = "grafana-dashboards-provider"
DASHBOARD = "grafana-dashboard"
PROMETHEUS_RULES = "prometheus-rules"
KINDS = (COLLECTOR, TEMPO, DATASOURCES, DASHBOARD_PROVIDER, DASHBOARD, PROMETHEUS_RULES)
