"""The answers a report is made of: the one contract between a tree and the reports table.

``storage.operations.intake.report_columns`` reads a finished conversation's answers by these
keys, and ``check_contract`` proves at validation time that a tree answers them the way the
report reads them. A tree an editor changed can therefore never store reports with silently empty
columns (a renamed key, a place list fed from the wrong data, a "when" choice nobody can date).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import problems as codes
from .model import InputType, NodeKind, Tree
from .problems import Problem

# The "when" answers the report turns into dates (relative to the reporter's today).
WHEN_TODAY = "today"
WHEN_YESTERDAY = "yesterday"
WHEN_THIS_WEEK = "this_week"
WHEN_EARLIER = "earlier"  # the reporter types the date: answer key DATE


@dataclass(frozen=True)
class ReportKey:
    key: str
    required: bool
    kinds: tuple[NodeKind, ...]  # node kinds that may answer it
    # The data sources a list node may read (the report reads its items' extras).
    sources: tuple[str, ...] = ()
    input_type: InputType | None = None
    values: tuple[str, ...] = ()  # for menus: the only values the report understands
    none_values: tuple[str, ...] = ()  # for lists: fixed options meaning "not in the list"


CATEGORY = ReportKey("category", True, ("menu",))
SUBCATEGORY = ReportKey("subcategory", False, ("menu",))
# The eight mining provinces first, the eighteen others after "another province".
PROVINCE = ReportKey(
    "province", False, ("list",), sources=("provinces", "other_provinces"), none_values=("other",)
)
TERRITORY = ReportKey(
    "territory", False, ("list",), sources=("territories",), none_values=("unknown",)
)
SITE = ReportKey("site", False, ("input",), input_type="text")
WHEN = ReportKey(
    "when", False, ("menu",), values=(WHEN_TODAY, WHEN_YESTERDAY, WHEN_THIS_WEEK, WHEN_EARLIER)
)
DATE = ReportKey("date", False, ("input",), input_type="date")
DETAILS = ReportKey("details", False, ("input",), input_type="text")

REPORT_KEYS: tuple[ReportKey, ...] = (
    CATEGORY,
    SUBCATEGORY,
    PROVINCE,
    TERRITORY,
    SITE,
    WHEN,
    DATE,
    DETAILS,
)
# Keys whose values are the taxonomy's stable codes (README, "Codes are stable").
TAXONOMY_KEYS: tuple[ReportKey, ...] = (CATEGORY, SUBCATEGORY)


def check_contract(tree: Tree) -> list[Problem]:
    """Every key a report needs is answered, by the kind of node the report expects."""
    found: list[Problem] = []
    for spec in REPORT_KEYS:
        answering = [n for n in tree.nodes.values() if n.key == spec.key]
        if spec.required and not answering:
            found.append(
                Problem(
                    codes.MISSING_REPORT_KEY,
                    f"no node answers '{spec.key}', which every report needs",
                )
            )
        for node in answering:
            wrong = None
            if node.kind not in spec.kinds:
                wrong = f"a {' or '.join(spec.kinds)} node"
            elif spec.sources and node.source not in spec.sources:
                wrong = "a list of " + " or ".join(f"'{name}'" for name in spec.sources)
            elif spec.input_type is not None and node.input_type != spec.input_type:
                wrong = f"a {spec.input_type} input"
            if wrong is not None:
                found.append(
                    Problem(
                        codes.WRONG_REPORT_KEY_NODE,
                        f"answers '{spec.key}', which the report reads from {wrong}",
                        node.id,
                    )
                )
                continue
            allowed = spec.values or spec.none_values
            if not allowed:
                continue
            for option in (*node.options, *node.retired):
                if option.action is None and option.value not in allowed:
                    found.append(
                        Problem(
                            codes.UNKNOWN_ANSWER_VALUE,
                            f"value '{option.value}' means nothing to a report's '{spec.key}' "
                            f"(known: {', '.join(allowed)})",
                            node.id,
                            option.id,
                        )
                    )
    return found
