"""Lists computed from data, for ``list`` nodes: the provinces, the territoires of a province.

A data source returns items for given parameters (taken from earlier answers) and can enumerate
every parameter combination, so the validator can prove each possible screen fits.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import gsm
from .names import Names

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Item:
    code: str
    label: str  # a proper name: the same in every language
    extra: dict[str, str] = field(default_factory=dict)
    # The keys a typed name is compared with, made once when the data is loaded.
    names: Names = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", Names.of([self.label]))


class DataSource(Protocol):
    parameters: tuple[str, ...]

    def items(self, params: dict[str, str]) -> list[Item]: ...

    def parameter_space(self) -> Iterable[dict[str, str]]: ...


class StaticSource:
    """Items filtered by equality on some of their ``extra`` fields."""

    def __init__(self, items: list[Item], parameters: tuple[str, ...] = ()) -> None:
        self._items = items
        self.parameters = parameters
        self._by_params: dict[tuple[str, ...], list[Item]] = {}
        for item in items:
            key = tuple(item.extra.get(p, "") for p in parameters)
            self._by_params.setdefault(key, []).append(item)

    def items(self, params: dict[str, str]) -> list[Item]:
        return self._by_params.get(tuple(params.get(p, "") for p in self.parameters), [])

    def parameter_space(self) -> Iterable[dict[str, str]]:
        for key in self._by_params:
            yield dict(zip(self.parameters, key, strict=True))


class Datasets:
    def __init__(self, sources: dict[str, DataSource]) -> None:
        self._sources = sources

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def get(self, name: str | None) -> DataSource:
        if name is None or name not in self._sources:
            raise KeyError(f"unknown data source {name!r}")
        return self._sources[name]

    @property
    def names(self) -> list[str]:
        return sorted(self._sources)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def transliterated_labels(directory: Path = DATA_DIR) -> list[tuple[str, str, str]]:
    """(file, name as written, name as sent) for each name GSM-7 changes ("Kasaï" -> "Kasai"):
    the data's share of what ``flask menus check`` lists."""
    found: list[tuple[str, str, str]] = []
    for filename in ("provinces.csv", "territories.csv"):
        for row in _read_csv(directory / filename):
            sent = gsm.to_gsm(row["name"])
            if sent != row["name"]:
                found.append((filename, row["name"], sent))
    return found


def load_default_datasets(directory: Path = DATA_DIR) -> Datasets:
    """The DRC's provinces and their territoires (public facts, ``data/SOURCES.md``).

    ``provinces`` are the eight eastern and southern mining provinces a reporter is offered first;
    ``other_provinces`` the eighteen others, offered after "another province".
    """
    provinces: dict[str, list[Item]] = {}
    for row in _read_csv(directory / "provinces.csv"):
        item = Item(code=row["iso"], label=gsm.to_gsm(row["name"]), extra={"pcode": row["pcode"]})
        provinces.setdefault(row["group"], []).append(item)
    territories = [
        Item(
            code=row["code"],
            label=gsm.to_gsm(row["name"]),
            extra={"province": row["province_iso"], "kind": row["kind"], "pcode": row["pcode"]},
        )
        for row in _read_csv(directory / "territories.csv")
    ]
    return Datasets(
        {
            "provinces": StaticSource(provinces.get("east", [])),
            "other_provinces": StaticSource(provinces.get("other", [])),
            "territories": StaticSource(territories, parameters=("province",)),
        }
    )
