"""What translators' files and languages cost: PO export and import of the default tree, the
per-language completeness an editor shows, and judging the tree (as a save or a publish does)
with three languages and with a fourth (Lingala) offered. Best of five, milliseconds.

    .venv/bin/python bench/translations.py
"""

from __future__ import annotations

import shutil
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

from menus.checker import TreeChecker
from menus.datasets import load_default_datasets
from menus.i18n import LOCALES_DIR, Catalog
from menus.languages import completeness
from menus.loader import read_document
from menus.po import export_po, import_po

TREE = Path(__file__).resolve().parents[1] / "menus" / "trees" / "incident.yaml"
LIMITS = (140, 160)


def best(run: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(run, number=number, repeat=5)) / number * 1000


def main() -> None:
    document = read_document(TREE)
    catalog, datasets = Catalog.load(), load_default_datasets()
    french = export_po(document, "fr")
    # Lingala, as a translator's file would add it: every text (the French ones stand in) and a
    # system catalog.
    lingala, problems = import_po(document, french.replace("Language: fr", "Language: ln"))
    assert not problems
    with tempfile.TemporaryDirectory() as folder:
        locales = Path(folder) / "locales"
        shutil.copytree(LOCALES_DIR, locales)
        shutil.copytree(locales / "fr", locales / "ln")
        with_ln = Catalog.load(locales)
    checker, checker_ln = (
        TreeChecker(datasets, catalog, LIMITS),
        TreeChecker(datasets, with_ln, LIMITS),
    )
    judged = checker_ln.judge(lingala)
    assert judged.ok and judged.tree is not None and "ln" in judged.tree.languages
    entries = french.count('\nmsgctxt "')
    took = best(lambda: export_po(document, "fr"), 20)
    print(f"export_po (fr, {entries} entries): {took:.1f} ms")
    print(f"import_po (fr): {best(lambda: import_po(document, french), 20):.1f} ms")
    print(
        f"completeness (every language): {best(lambda: completeness(document, catalog), 50):.2f} ms"
    )
    print(f"judge, sw fr en, limits {LIMITS}: {best(lambda: checker.judge(document), 3):.0f} ms")
    print(
        f"judge, sw fr en ln, limits {LIMITS}: {best(lambda: checker_ln.judge(lingala), 3):.0f} ms"
    )


if __name__ == "__main__":
    main()
