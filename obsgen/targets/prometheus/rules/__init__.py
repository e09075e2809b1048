"""Rule groups: ``model`` (the files and groups), ``recordings`` (shared recordings, declared calls),
``service`` (per-service alerts), ``slo`` (SLI recordings and burn-rate alerts), ``health`` (telemetry pipeline),
``common`` (labels and annotations every rule shares)."""
