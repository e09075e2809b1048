"""sampling-report.md: what the rendered tail-sampling policies keep of the spec's traffic model (simulated by
``obsgen.sampling``), so a policy change shows its effect on kept share and cost in the review diff."""
