"""Type checks of user-given values against a dataclass's field annotations (one line naming the field).

``TrainConfig`` and ``EnvConfig`` values arrive from the shell, a yaml or ``config.json`` as Python
literals; a value of the wrong type would otherwise fail later with a message about an operator, not the
setting (``'<=' not supported between instances of 'float' and 'str'``).
"""

from __future__ import annotations

import types
import typing
from typing import Any

_SCALARS = {float: "a number", int: "an integer", bool: "True or False", str: "a string"}


def _type_ok(value: Any, hint: Any) -> bool | None:
    """Whether ``value`` fits a scalar ``hint`` (``None``: the hint is not a scalar, so not checked)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        verdicts = [_type_ok(value, arg) for arg in typing.get_args(hint)]
        return None if None in verdicts else any(verdicts)
    if hint is type(None):
        return value is None
    if hint not in _SCALARS:
        return None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    return "None" if hint is type(None) else _SCALARS.get(hint, getattr(hint, "__name__", str(hint)))


def check_field_types(cls: type, values: dict[str, Any], what: str) -> None:
    """``ValueError`` naming the first value of ``values`` whose type does not fit its field of ``cls``.

    Only scalar fields (``float``, ``int``, ``bool``, ``str``, optionally ``None``) are checked; names
    that are not fields are left to ``cls`` (which names them).

    Args:
        cls: A dataclass.
        values: ``{field: value}``.
        what: How the message names a field (``"env setting"``).
    """
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        if name in hints and _type_ok(value, hints[name]) is False:
            raise ValueError(
                f"{what} {name} expects {_describe(hints[name])}, got {value!r} ({type(value).__name__})"
            )
