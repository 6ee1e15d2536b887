"""Configuration: config.yaml defaults, a second YAML file, the environment, and secrets."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from settings import DEFAULT_CONFIG, PROJECT_DIR, ConfigError, Settings, load_settings

GOOD_KEY = "p" * 32
PG = "postgresql+psycopg://kuf@db.example:5432/kufatilia"
REDIS = "redis://cache.example:6379/1"


def _load(tmp_path: Path, environ: dict[str, str], **overrides: Any) -> Settings:
    return load_settings(
        {"instance_path": str(tmp_path / "instance"), **overrides}, environ=environ
    )


def test_config_yaml_defaults(tmp_path: Path) -> None:
    settings = _load(tmp_path, {"SECRET_KEY": "s", "PHONE_KEY": GOOD_KEY})
    assert not settings.production
    assert settings.get("ussd", "session_ttl") == 300
    assert settings.get("ussd", "resume_window") == 900
    assert settings.get("ussd", "screen_limit") == 160
    assert settings.get("ussd", "network_limits") == {}
    assert settings.get("trees") == ["menus/trees/incident.yaml"]
    assert settings.get("default_tree") == "incident"
    assert settings.get("timezone") == "Africa/Lubumbashi"
    assert settings.get("gateways", "africastalking", "callback_token") == ""
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'kufatilia.db'}"
    assert settings.redis_url == ""  # the embedded server
    assert settings.get("no", "such", "key", default="fallback") == "fallback"
    assert settings.section("ussd")["lock_timeout"] == 3


def test_a_relative_instance_path_is_under_the_project(tmp_path: Path) -> None:
    settings = load_settings(
        {"instance_path": "instance-test"}, environ={"SECRET_KEY": "s", "PHONE_KEY": GOOD_KEY}
    )
    assert settings.instance_path == PROJECT_DIR / "instance-test"


def test_environment_overrides(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        {
            "SECRET_KEY": "s",
            "PHONE_KEY": GOOD_KEY,
            "DATABASE_URL": PG,
            "REDIS_URL": REDIS,
            "KUFATILIA__USSD__SESSION_TTL": "600",
            "KUFATILIA__USSD__NETWORK_LIMITS": '{"63902": 140}',
            "AT_CALLBACK_TOKEN": "tok",
        },
    )
    assert settings.database_url == PG
    assert settings.redis_url == REDIS
    assert settings.get("ussd", "session_ttl") == 600
    assert settings.get("ussd", "network_limits") == {"63902": 140}
    assert settings.get("ussd", "resume_window") == 900  # the rest of the section stays
    assert settings.get("gateways", "africastalking", "callback_token") == "tok"
    assert settings.get("gateways", "africastalking", "username") == "sandbox"


def test_a_second_config_file_then_the_environment(tmp_path: Path) -> None:
    extra = tmp_path / "site.yaml"
    extra.write_text(
        "ussd:\n  screen_limit: 150\n  session_ttl: 200\ntimezone: Africa/Kinshasa\n",
        encoding="utf-8",
    )
    settings = _load(
        tmp_path,
        {
            "SECRET_KEY": "s",
            "PHONE_KEY": GOOD_KEY,
            "KUFATILIA_CONFIG": str(extra),
            "KUFATILIA__USSD__SESSION_TTL": "600",
        },
    )
    assert settings.get("ussd", "screen_limit") == 150
    assert settings.get("timezone") == "Africa/Kinshasa"
    assert settings.get("ussd", "session_ttl") == 600  # the environment wins over the file
    assert settings.get("ussd", "resume_window") == 900  # config.yaml still fills the rest


def test_explicit_overrides_win_over_the_environment(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        {"SECRET_KEY": "s", "PHONE_KEY": GOOD_KEY, "DATABASE_URL": PG},
        database_url="sqlite:///:memory:",
        PHONE_KEY="o" * 40,
    )
    assert settings.database_url == "sqlite:///:memory:"
    assert settings.phone_key == "o" * 40


@pytest.mark.parametrize(
    ("path_text", "message"),
    [
        ("missing.yaml", "cannot read configuration file"),
        ("bad.yaml", "is not valid YAML"),
        ("list.yaml", "must hold a mapping"),
    ],
)
def test_a_bad_second_config_file_is_a_clear_error(
    tmp_path: Path, path_text: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text("ussd: [1, 2\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    environ = {
        "SECRET_KEY": "s",
        "PHONE_KEY": GOOD_KEY,
        "KUFATILIA_CONFIG": str(tmp_path / path_text),
    }
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, environ)


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, "SECRET_KEY and PHONE_KEY"),
        ({"PHONE_KEY": GOOD_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "s"}, "PHONE_KEY"),
    ],
)
def test_production_without_secrets_refuses_to_start(
    tmp_path: Path, environ: dict[str, str], names: str
) -> None:
    base = {"KUFATILIA_ENV": "production", "DATABASE_URL": PG, "REDIS_URL": REDIS}
    with pytest.raises(ConfigError, match=f"production needs {names} in the environment"):
        _load(tmp_path, {**base, **environ})
    assert not (tmp_path / "instance" / "secrets.json").exists()


def test_production_needs_real_servers(tmp_path: Path) -> None:
    environ = {"KUFATILIA_ENV": "production", "SECRET_KEY": "s", "PHONE_KEY": GOOD_KEY}
    with pytest.raises(ConfigError, match="production needs DATABASE_URL"):
        _load(tmp_path, environ)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        _load(tmp_path, {**environ, "DATABASE_URL": PG})
    settings = _load(tmp_path, {**environ, "DATABASE_URL": PG, "REDIS_URL": REDIS})
    assert settings.production
    assert settings.phone_key == GOOD_KEY


@pytest.mark.parametrize("environment", ["production", "development"])
def test_a_short_phone_key_is_refused(tmp_path: Path, environment: str) -> None:
    environ = {
        "KUFATILIA_ENV": environment,
        "SECRET_KEY": "s",
        "PHONE_KEY": "p" * 31,
        "DATABASE_URL": PG,
        "REDIS_URL": REDIS,
    }
    with pytest.raises(ConfigError, match="PHONE_KEY must be at least 32 characters"):
        _load(tmp_path, environ)


def test_development_generates_secrets_once_and_reuses_them(tmp_path: Path) -> None:
    first = _load(tmp_path, {})
    path = tmp_path / "instance" / "secrets.json"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored == {"SECRET_KEY": first.secret_key, "PHONE_KEY": first.phone_key}
    assert len(first.phone_key) >= 32 and first.secret_key
    second = _load(tmp_path, {})
    assert (second.secret_key, second.phone_key) == (first.secret_key, first.phone_key)
    elsewhere = load_settings({"instance_path": str(tmp_path / "other")}, environ={})
    assert elsewhere.phone_key != first.phone_key
    # A secret from the environment wins over the generated one.
    assert _load(tmp_path, {"PHONE_KEY": GOOD_KEY}).phone_key == GOOD_KEY


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"SECRET_KEY": "only this"}'])
def test_an_unreadable_development_secrets_file_is_a_clear_error(
    tmp_path: Path, content: str
) -> None:
    # Generating new keys would orphan every stored phone hash: refuse rather than replace.
    path = tmp_path / "instance" / "secrets.json"
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"secrets\.json"):
        _load(tmp_path, {})
    assert path.read_text(encoding="utf-8") == content


def test_the_documented_defaults_file_is_the_one_loaded() -> None:
    assert DEFAULT_CONFIG == PROJECT_DIR / "config.yaml"


def test_environment_values_keep_strings_that_look_like_yaml(tmp_path: Path) -> None:
    environ = {
        "KUFATILIA__REDIS_PREFIX": "kuf2:",
        "KUFATILIA__USSD__SESSION_TTL": "600",
        "KUFATILIA__USSD__NETWORK_LIMITS": '{"63902": 140}',
        "PHONE_KEY": "p" * 40,
        "SECRET_KEY": "s",
    }
    settings = load_settings({"instance_path": str(tmp_path)}, environ=environ)
    assert settings.get("redis_prefix") == "kuf2:"
    assert settings.get("ussd", "session_ttl") == 600
    assert settings.get("ussd", "network_limits") == {"63902": 140}
