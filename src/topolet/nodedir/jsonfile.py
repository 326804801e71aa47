"""Reading the node directory's JSON files: every failure is a :class:`NodeDirError` naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from topolet.nodedir.errors import NodeDirError


def read_bytes_or_none(p: Path) -> bytes | None:
    """The file's bytes, ``None`` when it does not exist."""
    try:
        return p.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError as e:
        raise NodeDirError(f"{p}: is a directory, not a file") from e
    except OSError as e:
        raise NodeDirError(f"{p}: cannot read: [Errno {e.errno}] {e.strerror}") from e


def loads_json(data: bytes, where: str) -> Any:
    """Parse JSON; deep nesting, bad UTF-8 and syntax errors are reported with the file's name."""
    try:
        return json.loads(data)
    except RecursionError as e:
        raise NodeDirError(f"{where}: not valid JSON: nested too deeply") from e
    except UnicodeDecodeError as e:
        raise NodeDirError(f"{where}: not valid JSON: not UTF-8 text") from e
    except ValueError as e:
        raise NodeDirError(f"{where}: not valid JSON: {e}") from e


def read_json(p: Path) -> Any:
    data = read_bytes_or_none(p)
    if data is None:
        raise NodeDirError(f"{p}: missing (the node directory is incomplete)")
    return loads_json(data, str(p))


def expect_mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NodeDirError(f"{where}: must be a mapping, got {type_name(value)}")
    return value


def expect_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise NodeDirError(f"{where}: must be a list, got {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    """A value's JSON type, in the user's terms."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value!r:.40})"
    if isinstance(value, str):
        return f"a string ({value!r:.40})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
