"""What the tail-sampling policies keep: synthetic traces (``synth``), the processor's decision semantics
(``engine``), the simulation and its report."""
