"""TEMPORARY (issue 6): reading settings by path, for ``channels/`` only.

``channels/`` still calls ``settings.get("sms", ...)`` and ``settings.section("ussd")``. The
``core`` helper rebuilds ``channels/`` on the typed sections (``settings.ussd.session_ttl``);
once it has, delete this module and the base class it gives ``Settings``. Nothing else may use
it: ``tests/test_settings.py`` fails if a module outside ``channels/`` calls ``.get(`` or
``.section(`` on the settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cached_property
from typing import Any


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


class LegacyPaths:
    """``get(*path, default=...)`` and ``section(*path)`` over the typed values."""

    @cached_property
    def _as_mapping(self) -> dict[str, Any]:
        # Built once per Settings: channels/ builds a service (and calls these) per request.
        found: dict[str, Any] = _plain(self)
        return found

    def section(self, *path: str) -> dict[str, Any]:
        node: Any = self._as_mapping
        for part in path:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def get(self, *path: str, default: Any = None) -> Any:
        node: Any = self._as_mapping
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node
