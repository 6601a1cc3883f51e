"""make demo-N fits a projector: at most 60 lines and 100 columns, in
English and in Chinese (a Chinese character takes two columns), and every
demo shows at least one picture of its byte stream. Run as make does it:
rundemo.py N, no terminal, NO_COLOR."""
import os
import subprocess
import sys
import unicodedata

from draw import LABEL
from suite import DEMOS, HARNESS, Skipped

MAX_LINES, MAX_COLUMNS = 60, 100


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def check_demo(number: int, lang: str):
    env = {k: v for k, v in os.environ.items()
           if k not in ("VERBOSE", "FULL", "LANG", "LC_ALL", "LC_MESSAGES", "DEMO_LANG")}
    env.update(NO_COLOR="1", DEMO_LANG=lang)
    p = subprocess.run([sys.executable, str(HARNESS / "rundemo.py"), str(number)],
                       capture_output=True, text=True, env=env, timeout=120)
    lines = p.stdout.splitlines()
    shown = "\n".join(lines)
    assert p.returncode == 0, f"make demo-{number} (DEMO_LANG={lang}) failed:\n{shown}\n{p.stderr}"
    if any("skipped on this machine" in l for l in lines):
        raise Skipped(f"demo {number} is skipped on this machine")
    assert len(lines) <= MAX_LINES, \
        f"demo {number} (DEMO_LANG={lang}): {len(lines)} lines, more than {MAX_LINES}:\n{shown}"
    wide = [(i + 1, columns(l)) for i, l in enumerate(lines) if columns(l) > MAX_COLUMNS]
    assert not wide, f"demo {number} (DEMO_LANG={lang}): lines wider than {MAX_COLUMNS} " \
                     f"columns (line, columns): {wide}\n{shown}"
    # a picture's rows: a label (any language) padded to draw.LABEL columns, then the bar
    assert any(is_picture_row(l) for l in lines), f"demo {number}: no picture\n{shown}"


def is_picture_row(line: str) -> bool:
    bar = line.find("|")
    return bar > 0 and columns(line[:bar]) == LABEL and line[bar - 1] == " " and \
        not line.startswith(" ") and line.count("|") >= 2


def _make(number: int, lang: str):
    def test():
        check_demo(number, lang)
    test.__name__ = f"test_demo_{number:02d}_fits_a_projector_{lang}"
    return test


for _folder in sorted(DEMOS.glob("[0-9][0-9]-*")):
    if (_folder / "expect.py").exists():
        for _lang in ("en", "zh"):
            _t = _make(int(_folder.name[:2]), _lang)
            globals()[_t.__name__] = _t
