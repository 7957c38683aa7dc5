"""Reading the small structured files users hand us: site files, inventories, forwards."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from truenprobe.errors import InputFileError


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{what} {path}: is a directory") from None
    except PermissionError:
        raise InputFileError(f"{what} {path}: permission denied") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{what} {path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise InputFileError(f"{what} {path}: {exc.strerror or exc}") from None


def load_structured(path: Path, what: str) -> Any:
    """Parse a TOML, YAML or JSON file (chosen by extension; YAML otherwise)."""
    text = read_text(path, what)
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        import yaml  # only when a YAML file is actually read

        return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{what} {path}: not valid {suffix[1:].upper()}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError and its subclasses; yaml is imported lazily
        if type(exc).__module__.startswith("yaml"):
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputFileError(f"{what} {path}: not valid YAML: {first}") from None
        raise


def load_mapping(path: Path, what: str) -> dict[str, Any]:
    data = load_structured(path, what)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputFileError(f"{what} {path}: expected keys and values at the top level")
    return data
