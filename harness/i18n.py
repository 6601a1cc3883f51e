"""i18n - sentences for people, in the reader's language.

The sentences are written in English in the code, and that text is the key:
`_("1 recv: two sends merged")`. Each other language has one table,
lang/LANG.txt (today lang/zh.txt, Chinese), of pairs:

    en: 1 recv: two sends merged
    zh: 1 次 recv：两次 send 粘在了一起

with \\n, \\t and \\\\ written as escapes. The C demo programs read the same
table (compiled in: harness/i18n_gen.py writes it as C). Trace and fact
lines are not sentences: they stay as they are, for the harness.

The language: DEMO_LANG (e.g. zh), else LC_ALL, LC_MESSAGES or LANG when it
starts with "zh"; English otherwise.
"""
import os
from pathlib import Path
from typing import Dict, Optional

LANG_DIR = Path(__file__).resolve().parent.parent / "lang"
_tables: Dict[str, Dict[str, str]] = {}


def language() -> str:
    """'zh' or 'en', from DEMO_LANG, LC_ALL, LC_MESSAGES or LANG (in that order)."""
    for name in ("DEMO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def load(lang: str) -> Dict[str, str]:
    """{English: translation} from lang/LANG.txt (empty if there is none)."""
    if lang not in _tables:
        table, english = {}, None
        path = LANG_DIR / f"{lang}.txt"
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            if line.startswith("en: "):
                english = unescape(line[4:])
            elif line.startswith(f"{lang}: ") and english is not None:
                table[english] = unescape(line[len(lang) + 2:])
                english = None
        _tables[lang] = table
    return _tables[lang]


def translate(text: str, lang: Optional[str] = None) -> str:
    lang = lang or language()
    if lang == "en":
        return text
    return load(lang).get(text, text)


def _(text: str) -> str:
    """text in the reader's language (text itself where no translation exists)."""
    return translate(text)


def N_(text: str) -> str:
    """Marks a sentence where it is written, to be translated where it is
    shown (with _()): i18n_strings.py finds it, as it finds _("...")."""
    return text


# the sides, as the grader's sentences name them ({side}, {who}): translated with _()
ROLES = (N_("client"), N_("server"))
