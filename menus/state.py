"""Session state: small plain data, serialised to JSON between turns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RESUME_NODE = "@resume"  # pseudo-node: "you have an unfinished report: 1 continue / 2 start again"
CANCELLED_NODE = "@cancelled"  # pseudo-node: the conversation was cancelled by the reporter
DISCARD_NODE = "@discard"  # pseudo-node: "throw this report away? 1 yes / 2 no, go back"
CHANGE_NODE = "@change"  # pseudo-node: "which answer do you want to change?"
STATUS_NODE = "@status"  # pseudo-node: the answer to "follow my report" (the conversation ends)
PSEUDO_NODES = (RESUME_NODE, CANCELLED_NODE, DISCARD_NODE, CHANGE_NODE, STATUS_NODE)


@dataclass
class Frame:
    """A screen we left, to come back to with ``0``: node, page, and how many answers existed."""

    node: str
    page: int
    answers: int


@dataclass
class State:
    tree_id: str
    tree_version: int
    node: str
    language: str | None = None
    page: int = 0
    # Ordered answer entries: {"key", "node", "value", ...}; the last entry of a key wins.
    answers: list[dict[str, Any]] = field(default_factory=list)
    stack: list[Frame] = field(default_factory=list)
    ended: bool = False
    reference: str | None = None
    resume: dict[str, Any] | None = None  # the snapshot offered at RESUME_NODE
    # Answers the reporter went back over (``0``) or is changing, by node id: offered again
    # ("1 keep: Kamituga") rather than lost, and kept without asking after a change.
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The reporter chose "change" on the confirmation: after the changed answer, the questions
    # that follow keep their earlier answers and the conversation returns to the confirmation.
    changing: bool = False
    # A typed name matched several choices: the positions (in the node's choices) shown.
    narrow: list[int] | None = None
    # "Follow my report": the reference typed (never ``reference``, which is the reference of
    # a report this conversation stored) and what the lookup answered (a ``FollowStatus``).
    asked: str | None = None
    status: str | None = None

    def values(self) -> dict[str, str]:
        """Answer key -> stored value (skipped answers are absent)."""
        out: dict[str, str] = {}
        for entry in self.answers:
            if entry.get("skipped"):
                out.pop(entry["key"], None)
            else:
                out[entry["key"]] = entry["value"]
        return out

    def entries(self) -> dict[str, dict[str, Any]]:
        """Answer key -> its latest entry, skipped ones included."""
        return {entry["key"]: entry for entry in self.answers}

    @property
    def unfinished(self) -> bool:
        """A report has been started (at least one answer) and neither sent nor cancelled."""
        return bool(self.answers) and not self.ended and self.node != RESUME_NODE

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict: that deep-copies recursively and was the
        # largest single cost of a USSD hop. Answer entries are never mutated once recorded.
        return {
            "tree_id": self.tree_id,
            "tree_version": self.tree_version,
            "node": self.node,
            "language": self.language,
            "page": self.page,
            "answers": [dict(entry) for entry in self.answers],
            "stack": [{"node": f.node, "page": f.page, "answers": f.answers} for f in self.stack],
            "ended": self.ended,
            "reference": self.reference,
            "resume": self.resume,
            "previous": {node: dict(entry) for node, entry in self.previous.items()},
            "changing": self.changing,
            "narrow": list(self.narrow) if self.narrow is not None else None,
            "asked": self.asked,
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        data = dict(data)
        data["stack"] = [Frame(**frame) for frame in data.get("stack", [])]
        return cls(**data)
