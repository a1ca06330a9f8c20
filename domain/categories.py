"""The category tree: Electronics > Laptops, Fashion > Shoes. A category has at most one parent; browsing a
category shows the products of its whole subtree (`descendants`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.errors import Conflict, Invalid, NotFound
from domain.ids import new_id

NAME_MAX = 80
MAX_DEPTH = 6


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass(slots=True)
class Category:
    id: str
    name: str
    slug: str
    parent_id: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "slug": self.slug, "parent_id": self.parent_id,
                "created_at": self.created_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Category:
        return cls(data["id"], data["name"], data["slug"], data.get("parent_id"), data.get("created_at", ""))


class CategoryTree:
    """All categories, with the parent -> children links that browsing and filtering need."""

    def __init__(self, categories: Iterable[Category] = ()) -> None:
        self.by_id: dict[str, Category] = {}
        self._children: dict[str | None, list[str]] = {}
        for category in sorted(categories, key=lambda c: (c.created_at, c.id)):
            self._link(category)

    def __contains__(self, category_id: object) -> bool:
        return category_id in self.by_id

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, category_id: str) -> Category:
        category = self.by_id.get(category_id)
        if category is None:
            raise NotFound("category_not_found", "No such category", {"category_id": category_id})
        return category

    def new_category(self, name: str, parent_id: str | None, now: str, slug: str | None = None) -> Category:
        """A checked, not yet added category: a name, a known parent, a slug unique among its siblings."""
        name = " ".join(name.split())
        if not 1 <= len(name) <= NAME_MAX:
            raise Invalid("invalid_name", f"A category name has 1 to {NAME_MAX} characters")
        if parent_id is not None and parent_id not in self.by_id:
            raise Invalid("unknown_parent", "The parent category does not exist", {"parent_id": parent_id})
        if parent_id is not None and len(self.path(parent_id)) >= MAX_DEPTH:
            raise Invalid("too_deep", f"Categories nest at most {MAX_DEPTH} levels")
        slug = slugify(slug if slug is not None else name)
        if not slug:
            raise Invalid("invalid_slug", "The category needs a name or slug with letters or digits")
        if self.child_by_slug(parent_id, slug) is not None:
            raise Conflict("category_exists", "A category with this name already exists here",
                           {"parent_id": parent_id, "slug": slug})
        return Category(new_id("cat"), name, slug, parent_id, now)

    def add(self, category: Category) -> None:
        assert category.id not in self.by_id and (category.parent_id is None or category.parent_id in self.by_id)
        self._link(category)

    def child_by_slug(self, parent_id: str | None, slug: str) -> Category | None:
        for child_id in self._children.get(parent_id, ()):
            if self.by_id[child_id].slug == slug:
                return self.by_id[child_id]
        return None

    def children(self, category_id: str | None) -> list[Category]:
        return [self.by_id[c] for c in self._children.get(category_id, ())]

    def descendants(self, category_id: str) -> set[str]:
        """The category and everything below it."""
        self.get(category_id)
        found: set[str] = set()
        stack = [category_id]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(self._children.get(current, ()))
        return found

    def path(self, category_id: str) -> list[Category]:
        """From the root down to the category."""
        path: list[Category] = []
        current: str | None = category_id
        while current is not None:
            category = self.get(current)
            path.append(category)
            current = category.parent_id
        return path[::-1]

    def tree(self) -> list[dict[str, Any]]:
        """Roots with nested `children`, each level in creation order."""

        def node(category: Category) -> dict[str, Any]:
            return {**category.to_dict(), "children": [node(c) for c in self.children(category.id)]}

        return [node(root) for root in self.children(None)]

    def _link(self, category: Category) -> None:
        self.by_id[category.id] = category
        self._children.setdefault(category.parent_id, []).append(category.id)
