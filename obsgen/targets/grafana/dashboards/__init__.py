"""Grafana dashboards: ``target`` writes the files; ``overview``, ``service``, ``sampling`` lay out each dashboard
from ``panels``; ``queries`` holds every PromQL/TraceQL/LogQL a panel runs; ``links`` and ``uids`` tie dashboards
together."""
