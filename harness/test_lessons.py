"""LESSONS.md's tables say which check backs each row ("checked by"): every
rule they name is a rule of some demo's expect.py, and every test they name
is a test function here, so a renamed or removed check cannot leave a row
that nothing checks."""
import re

import demolib
import run_tests
from suite import ROOT

TABLES = ("## Myths and facts", "## What the notes get wrong")
TEST_NAME = re.compile(r"`(test_\w+)`")


def table_rows(heading: str):
    text = (ROOT / "LESSONS.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]


def checked_by(row: str) -> str:
    return row.rstrip(" |").rsplit(" | ", 1)[1]


def rule_names(cell: str):
    """The names after 'rule' or 'rules' in a cell: "a", "b" and "c"."""
    names = []
    for part in re.split(r"\brules? ", cell)[1:]:
        part = re.split(r"`|; demo ", part)[0]
        names += re.findall(r'"(.*?)"(?=,| and |$| \(|;)', part.strip())
    return names


def all_rules():
    return [r.says for d in demolib.all_demos() for run in d.runs for r in run.rules]


def matches(name: str, says: str) -> bool:
    """A quoted name, where "..." stands for any text."""
    pattern = ".*".join(re.escape(p.strip()) for p in re.split(r"\.\.\.|…", name))
    return re.search(pattern, says) is not None


def test_every_rule_a_lessons_table_names_exists():
    rules = all_rules()
    missing = []
    for heading in TABLES:
        for row in table_rows(heading):
            for name in rule_names(checked_by(row)):
                if not any(matches(name, says) for says in rules):
                    missing.append(f"{heading[3:]}: {name!r}")
    assert not missing, "LESSONS.md names rules that no expect.py has:\n  " + "\n  ".join(missing)


def test_every_test_a_lessons_table_names_exists():
    tests = {name.split(".", 1)[1] for name, _ in run_tests.test_functions("test_")}
    missing = [f"{heading[3:]}: {name}" for heading in TABLES for row in table_rows(heading)
               for name in TEST_NAME.findall(checked_by(row)) if name not in tests]
    assert not missing, "LESSONS.md names tests that do not exist:\n  " + "\n  ".join(missing)


def test_the_rule_names_are_read_from_the_tables():
    names = [n for h in TABLES for row in table_rows(h) for n in rule_names(checked_by(row))]
    assert len(names) >= 15, names
    assert not matches("no such rule in any demo", "conn 4 (TCP_NODELAY, paced): one recv")
