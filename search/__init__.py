"""Product search over tantivy: the index, its documents, queries and facets. No Ray and no Redis here; the
indexer actor and the search deployment wrap it."""

from __future__ import annotations

from search.documents import product_document
from search.index import SearchIndex

__all__ = ["SearchIndex", "product_document"]
