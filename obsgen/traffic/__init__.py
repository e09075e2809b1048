"""``obsgen traffic``: the spec's synthetic traffic sent as real OTLP traces to a Collector (optional extra)."""
