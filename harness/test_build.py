"""The build and the shape of the code: touching a header rebuilds everything
built from it, and no function or file grows past what a reader can hold.

These read the tree and ask make what it would do (`make -n`); they build
nothing and change no file.
"""
import ast
import re
import subprocess
from pathlib import Path

from suite import ROOT, parse_python

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SEARCH = [ROOT / "solution", ROOT / "demos" / "common"]  # the Makefile's -I options
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 600


def c_sources():
    return [p for d in ("demos", "solution", "tools") for p in sorted((ROOT / d).rglob("*.c"))
            if "fuzz_" not in p.name]


def resolve(name: str, including: Path):
    """Where #include "name" in file including is found: its own folder first."""
    for folder in [including.parent, *SEARCH]:
        if (folder / name).exists():
            return (folder / name).resolve()
    return None


def headers_of(path: Path, seen=None):
    """Every project header path includes, directly or through another header."""
    seen = set() if seen is None else seen
    for name in INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace")):
        h = resolve(name, path)
        if h and h not in seen:
            seen.add(h)
            headers_of(h, seen)
    return seen


COMPILE = re.compile(r"-c -o \S+ (\S+\.c)$", re.M)


def compiled(dry_run: str):
    """The .c files a `make -n` would compile."""
    return set(COMPILE.findall(dry_run))


def make_dry_run(*args):
    p = subprocess.run(["make", "-n", "V=1", "--no-print-directory", *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"$ make -n V=1 {' '.join(args)}  (exit {p.returncode})\n"
                             f"{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return p.stdout


def test_touching_a_header_rebuilds_every_file_that_includes_it():
    """For each header, `make -n -W HEADER all` (make's "as if it were just
    touched") must recompile every .c file that includes it, directly or
    through another header, and relink the program whose main file it is.
    Which files include which header is found here from the #include lines,
    independently of the .d files the compiler wrote."""
    already = compiled(make_dry_run("all"))  # out of date anyway (a file being edited)
    sources = {src: headers_of(src) for src in c_sources()}
    headers = sorted({h for hs in sources.values() for h in hs})
    assert len(headers) >= 10, f"expected the project's headers, found {headers}"
    problems = []
    for h in headers:
        out = compiled(make_dry_run("-W", str(h.relative_to(ROOT)), "all"))
        for src, hs in sources.items():
            rel = str(src.relative_to(ROOT))
            if h in hs and rel not in out | already:
                problems.append(f"touching {h.relative_to(ROOT)} does not recompile {rel}")
    assert not problems, "stale builds possible:\n  " + "\n  ".join(problems)


def test_a_dependency_check_that_can_fail():
    """The check above is not vacuous: a file no source includes rebuilds
    nothing, and a header rebuilds what includes it and nothing else."""
    extra = compiled(make_dry_run("-W", "README.md", "all")) - compiled(make_dry_run("all"))
    assert not extra, f"touching README.md recompiles {sorted(extra)}"
    one = compiled(make_dry_run("-W", "solution/frame.h", "all"))
    assert "solution/frame.c" in one and "demos/common/decode.c" not in one, \
        f"touching frame.h: expected frame.c recompiled and decode.c not, got {sorted(one)}"


def c_functions(path: Path):
    """(name, first line, line count) of each function defined in a C file: a
    line at column 0 that ends a signature, a '{' line, and the '}' at column 0."""
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    found, start, name = [], None, None
    for i, line in enumerate(lines):
        if start is None and line == "{" and i > 0:
            j = i - 1
            while j > 0 and not re.match(r"^[A-Za-z_]", lines[j]):
                j -= 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            start, name = j, m.group(1) if m else "?"
        elif start is not None and line.startswith("}"):
            found.append((name, start + 1, i - start + 1))
            start = None
    return found


def python_functions(path: Path):
    tree = parse_python(path)
    return [(n.name, n.lineno, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def is_test(path: Path) -> bool:
    return path.name.startswith(("test_", "fuzz_"))


def test_no_function_over_60_lines_outside_tests():
    long = []
    for path in c_sources() + sorted((ROOT / "solution").rglob("*.h")):
        if not is_test(path):
            long += [(path, *f) for f in c_functions(path) if f[2] > MAX_FUNCTION_LINES]
    for path in sorted(ROOT.rglob("*.py")):
        if not is_test(path) and "build" not in path.relative_to(ROOT).parts:
            long += [(path, *f) for f in python_functions(path) if f[2] > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n  " + "\n  ".join(
        f"{p.relative_to(ROOT)}:{line} {name}() is {n} lines" for p, name, line, n in long)


def test_no_file_over_600_lines_outside_tests_and_lessons():
    big = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if (not path.is_file() or rel.parts[0] in ("build", "bin", ".git") or is_test(path)
                or path.name.startswith("LESSONS") or path.suffix not in
                (".c", ".h", ".py", ".mk", ".md", ".sh", "") or "fuzz-corpus" in rel.parts):
            continue
        n = path.read_bytes().count(b"\n")
        if n > MAX_FILE_LINES:
            big.append(f"{rel} has {n} lines")
    assert not big, f"files over {MAX_FILE_LINES} lines:\n  " + "\n  ".join(big)


def test_the_function_finder_finds_functions():
    """The shape checks cannot pass by finding nothing."""
    found = {name for name, _, _ in c_functions(ROOT / "solution" / "frame.c")}
    assert {"read_exact", "send_framev", "frame_reader_next"} <= found, found
