"""The text of one Collector config: the title, each section in a fixed order, then `service`, with comments.

Every key, value and comment goes through ``obsgen.emit.commented_yaml.CommentedYaml``, which only writes
serialised values and checked comment lines.
"""

from __future__ import annotations

from obsgen.emit.commented_yaml import CommentedYaml
from obsgen.targets.collector.components import TELEMETRY_PORT, Component, Config, telemetry

TELEMETRY_COMMENT = (f"The Collector's own metrics (tail-sampling decisions, refused and sent spans) on "
                     f":{TELEMETRY_PORT}.")


def _component(out: CommentedYaml, comp: Component) -> None:
    """One component definition under its section (depth 2), body keys at depth 4."""
    out.comments(comp.comments, 2)
    if not comp.entries:
        out.entry(comp.id, {}, 2)
        return
    out.open(comp.id, 2)
    for e in comp.entries:
        out.comments(e.comments, 4)
        if e.items is None:
            out.entry(e.key, e.value, 4)
            continue
        out.open(e.key, 4)
        for item in e.items:  # a policy list: its comments above each item
            out.comments(item.comments, 6)
            out.item(item.body, 6)


def config_text(cfg: Config) -> str:
    """The config file's text after the generated-file header."""
    out = CommentedYaml().comments(cfg.title).blank()
    sections = [("extensions", cfg.extensions), ("receivers", cfg.receivers), ("processors", cfg.processors),
                ("connectors", cfg.connectors), ("exporters", cfg.exporters)]
    for i, (name, components) in enumerate(sections):
        if name == "connectors" and not components:
            continue  # the only optional section (no span metrics or service graph in this Collector)
        if i:
            out.blank()
        out.open(name)
        for comp in components:
            _component(out, comp)
    out.blank().open("service")
    out.flow("extensions", [c.id for c in cfg.extensions], 2)
    out.comment(TELEMETRY_COMMENT, 2).entry("telemetry", telemetry(), 2)
    out.open("pipelines", 2)
    for p in cfg.pipelines:
        out.comments(p.comments, 4).entry(p.id, p.as_dict(), 4)
    return out.text()
