"""A page of hits: the stored payload of each product plus highlights of the words that matched.

Highlights are HTML with the matched words in <b>...</b> and everything else escaped: the whole name, and a short
fragment of the description around its matches. Only the returned page is highlighted; a word matched only
through a typo or a prefix is not marked.
"""

from __future__ import annotations

import html
import json
from typing import Any

import tantivy

from domain.catalog_fields import NAME_MAX
from search.schema import PAYLOAD_FIELD

DESCRIPTION_FRAGMENT = 160  # characters of description around its matches


class Highlighter:
    def __init__(self, searcher: tantivy.Searcher, query: tantivy.Query, schema: tantivy.Schema) -> None:
        self.name = tantivy.SnippetGenerator.create(searcher, query, schema, "name")
        self.name.set_max_num_chars(NAME_MAX + 50)
        self.description = tantivy.SnippetGenerator.create(searcher, query, schema, "description")
        self.description.set_max_num_chars(DESCRIPTION_FRAGMENT)

    def highlights(self, doc: tantivy.Document) -> dict[str, str]:
        found: dict[str, str] = {}
        for field, generator, whole in (("name", self.name, True), ("description", self.description, False)):
            snippet = generator.snippet_from_doc(doc)
            if snippet.highlighted():
                found[field] = mark(str(doc.get_first(field) or ""), snippet, whole)
        return found


def mark(text: str, snippet: tantivy.Snippet, whole: bool) -> str:
    """Escaped HTML of the snippet's fragment (or of the `whole` text) with its highlighted ranges in <b>. The
    fragment is widened to the end of its last word and shows an ellipsis where it cuts the text."""
    raw = text.encode()
    fragment = snippet.fragment_range()
    start, end = (0, len(raw)) if whole else (fragment.start, fragment.end)
    while end < len(raw) and not raw[end:end + 1].isspace():
        end += 1
    pieces = ["\u2026" if start > 0 else ""]
    cursor = start
    for span in sorted(snippet.highlighted(), key=lambda r: r.start):
        begin, stop = fragment.start + span.start, fragment.start + span.end
        if begin < cursor or stop > end:
            continue
        pieces += [_escape(raw[cursor:begin]), f"<b>{_escape(raw[begin:stop])}</b>"]
        cursor = stop
    pieces += [_escape(raw[cursor:end]), "\u2026" if end < len(raw) else ""]
    return "".join(pieces)


def _escape(raw: bytes) -> str:
    return html.escape(raw.decode(errors="replace"))


def hit(doc: tantivy.Document, highlighter: Highlighter | None) -> dict[str, Any]:
    stored = doc.get_first(PAYLOAD_FIELD)
    payload: dict[str, Any] = json.loads(bytes(stored)) if stored is not None else {}
    payload["highlights"] = highlighter.highlights(doc) if highlighter is not None else {}
    return payload
