"""The spec models' field descriptions, taken from their attribute docstrings when something reads them.

Every field of ``obsgen.spec.models`` and ``obsgen.spec.traffic`` is documented by the string under it. pydantic
can read those at class creation (``use_attribute_docstrings``), but it finds each class's source anew
(``pydantic._internal._docs_extraction``: a walk up the frames, ``inspect.getblock`` and two ``ast.parse`` per
class): 60 ms of every command's start-up for 51 classes, while only the JSON Schema (``obsgen schema``, ``init``),
the reference (``obsgen docs``) and the wording of a spec error read a description. ``document_fields`` does the
same once, when one of those first needs it: one ``ast.parse`` per module, pydantic's own rule for which string
documents which field (``DocstringVisitor``: a string right after an annotated assignment, not inside nested
classes or functions), each field keeping an explicit ``Field(description=...)`` and inheriting its documentation
from the class that declares it, as pydantic copies a parent's field; then every model's schema is rebuilt,
declared ones before those that nest them, so the JSON Schema carries the descriptions.
``tests/test_field_docs.py`` compares the result with pydantic's own extraction.
"""

from __future__ import annotations

import ast
import inspect
import threading
from types import ModuleType

from pydantic import BaseModel

_done = False
_lock = threading.Lock()


def document_fields() -> None:
    """Fill in every spec model field's description from its docstring (once; later calls return at once)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        from obsgen.spec import models, traffic

        classes: list[type[BaseModel]] = []
        docs: dict[type[BaseModel], dict[str, str]] = {}
        for module in (traffic, models):  # models imports traffic: its classes are declared first
            found = _docstrings(module)
            own = _model_classes(module, found)
            for cls in own:
                docs[cls] = found.get(cls.__qualname__, {})
            classes += own
        for cls in classes:
            for name, info in cls.model_fields.items():
                if info.description is not None:
                    continue
                for base in cls.__mro__:  # the nearest class that declares the field and documents it
                    text = docs.get(base, {}).get(name)  # type: ignore[call-overload]
                    if text is not None:
                        info.description = text
                        break
        # a model reuses the schema of each model it nests; a nested model declared later (a forward reference,
        # the sampling policies' recursion) has its new schema only after the first pass
        for _ in range(2):
            for cls in classes:
                cls.model_rebuild(force=True)
        _done = True


def _model_classes(module: ModuleType, declared: dict[str, dict[str, str]]) -> list[type[BaseModel]]:
    """The pydantic models a module declares, in declaration order (``declared``'s)."""
    out = []
    for name in declared:
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == module.__name__:
            out.append(cls)
    return out


def _docstrings(module: ModuleType) -> dict[str, dict[str, str]]:
    """Class name -> {attribute: docstring} of a module's top-level classes, in declaration order."""
    tree = ast.parse(inspect.getsource(module))
    return {node.name: _class_docstrings(node) for node in tree.body if isinstance(node, ast.ClassDef)}


def _class_docstrings(node: ast.ClassDef) -> dict[str, str]:
    attrs: dict[str, str] = {}
    previous: ast.stmt | None = None
    for stmt in node.body:
        if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
                and isinstance(previous, ast.AnnAssign) and isinstance(previous.target, ast.Name)):
            attrs[previous.target.id] = inspect.cleandoc(stmt.value.value)
        previous = stmt
    return attrs
