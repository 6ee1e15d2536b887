"""Configuration: config.yaml defaults, a second YAML file, the environment, and secrets."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from settings import (
    DEFAULT_CONFIG,
    PROJECT_DIR,
    ConfigError,
    Settings,
    UssdSettings,
    load_settings,
    reference,
)

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
    assert settings.ussd == UssdSettings(
        session_ttl=300,
        resume_window=600,
        resume_offer=True,
        received_notice=True,
        sms_reference=True,
        screen_limit=160,
        network_limits={},
        lock_timeout=3.0,
    )
    assert settings.trees == (PROJECT_DIR / "menus/trees/incident.yaml",)
    assert settings.default_tree == "incident"
    assert settings.timezone == ZoneInfo("Africa/Lubumbashi")
    assert settings.gateways.africastalking.callback_token == ""
    assert settings.gateways.africastalking.timeout == (3.05, 9.05)
    assert settings.sms.keywords["fr"] == ("ALERTE",)
    assert settings.outbox.stuck_sending == "requeue"
    assert settings.database_url == f"sqlite:///{tmp_path / 'instance' / 'kufatilia.db'}"
    assert settings.redis_url == ""  # the embedded server


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
    assert settings.ussd.session_ttl == 600
    assert settings.ussd.network_limits == {"63902": 140}
    assert settings.ussd.resume_window == 600  # the rest of the section stays
    assert settings.gateways.africastalking.callback_token == "tok"
    assert settings.gateways.africastalking.username == "sandbox"


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
    assert settings.ussd.screen_limit == 150
    assert settings.timezone == ZoneInfo("Africa/Kinshasa")
    assert settings.ussd.session_ttl == 600  # the environment wins over the file
    assert settings.ussd.resume_window == 600  # config.yaml still fills the rest


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


def test_production_names_everything_it_misses_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, {"KUFATILIA_ENV": "production"})
    assert str(raised.value) == (
        "production needs SECRET_KEY, PHONE_KEY, DATABASE_URL (PostgreSQL) and REDIS_URL in the "
        "environment (PHONE_KEY: at least 32 random characters)"
    )


def test_production_needs_real_servers(tmp_path: Path) -> None:
    environ = {"KUFATILIA_ENV": "production", "SECRET_KEY": "s", "PHONE_KEY": GOOD_KEY}
    with pytest.raises(
        ConfigError, match=r"production needs DATABASE_URL \(PostgreSQL\) and REDIS_URL"
    ):
        _load(tmp_path, environ)
    with pytest.raises(ConfigError, match=r"production needs REDIS_URL in the environment$"):
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
    assert settings.redis_prefix == "kuf2:"
    assert settings.ussd.session_ttl == 600
    assert settings.ussd.network_limits == {"63902": 140}


# Typed settings: every problem named by its key ------------------------------------------------


def _problem(tmp_path: Path, environ: dict[str, str] | None = None, **overrides: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, {"SECRET_KEY": "s", "PHONE_KEY": GOOD_KEY, **(environ or {})}, **overrides)
    message = str(raised.value)
    assert "\n" not in message  # one line, fit for a log and a terminal
    return message


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"KUFATILIA__USSD__SESSION_TTL": "abc"},
            "ussd.session_ttl (KUFATILIA__USSD__SESSION_TTL): expected a whole number, got 'abc'",
        ),
        (
            {"KUFATILIA__USSD__SESSION_TTL": "1.5"},
            "ussd.session_ttl (KUFATILIA__USSD__SESSION_TTL): expected a whole number, got '1.5'",
        ),
        (
            {"KUFATILIA__USSD__SESSION_TTL": "0"},
            "ussd.session_ttl (KUFATILIA__USSD__SESSION_TTL): must be at least 1, got 0",
        ),
        (
            {"KUFATILIA__OUTBOX__STUCK_SENDING": "retry"},
            "outbox.stuck_sending (KUFATILIA__OUTBOX__STUCK_SENDING): expected one of requeue, "
            "fail; got 'retry'",
        ),
        (
            {"KUFATILIA_ENV": "staging"},
            "environment (KUFATILIA_ENV): expected one of development, production; got 'staging'",
        ),
        (
            {"KUFATILIA__USSD__NETWORK_LIMITS": '{"63902": "small"}'},
            "ussd.network_limits.63902: expected a whole number, got 'small'",
        ),
        (
            {"KUFATILIA__USSD__NETWORK_LIMITS": "[140"},
            "ussd.network_limits (KUFATILIA__USSD__NETWORK_LIMITS): expected a mapping (as YAML)",
        ),
        (
            {"KUFATILIA__TIMEZONE": "Africa/Atlantis"},
            "timezone (KUFATILIA__TIMEZONE): expected a time zone such as Africa/Lubumbashi, "
            "got 'Africa/Atlantis'",
        ),
        (
            {"KUFATILIA__USSD__SESION_TTL": "600"},
            "ussd.sesion_ttl (KUFATILIA__USSD__SESION_TTL): unknown setting "
            "(did you mean ussd.session_ttl?)",
        ),
        ({"KUFATILIA__NOPE": "1"}, "nope (KUFATILIA__NOPE): unknown setting"),
        (
            {"KUFATILIA__PHONE_REGION": "243"},
            "phone_region (KUFATILIA__PHONE_REGION): expected a region code such as CD or KE, "
            "got '243'",
        ),
    ],
)
def test_a_wrong_environment_value_names_its_key_and_variable(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    assert message in _problem(tmp_path, environ)


def test_wrong_values_in_a_file_are_all_reported_at_once(tmp_path: Path) -> None:
    extra = tmp_path / "site.yaml"
    extra.write_text(
        "ussd:\n  screen_limit: yes\n  lock_timeout: fast\n"
        "sms:\n  keywords: {fr: ALERTE}\n"
        "gateways:\n  africastalking:\n    timeout: [1, 2, 3]\n"
        "outbox:\n  max_atempts: 2\n",
        encoding="utf-8",
    )
    message = _problem(tmp_path, {"KUFATILIA_CONFIG": str(extra)})
    assert message.split("; ") == [
        "ussd.screen_limit: expected a whole number, got True",
        "ussd.lock_timeout: expected a number, got 'fast'",
        "sms.keywords.fr: expected a list, got 'ALERTE'",
        "outbox.max_atempts: unknown setting (did you mean outbox.max_attempts?)",
        "gateways.africastalking.timeout: expected a list of 2, got 3 item(s)",
    ]


def test_a_section_given_as_a_scalar_is_named(tmp_path: Path) -> None:
    assert "ussd: expected a section (a mapping), got 300" in _problem(tmp_path, ussd=300)


def test_a_setting_missing_from_config_yaml_is_an_error_not_a_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import settings.loading as loading

    trimmed = tmp_path / "config.yaml"
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    trimmed.write_text(text.replace("  lock_timeout: 3 ", "  # removed "), encoding="utf-8")
    monkeypatch.setattr(loading, "DEFAULT_CONFIG", trimmed)
    assert _problem(tmp_path) == (
        "ussd.lock_timeout: missing (config.yaml must define every setting)"
    )


def test_values_are_read_for_their_type(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        {
            "SECRET_KEY": "s",
            "PHONE_KEY": GOOD_KEY,
            "KUFATILIA__OUTBOX__QUEUE": "243",  # a text, although it looks like a number
            "KUFATILIA__OUTBOX__RETRY_BASE_SECONDS": "7",  # a number of seconds, as a float
            "KUFATILIA__SMS__KEYWORDS__FR": "[ALERTE, SIGNALER]",  # one language's words
            "KUFATILIA__GATEWAYS__AFRICASTALKING__API_KEY": "12345",
        },
        ussd={"network_limits": {63902: 140}},  # YAML's bare number keys become texts
    )
    assert settings.outbox.queue == "243"
    assert settings.outbox.retry_base_seconds == 7.0
    assert settings.sms.keywords["fr"] == ("ALERTE", "SIGNALER")
    assert settings.sms.keywords["sw"] == ("RIPOTI",)  # the other languages stay
    assert settings.gateways.africastalking.api_key == "12345"
    assert settings.ussd.network_limits == {"63902": 140}
    assert settings.screen_limits() == [140, 160]


def test_settings_cannot_be_changed_after_start_up(tmp_path: Path) -> None:
    settings = _load(tmp_path, {"SECRET_KEY": "s", "PHONE_KEY": GOOD_KEY})
    with pytest.raises(AttributeError):
        settings.ussd.session_ttl = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.sms.keywords["xx"] = ("NEW",)  # type: ignore[index]
    assert GOOD_KEY not in repr(settings) and "phone_key" not in repr(settings)


def test_nothing_reads_settings_by_path() -> None:
    # Typed sections only: a path with a default in code is how defaults used to drift.
    assert not hasattr(Settings, "get") and not hasattr(Settings, "section")
    pattern = re.compile(r"settings\.(get|section)\(")
    offenders = [
        str(path.relative_to(PROJECT_DIR))
        for path in PROJECT_DIR.rglob("*.py")
        if ".venv" not in path.parts
        and path.name != "test_settings.py"
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# The README's table of settings -------------------------------------------------------------------


def test_the_readme_table_is_generated_from_config_yaml() -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert reference.block() in readme, "README's settings table is stale: run make settings-table"


def test_every_setting_is_explained_in_config_yaml() -> None:
    meaning = reference.comments(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    table = reference.table()
    for line in table.splitlines()[2:]:
        key = line.split("`")[1]
        assert meaning.get(key), f"{key}: give it a comment in config.yaml"
    # One row per typed setting, none for the secrets (the environment's only).
    assert len(table.splitlines()) - 2 == len(list(reference._leaves(Settings)))
    assert "phone_key" not in table


def test_comments_are_read_by_key_with_their_continuations() -> None:
    text = (
        "# header\n"
        "top: 1        # the top\n"
        "section:\n"
        '  key: "a # b"  # after a quoted hash\n'
        "  other: 2    # first line\n"
        "              # and its continuation\n"
        "  # a note above, not a continuation\n"
        "  third: 3\n"
    )
    assert reference.comments(text) == {
        "top": "the top",
        "section.key": "after a quoted hash",
        "section.other": "first line and its continuation",
    }
