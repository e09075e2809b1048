"""Tempo: ``target`` renders tempo.yaml (2.x and 3.x layouts, metrics-generator); ``envsubst`` mirrors Tempo's
``-config.expand-env``; ``strict`` is the model of what the pinned Tempo accepts."""
