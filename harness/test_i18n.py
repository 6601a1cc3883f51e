"""Chinese: every sentence the suite says to people has a translation in
lang/zh.txt with the same conversions; the demos narrate in Chinese with
DEMO_LANG=zh (trace and fact lines unchanged); README.zh.md and
LESSONS.zh.md carry the sections of their English twins."""
import os
import re
import subprocess
import sys

import i18n
from i18n_strings import sentences
from suite import HARNESS, ROOT

C_CONVERSION = re.compile(r"%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcsp%]")
PY_FIELD = re.compile(r"\{(\w*)[^{}]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def conversions(text: str):
    """What a sentence's arguments fill in, in order: printf conversions and {fields}."""
    return C_CONVERSION.findall(text), sorted(PY_FIELD.findall(text))


def test_every_sentence_has_a_chinese_translation():
    table, found = i18n.load("zh"), sentences()
    missing = [f"{where}: {s!r}" for s, where in found.items() if s not in table]
    assert not missing, (f"{len(missing)} of {len(found)} sentences have no translation in "
                         f"lang/zh.txt (python3 harness/i18n_strings.py --missing zh lists "
                         f"them):\n  " + "\n  ".join(missing[:30]))


def test_no_translation_is_left_for_a_sentence_nothing_says():
    table, found = i18n.load("zh"), sentences()
    stale = [s for s in table if s not in found]
    assert not stale, (f"{len(stale)} sentences of lang/zh.txt are said nowhere any more "
                       f"(python3 harness/i18n_strings.py --stale zh lists them): edit or remove "
                       f"them:\n  " + "\n  ".join(map(repr, stale[:30])))


def test_every_translation_keeps_the_conversions():
    bad = []
    for english, chinese in i18n.load("zh").items():
        if conversions(english) != conversions(chinese):
            bad.append(f"{english!r}\n    -> {chinese!r}")
        words = PY_FIELD.sub("", C_CONVERSION.sub("", english))  # the text, not its fields
        if not CJK.search(chinese) and re.search(r"[a-z]{3}", words):
            bad.append(f"{english!r}\n    -> {chinese!r} (no Chinese in it)")
    assert not bad, "translations whose conversions differ, or that are not Chinese:\n  " + \
        "\n  ".join(bad[:30])


def test_the_coverage_check_can_fail():
    assert conversions("%d of %zu bytes") != conversions("%zu of %d bytes")
    assert "No such sentence in any program." not in i18n.load("zh")


def test_demo_1_narrates_in_chinese():
    env = dict(os.environ, DEMO_LANG="zh", NO_COLOR="1")
    p = subprocess.run([sys.executable, str(HARNESS / "rundemo.py"), "1"], env=env,
                       capture_output=True, text=True, timeout=60)
    said = [l for l in p.stdout.splitlines() if re.match(r"^(server|client): ", l)]
    calls = [l for l in p.stdout.splitlines() if " | recv #" in l or " | send #" in l]
    assert p.returncode == 0 and said and all(CJK.search(l) for l in said), \
        f"expected every sentence of demo 1 in Chinese:\n{p.stdout}\n{p.stderr}"
    assert calls and all(not CJK.search(l) for l in calls), "trace lines must stay as they are"


def headings(path):
    """The depth of each heading, outside code blocks (a shell comment is not one)."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [len(m.group(1)) for m in re.finditer(r"^(#+) ", text, re.M)]


def test_chinese_readme_and_lessons_have_every_section():
    for name in ("README", "LESSONS"):
        en, zh = ROOT / f"{name}.md", ROOT / f"{name}.zh.md"
        assert zh.exists(), f"{zh.name} is missing"
        assert headings(zh) == headings(en), \
            f"{zh.name}: its headings ({len(headings(zh))}) are not those of {en.name} " \
            f"({len(headings(en))}): every section, in the same order and depth"
        text = re.sub(r"^```.*?^```", "", zh.read_text(encoding="utf-8"), flags=re.M | re.S)
        titles = re.findall(r"^#+ (.*)$", text, re.M)
        assert all(CJK.search(t) or re.match(r"^[\w `./()-]+$", t) for t in titles), titles
