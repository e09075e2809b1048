"""Emitting: artifacts (path + exact bytes + checker), the YAML/JSON writers and the one escaping function per sink.

``reference`` defines obsgen's YAML text; ``fast`` writes the same bytes faster; ``commented_yaml`` writes
commented YAML documents whose only inputs are comment lines, keys and plain data, each serialised; ``escape``
has one function per sink; ``readback`` parses rendered YAML back for the strict check.
"""
