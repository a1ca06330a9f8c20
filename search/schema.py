"""The search index's fields and the one text analyzer the index and the query side share.

Text fields are scored with BM25 (name weighs most); `all_text` holds the words of all of them in one posting list,
for matching without scoring (counts, facets, sorted pages), which is several times cheaper than a union of four.
Keyword fields are single raw terms for exact filters and facet counts; numbers are fast (columnar) fields for
range filters, sorts and price/rating buckets; `payload` is the stored JSON a hit is answered with, so a page of
hits never reads the catalog.
"""

from __future__ import annotations

import tantivy

SCHEMA_VERSION = "5"
TEXT_ANALYZER = "bz_text"

# BM25 text fields and their weights
FIELD_BOOSTS: dict[str, float] = {"name": 3.0, "brand": 2.0, "tags": 1.0, "description": 1.0}
# fields where a typo or a word being typed may still match (the description is too long and noisy for it)
LOOSE_FIELDS = ("name", "brand", "tags")
PHRASE_FIELDS = ("name", "description")
MATCH_FIELD = "all_text"  # every word of the fields above, unscored

# raw keyword fields: one untouched term per value. cat_path holds the category and its ancestors (the filter);
# cat_key is all of them in one term, so one single-valued count per path gives every category's count
KEYWORD_FIELDS = ("product_id", "category_id", "cat_path", "cat_key", "brand_key", "brand_name")
FAST_KEYWORDS = ("cat_key", "brand_name")
# price_band and rating_band: the facet bucket of the price and the rating, counted like keywords
INTEGER_FIELDS = ("price", "price_band", "regular_price", "created", "popularity", "review_count", "rating_band",
                  "rating_rank", "in_stock")
FLOAT_FIELDS = ("rating",)
# in the inverted index too: "in stock only" excludes the few products out of stock (in_stock = 0), which costs a
# walk over a short posting list instead of a scan of a column or a long list
INDEXED_NUMBERS = ("in_stock",)
# completions: short ones (brands, categories, tags, words of names) and whole names, apart so that a prefix of
# one or two letters walks only the short ones
SUGGEST_FIELD, SUGGEST_NAME_FIELD = "suggest", "suggest_name"
PAYLOAD_FIELD = "payload"
SUGGEST_SEPARATOR = "\x1f"  # a suggest term is "<casefolded text>\x1f<text as shown>"

# the order a sort reads, by fast field; relevance without text falls back to popularity
SORT_FIELDS: dict[str, tuple[str, bool]] = {  # sort -> (field, descending)
    "price_asc": ("price", False),
    "price_desc": ("price", True),
    "rating_desc": ("rating_rank", True),
    "newest": ("created", True),
    "popularity": ("popularity", True),
    "relevance": ("popularity", True),
}


def text_analyzer(stem: bool = True) -> tantivy.TextAnalyzer:
    """Words of letters and digits, lower-cased, accents folded (café = cafe), English stems (laptops =
    laptop). Without `stem`: the same words unstemmed, for prefixes and typo lengths."""
    builder = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
               .filter(tantivy.Filter.remove_long(40))
               .filter(tantivy.Filter.lowercase())
               .filter(tantivy.Filter.ascii_fold()))
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in FIELD_BOOSTS:
        builder.add_text_field(name, stored=name in ("name", "description"), tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field(MATCH_FIELD, tokenizer_name=TEXT_ANALYZER, index_option="basic")
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, fast=name in FAST_KEYWORDS, tokenizer_name="raw",
                               index_option="basic")
    for name in INTEGER_FIELDS:
        builder.add_integer_field(name, indexed=name in INDEXED_NUMBERS, fast=True)
    for name in FLOAT_FIELDS:
        builder.add_float_field(name, fast=True)
    for name in (SUGGEST_FIELD, SUGGEST_NAME_FIELD):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_bytes_field(PAYLOAD_FIELD, stored=True)
    return builder.build()


def register_analyzers(index: tantivy.Index) -> None:
    """Every process that opens the index (the writer and each reader) registers the analyzer by name."""
    index.register_tokenizer(TEXT_ANALYZER, text_analyzer())
