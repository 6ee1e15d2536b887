"""Building ``Settings`` once: ``config.yaml``, then ``KUFATILIA_CONFIG``, then the environment.

Each layer is a plain mapping merged over the one before; the merged mapping is then checked
against the dataclasses of ``sections`` in one pass, so that every problem (a wrong type, a value
out of range, an unknown key, a key missing from config.yaml) is reported at once, by its key.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import secrets
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .sections import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_DIR / "config.yaml"
PHONE_KEY_MIN_LENGTH = 32
SECRET_NAMES = ("SECRET_KEY", "PHONE_KEY")
PREFIX = "KUFATILIA__"

# Well-known variables, and the settings they set (KUFATILIA__SECTION__KEY covers the rest).
ENV_NAMES = {
    "DATABASE_URL": ("database_url",),
    "REDIS_URL": ("redis_url",),
    "KUFATILIA_ENV": ("environment",),
    "AT_USERNAME": ("gateways", "africastalking", "username"),
    "AT_API_KEY": ("gateways", "africastalking", "api_key"),
    "AT_SENDER_ID": ("gateways", "africastalking", "sender_id"),
    "AT_CALLBACK_TOKEN": ("gateways", "africastalking", "callback_token"),
    "SMTP_PASSWORD": ("notify", "smtp_password"),
}


class ConfigError(RuntimeError):
    """The service cannot start with this configuration; the message names the key to fix."""


class EnvText(str):
    """A value as written in an environment variable, which it remembers for error messages.

    It is read for the type its setting expects: ``600`` is a number for ``ussd.session_ttl``
    and stays the text ``kuf2:`` for ``redis_prefix`` (YAML would have made that a mapping).
    """

    variable: str

    def __new__(cls, value: str, variable: str) -> EnvText:
        made = super().__new__(cls, value)
        made.variable = variable
        return made


# Reading and merging the layers ---------------------------------------------------------------


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"configuration file {path} is not valid YAML{line}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping")
    return loaded


def environment_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, path in ENV_NAMES.items():
        if environ.get(name):
            _set_path(layer, path, EnvText(environ[name], name))
    for name, raw in environ.items():
        if name.startswith(PREFIX) and len(name) > len(PREFIX):
            path = tuple(part.lower() for part in name[len(PREFIX) :].split("__"))
            _set_path(layer, path, EnvText(raw, name))
    return layer


# Checking a mapping against the dataclasses -------------------------------------------------------


class _Bad(ValueError):
    """One value does not fit its setting; the message says what was expected."""


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(str(value))
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _yaml_text(value: object, expected: str) -> object:
    """A list or a mapping written in an environment variable, e.g. ``{"63902": 140}``."""
    if not isinstance(value, EnvText):
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise _Bad(f"expected {expected} (as YAML), got {_shown(value)}") from exc


_BOOLEAN_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _coerce(value: object, hint: Any, key: str, problems: list[str]) -> Any:
    """``value`` as the type ``hint`` names; ``_Bad`` (or a line in ``problems``) if it is not."""
    origin = get_origin(hint)
    if origin is typing.Annotated:
        base, *marks = get_args(hint)
        found = _coerce(value, base, key, problems)
        for mark in marks:
            problem = mark.problem(found)
            if problem:
                raise _Bad(problem)
        return found
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _section(value, hint, key, problems)
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            raise _Bad(f"expected one of {', '.join(map(str, choices))}; got {_shown(value)}")
        return str(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, EnvText) and value.lower() in _BOOLEAN_WORDS:
            return _BOOLEAN_WORDS[value.lower()]
        raise _Bad(f"expected true or false, got {_shown(value)}")
    if hint is int:
        if isinstance(value, EnvText) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Bad(f"expected a whole number, got {_shown(value)}")
    if hint is float:
        if isinstance(value, EnvText):
            try:
                return float(value)
            except ValueError:
                pass
        elif isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _Bad(f"expected a number, got {_shown(value)}")
    if hint is str:
        # A bare 243 in YAML is a number: as a text setting it means "243".
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        raise _Bad(f"expected a text, got {_shown(value)}")
    if hint is Path:
        if isinstance(value, str) and value:
            return Path(value)
        raise _Bad(f"expected a path, got {_shown(value)}")
    if hint is ZoneInfo:
        try:
            return ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise _Bad(
                f"expected a time zone such as Africa/Lubumbashi, got {_shown(value)}"
            ) from exc
    if origin is tuple:
        return _sequence(value, get_args(hint), key, problems)
    if origin is Mapping:
        value = _yaml_text(value, "a mapping")
        if not isinstance(value, Mapping):
            raise _Bad(f"expected a mapping, got {_shown(value)}")
        key_hint, value_hint = get_args(hint)
        assert key_hint is str, "settings mappings are keyed by text"
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name is None or isinstance(name, bool | Mapping | list):
                raise _Bad(f"expected text keys, got {_shown(name)}")
            out[str(name)] = _field(item, value_hint, f"{key}.{name}", problems)
        return MappingProxyType(out)
    if origin in (Union, types.UnionType):
        raise TypeError(f"{key}: optional settings are not supported; use an empty value")
    raise TypeError(f"{key}: no reader for settings of type {hint!r}")


def _sequence(value: object, args: tuple[Any, ...], key: str, problems: list[str]) -> Any:
    value = _yaml_text(value, "a list")
    if not isinstance(value, list | tuple):
        raise _Bad(f"expected a list, got {_shown(value)}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_field(item, args[0], f"{key}[{i}]", problems) for i, item in enumerate(value))
    if len(value) != len(args):
        raise _Bad(f"expected a list of {len(args)}, got {len(value)} item(s)")
    return tuple(
        _field(item, hint, f"{key}[{i}]", problems)
        for i, (item, hint) in enumerate(zip(value, args, strict=True))
    )


def _field(value: object, hint: Any, key: str, problems: list[str]) -> Any:
    """Coerce one value; a problem is recorded (by key and variable) instead of raised."""
    try:
        return _coerce(value, hint, key, problems)
    except _Bad as bad:
        origin = f" ({value.variable})" if isinstance(value, EnvText) else ""
        problems.append(f"{key}{origin}: {bad}")
        return None


def _section(value: object, cls: type[Any], key: str, problems: list[str]) -> dict[str, Any]:
    """The fields of dataclass ``cls`` from a mapping; returns their values by name."""
    if not isinstance(value, Mapping):
        raise _Bad(f"expected a section (a mapping), got {_shown(value)}")
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("secret")]
    names = {f.name for f in fields}
    prefix = f"{key}." if key else ""
    for unknown in sorted(set(value) - names, key=str):
        close = difflib.get_close_matches(str(unknown), names, n=1)
        hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
        given = value[unknown]
        origin = f" ({given.variable})" if isinstance(given, EnvText) else ""
        problems.append(f"{prefix}{unknown}{origin}: unknown setting{hint}")
    values: dict[str, Any] = {}
    for item in fields:
        name = prefix + item.name
        if item.name not in value:
            problems.append(f"{name}: missing (config.yaml must define every setting)")
            continue
        values[item.name] = _field(value[item.name], hints[item.name], name, problems)
    return values


def _build(cls: type[Any], values: dict[str, Any]) -> Any:
    """The dataclass instances, from the checked values (nested sections first)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    made: dict[str, Any] = {}
    for name, value in values.items():
        hint = hints[name]
        if get_origin(hint) is typing.Annotated:
            hint = get_args(hint)[0]
        nested = isinstance(hint, type) and dataclasses.is_dataclass(hint)
        made[name] = _build(hint, value) if nested else value
    return cls(**made)


# Secrets and the whole load ----------------------------------------------------------------------


def _development_secrets(instance: Path) -> dict[str, str]:
    """Generated once per checkout, so restarts keep phone hashes and sessions valid."""
    path = instance / "secrets.json"
    if path.exists():
        # Replacing a damaged file would orphan every phone hash stored so far: stop instead.
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON: repair it or set the secrets") from exc
        if not isinstance(stored, dict) or not all(stored.get(name) for name in SECRET_NAMES):
            raise ConfigError(f"{path} must hold SECRET_KEY and PHONE_KEY: repair it or set them")
        return {str(k): str(v) for k, v in stored.items()}
    generated = {"SECRET_KEY": secrets.token_urlsafe(32), "PHONE_KEY": secrets.token_urlsafe(48)}
    instance.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(generated, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return generated


def _secrets(
    given: Mapping[str, Any], environ: Mapping[str, str], instance: Path
) -> dict[str, str]:
    found = {name: str(given.get(name) or environ.get(name, "")) for name in SECRET_NAMES}
    missing = [name for name, value in found.items() if not value]
    if missing:
        generated = _development_secrets(instance)
        found.update({name: generated[name] for name in missing})
    if len(found["PHONE_KEY"]) < PHONE_KEY_MIN_LENGTH:
        raise ConfigError(f"PHONE_KEY must be at least {PHONE_KEY_MIN_LENGTH} characters long")
    return found


def _check_production(
    values: Mapping[str, Any], given: Mapping[str, Any], environ: Mapping[str, str]
) -> None:
    """Everything production needs, named at once: no generated secrets, no embedded servers."""
    missing = [name for name in SECRET_NAMES if not (given.get(name) or environ.get(name))]
    if values["database_url"].startswith("sqlite"):
        missing.append("DATABASE_URL (PostgreSQL)")
    if not values["redis_url"]:
        missing.append("REDIS_URL")
    if missing:
        listed = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
        raise ConfigError(
            f"production needs {listed} in the environment"
            + (
                f" (PHONE_KEY: at least {PHONE_KEY_MIN_LENGTH} random characters)"
                if "PHONE_KEY" in missing
                else ""
            )
        )


def _in_project(path: Path) -> Path:
    return path if path.is_absolute() else PROJECT_DIR / path


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """The settings, checked; ``ConfigError`` naming every key that is wrong.

    ``overrides`` (``create_app(test_config)``) is a last layer over the environment; it may
    also carry ``SECRET_KEY`` and ``PHONE_KEY``.
    """
    environ = dict(os.environ if environ is None else environ)
    given = dict(overrides or {})
    secret_given = {name: given.pop(name) for name in SECRET_NAMES if name in given}
    data = read_yaml(DEFAULT_CONFIG)
    if environ.get("KUFATILIA_CONFIG"):
        data = _merge(data, read_yaml(Path(environ["KUFATILIA_CONFIG"])))
    data = _merge(_merge(data, environment_layer(environ)), given)

    problems: list[str] = []
    try:
        values = _section(data, Settings, "", problems)
    except _Bad as bad:  # pragma: no cover - read_yaml already insists on a mapping
        raise ConfigError(str(bad)) from bad
    if problems:
        raise ConfigError("; ".join(problems))

    instance = _in_project(values["instance_path"])
    values["instance_path"] = instance
    values["trees"] = tuple(_in_project(path) for path in values["trees"])
    values["database_url"] = values["database_url"] or f"sqlite:///{instance / 'kufatilia.db'}"
    if values["environment"] == "production":
        _check_production(values, secret_given, environ)
    found = _secrets(secret_given, environ, instance)
    values.update(secret_key=found["SECRET_KEY"], phone_key=found["PHONE_KEY"])
    settings: Settings = _build(Settings, values)
    return settings
