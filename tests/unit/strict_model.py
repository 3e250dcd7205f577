"""A stricter check of request dicts against botocore's service model.

botocore's own validator (what Stubber runs) checks types, required members, unknown keys and
minimums, but not enums, maximums or string patterns, which MediaConvert enforces server-side.
This walker checks all of them, so a wrong enum fails a unit test instead of a cloud job."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "float": (int, float),
    "boolean": (bool,),
}


@cache
def input_shape(service: str, operation: str) -> Shape:
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    assert shape is not None
    return shape


def findings(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Every violation, as "Path.To.Member: what is wrong"; empty when the request is valid."""
    found: list[str] = []
    _walk(input_shape(service, operation), params, "", found)
    return found


def _walk(shape: Shape, value: Any, path: str, found: list[str]) -> None:
    if isinstance(shape, StructureShape):
        _walk_structure(shape, value, path, found)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            found.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            _walk(shape.member, item, f"{path}[{index}]", found)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            found.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.<key {key}>", found)
            _walk(shape.value, item, f"{path}.{key}", found)
    else:
        _check_scalar(shape, value, path, found)


def _walk_structure(shape: StructureShape, value: Any, path: str, found: list[str]) -> None:
    if not isinstance(value, dict):
        found.append(f"{path}: expected a structure, got {type(value).__name__}")
        return
    found.extend(f"{path}.{name}: required".lstrip(".") for name in shape.required_members if name not in value)
    for key, item in value.items():
        member = shape.members.get(key)
        if member is None:
            found.append(f"{path}.{key}: unknown member of {shape.name}")
        else:
            _walk(member, item, f"{path}.{key}".lstrip("."), found)


def _check_scalar(shape: Shape, value: Any, path: str, found: list[str]) -> None:
    expected = _TYPES.get(shape.type_name)
    # bool is an int in Python; the model never accepts one for the other.
    if expected is None or not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        if expected is not None:
            found.append(f"{path}: expected {shape.type_name}, got {type(value).__name__}")
        return
    metadata = {**_named_bounds(shape.name), **shape.metadata}
    if "enum" in metadata and value not in metadata["enum"]:
        found.append(f"{path}: {value!r} is not one of {metadata['enum']}")
    size = len(value) if isinstance(value, str) else value
    if "min" in metadata and size < metadata["min"]:
        found.append(f"{path}: {value!r} is below the minimum {metadata['min']}")
    if "max" in metadata and size > metadata["max"]:
        found.append(f"{path}: {value!r} is above the maximum {metadata['max']}")
    # The model's patterns are JavaScript regexes; the ones MediaConvert uses are also valid Python
    # except for escaped slashes, which Python accepts too.
    if "pattern" in metadata and isinstance(value, str) and re.search(_python(metadata["pattern"]), value) is None:
        found.append(f"{path}: {value!r} does not match {metadata['pattern']}")


# Some models (MediaLive's in botocore 1.44) carry their bounds only in the shape's name, e.g.
# `__integerMin3`, `__integerMinNegative60Max60`, `__stringMin1Max35`; the model's own min/max win.
_BOUNDS_IN_NAME = re.compile(r"^__(?:integer|long|double|float|string)Min(Negative)?(\d+)(?:Max(Negative)?(\d+))?$")
_MAX_IN_NAME = re.compile(r"^__(?:integer|long|double|float|string)Max(\d+)$")


def _named_bounds(name: str) -> dict[str, int]:
    if (found := _BOUNDS_IN_NAME.match(name)) is not None:
        negative_min, low, negative_max, high = found.groups()
        bounds = {"min": -int(low) if negative_min else int(low)}
        if high is not None:
            bounds["max"] = -int(high) if negative_max else int(high)
        return bounds
    if (found := _MAX_IN_NAME.match(name)) is not None:
        return {"max": int(found.group(1))}
    return {}


# Java/JavaScript Unicode classes Python's re lacks (IVS's tag patterns use them), as their
# nearest Python classes: letters and digits are in \w, separators in \s.
_UNICODE_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Z}": r"\s"}


def _python(pattern: str) -> str:
    for java, python in _UNICODE_CLASSES.items():
        pattern = pattern.replace(java, python)
    return pattern
