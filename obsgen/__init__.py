"""obsgen: one service-topology spec, every tracing-stack config generated from it."""

__version__ = "0.1.0"
