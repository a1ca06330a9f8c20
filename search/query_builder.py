"""From a `SearchRequest` to tantivy queries, built term by term: the shopper's text never meets a query syntax.

The text is cut into words by the index's own analyzer. Every word must match (in the name, brand, tags or
description, BM25-scored and weighted per field). A word that no name, brand or tag contains is probably a typo
or not typed to its end: it also matches words one or two edits away (`typo_distance`) and, when it is the last
word, longer words it starts. "Quoted text" must match as a phrase. Filters add nothing to the score. Besides
the scored query, every text has an unscored `match` query for the same products over the one `all_text` field.
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy
from tantivy import FieldType, Occur, Query

from domain.catalog_index import brand_key
from domain.search import QueryText, SearchRequest, typo_distance
from search.schema import FIELD_BOOSTS, LOOSE_FIELDS, MATCH_FIELD, PHRASE_FIELDS, text_analyzer

MAX_WORDS = 8  # words of loose text that count; the rest of a long query is ignored
MAX_PHRASES, MAX_PHRASE_WORDS = 4, 12
# words a shopper adds without meaning them as a must ("case for phone"): they only add to the score
STOP_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"})
TYPO_WEIGHT = 0.5  # a typo or prefix match counts half of its field's weight (and is not BM25-scored)
NAME_PHRASE_WEIGHT = 2.0  # loose words that also stand together in the name rank higher
FILTERS = ("category", "brands", "price", "rating", "in_stock")
Filter = tuple[Occur, Query]  # a filter clause: must match, or must not


@dataclass(frozen=True)
class TextQuery:
    query: Query  # what must match, BM25-scored: for ranking by relevance
    match: Query  # the same products, unscored and cheaper: for counts, facets and pages in another order
    words: int  # how many words and phrases it holds
    relaxed: bool  # all but one of the words are enough (the fallback when no product has them all)


@dataclass(frozen=True)
class _Clause:
    scored: Query
    match: Query


class QueryBuilder:
    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema
        self.stemmed = text_analyzer()
        self.plain = text_analyzer(stem=False)

    # -- the text ------------------------------------------------------------------------------------
    def text_query(self, text: QueryText, searcher: tantivy.Searcher, relaxed: bool = False) -> TextQuery | None:
        """None for text with no words (then the sort alone orders everything)."""
        stems = self.stemmed.analyze(text.loose)
        plains = self.plain.analyze(text.loose)
        if len(plains) != len(stems):  # the stemmer maps word to word; guard against a surprise
            plains = stems
        words = list(dict.fromkeys(zip(stems, plains, strict=True)))[:MAX_WORDS]
        last = (stems[-1], plains[-1]) if stems and text.completing else None  # the word being typed
        if any(plain not in STOP_WORDS for _, plain in words):  # "shoes for men": "for" may be missing
            optional = [self._exact(stem) for stem, plain in words if plain in STOP_WORDS]
            words = [(stem, plain) for stem, plain in words if plain not in STOP_WORDS]
        else:
            optional = []
        clauses = [self._word(stem, plain, searcher, typing=(stem, plain) == last) for stem, plain in words]
        clauses += [self._phrase(phrase) for phrase in text.phrases[:MAX_PHRASES] if self.stemmed.analyze(phrase)]
        if not clauses:
            return None
        bonus = [c.scored for c in optional]
        if len(words) > 1:
            in_order: list[str | tuple[int, str]] = [stem for stem, _ in words]
            bonus.append(Query.boost_query(Query.phrase_query(self.schema, "name", in_order, slop=1),
                                           NAME_PHRASE_WEIGHT))
        scored = _together([c.scored for c in clauses], relaxed)
        if bonus:
            scored = Query.boolean_query([(Occur.Must, scored), *[(Occur.Should, b) for b in bonus]])
        return TextQuery(scored, _together([c.match for c in clauses], relaxed), len(clauses), relaxed)

    def _exact(self, stem: str) -> _Clause:
        return _Clause(_any([Query.boost_query(Query.term_query(self.schema, field, stem), boost)
                             for field, boost in FIELD_BOOSTS.items()]),
                       Query.term_query(self.schema, MATCH_FIELD, stem))

    def _word(self, stem: str, plain: str, searcher: tantivy.Searcher, typing: bool) -> _Clause:
        """The word as it is; and when no name, brand or tag has it, as the start of a longer word (while it is
        being typed) and as a typo. Matching a known word exactly keeps frequent words cheap."""
        exact = self._exact(stem)
        if any(searcher.doc_freq(field, stem) for field in LOOSE_FIELDS):
            return exact
        loose: list[Query] = []
        if typing and len(plain) >= 2:
            loose += [self._loose(field, plain, 0, prefix=True) for field in LOOSE_FIELDS]
        distance = typo_distance(plain)
        if distance:
            loose += [self._loose(field, stem, distance, prefix=False) for field in LOOSE_FIELDS]
        return _Clause(_any([exact.scored, *loose]), _any([exact.match, *loose]))

    def _phrase(self, phrase: str) -> _Clause:
        tokens: list[str | tuple[int, str]] = list(self.stemmed.analyze(phrase)[:MAX_PHRASE_WORDS])
        if len(tokens) == 1:
            return self._exact(str(tokens[0]))
        each = [Query.boost_query(Query.phrase_query(self.schema, field, tokens), FIELD_BOOSTS[field])
                for field in PHRASE_FIELDS]
        return _Clause(_any(each), _any(each))

    def _loose(self, field: str, text: str, distance: int, prefix: bool) -> Query:
        fuzzy = Query.fuzzy_term_query(self.schema, field, text, distance, transposition_cost_one=True, prefix=prefix)
        return Query.boost_query(fuzzy, FIELD_BOOSTS[field] * TYPO_WEIGHT)

    # -- the filters ---------------------------------------------------------------------------------
    def filters(self, request: SearchRequest, without: str | None = None) -> list[Filter]:
        """The request's filters, leaving out the one named `without` (a facet's own filter)."""
        found: list[Filter] = []
        if request.category is not None and without != "category":
            found.append((Occur.Must, Query.term_query(self.schema, "cat_path", request.category)))
        if request.brands and without != "brands":
            keys = sorted({brand_key(b) for b in request.brands})
            found.append((Occur.Must, Query.term_set_query(self.schema, "brand_key", keys)))
        if (request.price_min is not None or request.price_max is not None) and without != "price":
            found.append((Occur.Must, Query.range_query(self.schema, "price", FieldType.Integer, request.price_min,
                                                        request.price_max)))
        if request.rating_min is not None and without != "rating":
            found.append((Occur.Must, Query.range_query(self.schema, "rating", FieldType.Float,
                                                        float(request.rating_min), None)))
        if request.in_stock and without != "in_stock":
            found.append((Occur.MustNot, Query.term_query(self.schema, "in_stock", 0)))
        return found


def combine(text: TextQuery | None, filters: list[Filter], scored: bool = False) -> Query:
    """The text and the filters (which add nothing to the score); everything when there are neither. The text
    is BM25-scored only when `scored` (a page by relevance)."""
    clauses = [(occur, Query.const_score_query(f, 0.0) if occur == Occur.Must else f) for occur, f in filters]
    if text is not None:
        clauses.insert(0, (Occur.Must, text.query if scored else text.match))
    if not any(occur == Occur.Must for occur, _ in clauses):
        clauses.insert(0, (Occur.Must, Query.all_query()))
    return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)


def _together(clauses: list[Query], relaxed: bool) -> Query:
    """All clauses must match; when `relaxed`, all but one (of two: either, a plain and cheaper union)."""
    if len(clauses) == 2 and relaxed:
        return _any(clauses)
    if len(clauses) > 2 and relaxed:
        return Query.boolean_query([(Occur.Should, c) for c in clauses], len(clauses) - 1)
    return _all(clauses)


def _all(queries: list[Query]) -> Query:
    return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Must, q) for q in queries])


def _any(queries: list[Query]) -> Query:
    return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Should, q) for q in queries])
