"""Marking the matched part of a text for display, without producing HTML: the
template wraps the marked segments in <mark>, so escaping stays automatic."""

from __future__ import annotations

import re


def highlight_segments(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, matched) by the case-insensitive occurrences of
    `terms` (longest first). Ё and е match each other, as in the folded search text."""
    usable = [t for t in terms if len(t) >= 2]
    if not text or not usable:
        return [(text, False)]
    pattern = "|".join(
        re.escape(t).replace("е", "[её]") for t in sorted(usable, key=len, reverse=True)
    )
    segments: list[tuple[str, bool]] = []
    position = 0
    for match in re.finditer(pattern, text, flags=re.IGNORECASE):
        if match.start() > position:
            segments.append((text[position : match.start()], False))
        segments.append((match.group(0), True))
        position = match.end()
    if position < len(text):
        segments.append((text[position:], False))
    return segments or [(text, False)]
