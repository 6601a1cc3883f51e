"""i18n - sentences for people, in the reader's language (stub: English only for now)."""


def _(text: str) -> str:
    return text
