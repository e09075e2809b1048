"""The strict-check stage: every rendered artifact is parsed back and checked before anything is written.

``strict`` holds the shared result type of the per-tool strict models (which live beside their target, e.g.
``obsgen.targets.collector.strict``); ``crosscheck`` checks artifacts against each other (a rule or panel
naming a series no artifact produces); ``verify`` runs the real tools on an in-memory render.
"""
