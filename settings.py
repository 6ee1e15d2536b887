"""Configuration: ``config.yaml`` defaults, an optional second YAML file, then the environment.

Secrets (``SECRET_KEY``, ``PHONE_KEY``) come from the environment. In production a missing secret
is a start-up error; in development one is generated once and kept under ``instance/``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG = PROJECT_DIR / "config.yaml"
PHONE_KEY_MIN_LENGTH = 32

_ENV_NAMES = {
    "DATABASE_URL": ("database_url",),
    "REDIS_URL": ("redis_url",),
    "KUFATILIA_ENV": ("environment",),
    "AT_USERNAME": ("gateways", "africastalking", "username"),
    "AT_API_KEY": ("gateways", "africastalking", "api_key"),
    "AT_SENDER_ID": ("gateways", "africastalking", "sender_id"),
    "AT_CALLBACK_TOKEN": ("gateways", "africastalking", "callback_token"),
}


class ConfigError(RuntimeError):
    """The service cannot start with this configuration; the message says what to set."""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping")
    return loaded


def _env_value(raw: str) -> Any:
    """A YAML scalar (``600`` -> 600, ``true`` -> True); a mapping or list only when written as one
    (``{"63902": 140}``), so that ``kuf2:`` stays the string it looks like."""
    if not raw:
        return raw
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, dict | list) and not raw.lstrip().startswith(("{", "[")):
        return raw
    return value


def _environment_overrides(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, path in _ENV_NAMES.items():
        if environ.get(name):
            _set_path(out, path, environ[name])
    for name, raw in environ.items():
        if name.startswith("KUFATILIA__"):
            path = tuple(part.lower() for part in name[len("KUFATILIA__") :].split("__"))
            _set_path(out, path, _env_value(raw))
    return out


@dataclass(frozen=True)
class Settings:
    data: dict[str, Any]
    instance_path: Path
    database_url: str
    redis_url: str
    secret_key: str
    phone_key: str

    @property
    def production(self) -> bool:
        return str(self.data.get("environment")) == "production"

    def section(self, *path: str) -> dict[str, Any]:
        node: Any = self.data
        for part in path:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def get(self, *path: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


def _development_secrets(instance: Path) -> dict[str, str]:
    """Generated once per checkout, so restarts keep phone hashes and sessions valid."""
    path = instance / "secrets.json"
    if path.exists():
        # Replacing a damaged file would orphan every phone hash stored so far: stop instead.
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON: repair it or set the secrets") from exc
        names = ("SECRET_KEY", "PHONE_KEY")
        if not isinstance(stored, dict) or not all(stored.get(name) for name in names):
            raise ConfigError(f"{path} must hold SECRET_KEY and PHONE_KEY: repair it or set them")
        return {str(k): str(v) for k, v in stored.items()}
    generated = {"SECRET_KEY": secrets.token_urlsafe(32), "PHONE_KEY": secrets.token_urlsafe(48)}
    instance.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(generated, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return generated


def load_settings(
    overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    data = _read_yaml(DEFAULT_CONFIG)
    if environ.get("KUFATILIA_CONFIG"):
        data = _merge(data, _read_yaml(Path(environ["KUFATILIA_CONFIG"])))
    data = _merge(data, _environment_overrides(environ))
    overrides = dict(overrides or {})
    secret_override = {k: overrides.pop(k) for k in ("SECRET_KEY", "PHONE_KEY") if k in overrides}
    data = _merge(data, overrides)

    instance = Path(str(data.get("instance_path") or "instance"))
    if not instance.is_absolute():
        instance = PROJECT_DIR / instance
    production = str(data.get("environment")) == "production"

    secret_values = {
        name: secret_override.get(name) or environ.get(name, "")
        for name in ("SECRET_KEY", "PHONE_KEY")
    }
    missing = [name for name, value in secret_values.items() if not value]
    if missing:
        if production:
            raise ConfigError(
                f"production needs {' and '.join(missing)} in the environment "
                f"(PHONE_KEY: at least {PHONE_KEY_MIN_LENGTH} random characters)"
            )
        generated = _development_secrets(instance)
        for name in missing:
            secret_values[name] = generated[name]
    if len(secret_values["PHONE_KEY"]) < PHONE_KEY_MIN_LENGTH:
        raise ConfigError(f"PHONE_KEY must be at least {PHONE_KEY_MIN_LENGTH} characters long")

    database_url = str(data.get("database_url") or "") or f"sqlite:///{instance / 'kufatilia.db'}"
    redis_url = str(data.get("redis_url") or "")
    if production and (database_url.startswith("sqlite") or not redis_url):
        raise ConfigError("production needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    return Settings(
        data=data,
        instance_path=instance,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=secret_values["SECRET_KEY"],
        phone_key=secret_values["PHONE_KEY"],
    )
