"""Source documents: kept as written, JSON-storable, and exported to YAML that reads back identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from menus import problems as codes
from menus.compiler import compile_tree
from menus.document import normalise, parse_text, to_json, to_yaml
from menus.errors import TreeError
from menus.loader import read_document

DEFAULT_TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"


def test_the_default_tree_round_trips_through_yaml() -> None:
    document = read_document(DEFAULT_TREE)
    again = parse_text(to_yaml(document, header="tree incident, version 3\n(published)"))
    assert again == document
    assert to_json(again) == to_json(document)


def test_texts_are_kept_as_written_and_compiled_to_gsm() -> None:
    document = read_document(DEFAULT_TREE)
    assert document["language_names"]["fr"] == "Français"
    tree = compile_tree(document, version=4, source="db")
    assert tree.language_names["fr"] == "Francais"
    assert tree.version == 4
    assert document["language_names"]["fr"] == "Français"


@pytest.mark.parametrize(
    "text",
    ["yes", "no", "on", "1", "00", "0.5", " padded ", "a: b", "# not a comment", "", "é\nà", "~"],
)
def test_strings_yaml_would_misread_survive_the_round_trip(text: str) -> None:
    document = {"id": "t", "nodes": [{"id": "n", "text": {"fr": text}}], "keywords": {"": ["X"]}}
    assert parse_text(to_yaml(document)) == document


def test_a_file_version_field_is_not_part_of_the_document() -> None:
    document = parse_text("spec_version: 1\nid: t\nversion: 7\n")
    assert document == {"spec_version": 1, "id": "t"}


def test_values_json_cannot_hold_are_refused_by_path() -> None:
    with pytest.raises(TreeError) as raised:
        parse_text("id: t\nlanguage_names: {no: Norsk}\nnodes: [{id: n, text: 2026-01-01}]\n")
    assert [(p.code, p.message) for p in raised.value.problems] == [
        (codes.NOT_JSON, "key False at '/language_names' is not a string (quote it in YAML)"),
        (
            codes.NOT_JSON,
            "value at '/nodes/0/text' is a date, not text or a number (quote it in YAML)",
        ),
    ]


def test_invalid_yaml_and_a_list_are_refused() -> None:
    with pytest.raises(TreeError) as raised:
        parse_text("nodes: [\n")
    assert raised.value.problems[0].code == codes.INVALID_YAML
    with pytest.raises(TreeError) as raised:
        normalise(["a"])
    assert raised.value.problems[0].code == codes.NOT_A_MAPPING
