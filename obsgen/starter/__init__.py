"""``obsgen init``: a commented starter spec that validates and renders as written.

- ``spec_text.py`` writes the spec's text: data through the real YAML serialiser, comments through
  ``obsgen.emit.escape.yaml_comment``;
- ``collector_import.py`` (``--from-collector``) reads an existing Collector config's tail-sampling
  policies and span-metrics dimensions, ``policy_map.py`` translates one upstream policy into the
  spec's language (or says why it cannot);
- ``command.py`` is the click command.
"""
