"""The OpenTelemetry Collector: ``target`` renders collector.yaml (single or gateway + sampler tiers) from
``components`` and ``policies``; ``values`` sizes the memory limiter; ``memory`` estimates the tail-sampling
buffer; ``strict/`` is the model of what the Collector at the pinned version accepts (used by render, lint, verify).
"""
