"""Product search and autocomplete, answered in this replica over the search index (serve/search.py).

Parameters arrive as text and are checked by the domain (`SearchRequest.from_params`) first, so bad input is a 422
with a specific code and never costs a search.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from domain.search import PAGE_SIZE_MAX, QUERY_MAX, SORTS, SearchRequest
from serve.deps import Ctx

router = APIRouter(prefix="/v1/search", tags=["search"])


@router.get("")
async def search(
    ctx: Ctx,
    q: Annotated[str | None, Query(description=f"words, \"quoted phrases\"; at most {QUERY_MAX} characters; "
                                               "empty: list by the sort alone")] = None,
    category: Annotated[str | None, Query(description="a category id; includes its subcategories")] = None,
    brand: Annotated[list[str] | None, Query(description="repeat for any of several brands")] = None,
    price_min: Annotated[str | None, Query(description="minor units, on the sale price while there is one")] = None,
    price_max: Annotated[str | None, Query(description="minor units, inclusive")] = None,
    rating_min: Annotated[str | None, Query(description="0 to 5")] = None,
    in_stock: Annotated[str | None, Query(description="true: only products with a variant available")] = None,
    sort: Annotated[str | None, Query(description=" | ".join(SORTS))] = None,
    page: Annotated[str | None, Query(description="from 1")] = None,
    page_size: Annotated[str | None, Query(description=f"1 to {PAGE_SIZE_MAX}, default 20")] = None,
) -> dict[str, Any]:
    """200 `{"total", "page", "page_size", "hits", "facets", "took_ms"}`; 422 `query_too_long`,
    `page_size_too_large`, `invalid_price_range`, `unknown_sort` or `invalid_parameter`."""
    params = {"q": q, "category": category, "brand": brand, "price_min": price_min, "price_max": price_max,
              "rating_min": rating_min, "in_stock": in_stock, "sort": sort, "page": page, "page_size": page_size}
    return await ctx.search.search(SearchRequest.from_params(**params))


@router.get("/suggest")
async def suggest(
    ctx: Ctx,
    q: Annotated[str, Query(max_length=QUERY_MAX, description="what the shopper has typed so far")] = "",
) -> dict[str, list[str]]:
    """200 `{"suggestions": [...]}`: up to 10 completions from product names, brands and categories."""
    if not q.strip():
        return {"suggestions": []}
    return {"suggestions": await ctx.search.suggest(q)}
