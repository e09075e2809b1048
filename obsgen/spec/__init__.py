"""The input side: spec models, the position-keeping loader and semantic checks."""
