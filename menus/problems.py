"""What is wrong with a tree, as data: an editor shows each problem next to the node it concerns.

Every check (the compiler, the validator, the report contract, the taxonomy codes) reports
``Problem`` values with a stable ``code``; ``str(problem)`` is the one-line message the CLI and
the start-up error print. Options are named by their stable id, never by their position, so a
problem still points at the right option after the editor reorders them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]

# Stable problem codes. Tests and the editor match on these; messages may be reworded.
# Reading the document
NOT_A_MAPPING = "not_a_mapping"
INVALID_YAML = "invalid_yaml"
NOT_JSON = "not_json"
BAD_SPEC_VERSION = "bad_spec_version"
MISSING_FIELD = "missing_field"
BAD_FIELD = "bad_field"
UNKNOWN_KIND = "unknown_kind"
UNKNOWN_INPUT = "unknown_input"
UNKNOWN_ACTION = "unknown_action"
DUPLICATE_ID = "duplicate_id"
MISSING_OPTION_ID = "missing_option_id"
MISSING_TEXT = "missing_text"
# Structure
START_MISSING = "start_missing"
DANGLING_LINK = "dangling_link"
UNKNOWN_ANSWER_KEY = "unknown_answer_key"
DEFAULT_BRANCH_LAST = "default_branch_last"
NO_OPTIONS = "no_options"
NO_NEXT = "no_next"
MISSING_VALUE = "missing_value"
TOO_MANY_OPTIONS = "too_many_options"
MISSING_KEY = "missing_key"
UNKNOWN_SOURCE = "unknown_source"
BAD_PARAMS = "bad_params"
SKIP_TOKEN_IS_NAVIGATION = "skip_token_is_navigation"
BAD_LENGTHS = "bad_lengths"
NO_SUBMIT = "no_submit"
SUBMIT_NOT_TO_END = "submit_not_to_end"
NO_LANGUAGE_NODE = "no_language_node"
SEVERAL_LANGUAGE_NODES = "several_language_nodes"
END_WITH_NEXT = "end_with_next"
NO_TITLES = "no_titles"
# Paths
UNREACHABLE = "unreachable"
NO_END = "no_end"
# Languages and screens
UNTRANSLATED_SYSTEM_MESSAGES = "untranslated_system_messages"
CANNOT_SHOW = "cannot_show"
SCREEN_TOO_LONG = "screen_too_long"
CONFIRM_TOO_FULL = "confirm_too_full"
# The report's contract and the taxonomy codes
MISSING_REPORT_KEY = "missing_report_key"
WRONG_REPORT_KEY_NODE = "wrong_report_key_node"
UNKNOWN_ANSWER_VALUE = "unknown_answer_value"
DUPLICATE_CODE = "duplicate_code"
CODE_REMOVED = "code_removed"
CODE_REUSED = "code_reused"
PLACEHOLDER_MISMATCH = "placeholder_mismatch"
# Warnings: the tree may serve, but an editor should know
TRANSLITERATED = "transliterated"
INCOMPLETE_LANGUAGE = "incomplete_language"  # a language being added: not offered yet
# Importing a translator's PO file (menus.po)
PO_MALFORMED = "po_malformed"  # error: nothing imported
PO_NO_LANGUAGE = "po_no_language"  # error: nothing imported
PO_UNKNOWN_CONTEXT = "po_unknown_context"  # warning: that entry skipped
PO_FUZZY = "po_fuzzy"  # warning: that entry skipped
PO_SOURCE_CHANGED = "po_source_changed"  # warning: that entry skipped


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    node: str | None = None  # a node id; "@resume" and "@cancelled" name the system screens
    option: str | None = None  # the option's stable id ("skip" for an input's skip option)
    language: str | None = None
    field: str | None = None  # which part: text, label, error, next, summary, ...
    severity: Severity = "error"
    # For TRANSLITERATED: each character that had to change, and what it became.
    characters: tuple[tuple[str, str], ...] = ()

    @property
    def where(self) -> str:
        if self.node is None:
            place = "tree"
        elif self.node.startswith("@"):
            place = f"system screen {self.node}"
        else:
            place = f"node '{self.node}'"
        if self.option is not None:
            place += f" option '{self.option}'"
        if self.field is not None:
            place += f" {self.field}"
        if self.language is not None:
            place += f" ({self.language})"
        return place

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON for the editor: every field, plus the printed line."""
        return {
            "code": self.code,
            "severity": self.severity,
            "node": self.node,
            "option": self.option,
            "language": self.language,
            "field": self.field,
            "message": self.message,
            "characters": [list(pair) for pair in self.characters],
            "text": str(self),
        }


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]
