"""Pinned tool versions obsgen can render for: an unsupported one is a positioned error, not a traceback.

Only the versions whose config layout obsgen would get wrong are refused here; the ranges are the
generations the targets and strict models are written for.
"""

from __future__ import annotations

from obsgen.diagnostics import Diagnostic
from obsgen.spec.loader import LoadedSpec, _dotted
from obsgen.spec.models import Spec
from obsgen.spec.versions import version_tuple

# Tempo 2.x and 3.x have incompatible config layouts; obsgen.targets.tempo.target renders both and
# obsgen.targets.tempo.strict checks them as Tempo v2.10.x and v3.0.x read them.
TEMPO_MAJORS = (2, 3)


def check_stack(spec: Spec, loaded: LoadedSpec) -> list[Diagnostic]:
    """OBS213 for a pinned version obsgen cannot render a config for."""
    out: list[Diagnostic] = []
    tempo = spec.stack.tempo
    if version_tuple(tempo)[0] not in TEMPO_MAJORS:
        loc = ("stack", "tempo")
        line, col = loaded.where(loc)
        out.append(Diagnostic(
            "OBS213", f"Tempo {tempo} is not supported", file=loaded.file, line=line, column=col,
            path=_dotted(loc),
            hint="supported: Tempo >= 2.0.0 and < 4.0.0, e.g. 2.10.8 or 3.0.0 (the 2.x and 3.x config "
                 "layouts, checked as v2.10 and v3.0 read them)",
        ))
    return out
