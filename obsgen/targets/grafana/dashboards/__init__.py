"""Grafana dashboards: ``target`` writes the files; ``overview``, ``service``, ``sampling`` lay out each dashboard
from ``panels``; ``queries`` holds every PromQL/TraceQL/LogQL a panel runs; ``links`` and ``uids`` tie dashboards
together. The JSON itself is plain data: ``dashboard_model`` (the document), ``panel_model`` (a panel, a row, the
grid), ``panel_kinds`` (each visualisation's options), ``field_config`` and ``query_targets``."""
