#!/usr/bin/env python3
"""i18n_strings.py [--missing LANG] - every sentence the suite says to people,
found in the code: the formats of demo_say()/demo_die() and the N_("...")
strings in the demo programs, `_("...")` in the harness, each demo's TITLE,
LESSON and run labels, and the Makefiles' target descriptions (## ...).
With --missing LANG: those that lang/LANG.txt does not translate yet, in the
table's own format, ready to be filled in; with --stale LANG: the sentences
the table translates that nothing says any more."""
import ast
import re
import sys

from i18n import load
from suite import DEMOS, HARNESS, ROOT, parse_python

SAY = re.compile(r"\b(?:demo_say|demo_die|N_)\(")
C_STRING = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')
C_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "'": "'"}
TARGET = re.compile(r"^[^#\s][^:=]*:[^=]*?## (.*)$")


def c_unescape(body: str) -> str:
    return re.sub(r"\\(x[0-9a-fA-F]{2}|.)",
                  lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x"
                  else C_ESCAPES.get(m.group(1), m.group(1)), body)


def c_sentences(text: str):
    """The string literal (adjacent ones joined) that opens each call."""
    for m in SAY.finditer(text):
        pos, parts = m.end(), []
        while True:
            s = C_STRING.match(text, pos)
            if not s:
                break
            parts.append(c_unescape(s.group(1)))
            pos = s.end()
        if parts:
            yield "".join(parts)


def python_sentences(path):
    tree = parse_python(path)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            yield node.args[0].value


def demo_sentences():
    import demolib
    for demo in demolib.all_demos():
        yield demo.title
        yield demo.lesson
        for r in demo.runs:
            if r.label:
                yield r.label


def make_sentences():
    for path in [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = TARGET.match(line)
            if m:
                yield m.group(1)


def sentences():
    """{sentence: where it was found} - every sentence for people."""
    found = {}
    for path in sorted(DEMOS.rglob("*.[ch]")):
        for s in c_sentences(path.read_text(encoding="utf-8")):
            found.setdefault(s, str(path.relative_to(ROOT)))
    for path in sorted(HARNESS.rglob("*.py")):
        if "course" in path.parts or path.name.startswith("test_"):
            continue
        for s in python_sentences(path):
            found.setdefault(s, str(path.relative_to(ROOT)))
    for s in demo_sentences():
        found.setdefault(s, "demos/*/expect.py")
    for s in make_sentences():
        found.setdefault(s, "Makefile")
    return found


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def main(argv) -> int:
    found = sentences()
    if argv[:1] == ["--stale"] and len(argv) == 2:  # translated, but said nowhere any more
        for s in load(argv[1]):
            if s not in found:
                print(f"en: {escape(s)}")
        return 0
    if argv[:1] == ["--missing"] and len(argv) == 2:
        table = load(argv[1])
        for s, where in found.items():
            if s not in table:
                print(f"# {where}\nen: {escape(s)}\n{argv[1]}: \n")
        return 0
    for s, where in found.items():
        print(f"{where}: {s!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
