"""The fields of a listing, one cleaner each: trimmed, bounded, typed, or refused with a clear code."""

from __future__ import annotations

import re
from typing import Any

from domain.errors import Invalid

NAME_MAX, DESCRIPTION_MAX, BRAND_MAX = 200, 5000, 80
TAGS_MAX, TAG_MAX = 30, 40
SPECS_MAX, SPEC_KEY_MAX, SPEC_VALUE_MAX = 50, 60, 500
MAX_VARIANTS = 50
ATTRIBUTES_MAX, ATTRIBUTE_KEY_MAX, ATTRIBUTE_VALUE_MAX = 10, 40, 100
IMAGES_MAX, IMAGE_URL_MAX = 20, 1000
PRICE_MAX = 10**10
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def clean_name(value: Any) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid("invalid_name", f"A product name has 1 to {NAME_MAX} characters")
    return name


def clean_text(value: Any, limit: int, code: str) -> str:
    if not isinstance(value, str) or len(value.strip()) > limit:
        raise Invalid(code, f"At most {limit} characters of text")
    return value.strip()


def clean_brand(value: Any) -> str:
    brand = " ".join(value.split()) if isinstance(value, str) else None
    if brand is None or len(brand) > BRAND_MAX:
        raise Invalid("invalid_brand", f"A brand has at most {BRAND_MAX} characters")
    return brand


def clean_tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise Invalid("invalid_tags", "Tags are a list of strings")
    tags = list(dict.fromkeys(" ".join(t.split()).lower() for t in value if t.strip()))
    if len(tags) > TAGS_MAX or any(len(t) > TAG_MAX for t in tags):
        raise Invalid("invalid_tags", f"At most {TAGS_MAX} tags of at most {TAG_MAX} characters each")
    return tags


def clean_specifications(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) > SPECS_MAX:
        raise Invalid("invalid_specifications", f"Specifications are an object of at most {SPECS_MAX} entries")
    for key, item in value.items():
        ok_key = isinstance(key, str) and 1 <= len(key.strip()) <= SPEC_KEY_MAX
        ok_value = isinstance(item, bool | int | float) or (isinstance(item, str) and len(item) <= SPEC_VALUE_MAX)
        if not (ok_key and ok_value):
            raise Invalid("invalid_specifications", "A specification is a short name and a text, number or "
                          "true/false value", {"name": key})
    return {key.strip(): item.strip() if isinstance(item, str) else item for key, item in value.items()}


def clean_attributes(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > ATTRIBUTES_MAX:
        raise Invalid("invalid_attributes", f"Attributes are an object of at most {ATTRIBUTES_MAX} entries")
    for key, item in value.items():
        if not (isinstance(key, str) and 1 <= len(key.strip()) <= ATTRIBUTE_KEY_MAX
                and isinstance(item, str) and 1 <= len(item.strip()) <= ATTRIBUTE_VALUE_MAX):
            raise Invalid("invalid_attributes", "An attribute is a short name and a non-empty text value",
                          {"name": key})
    return {key.strip(): item.strip() for key, item in value.items()}


def clean_images(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > IMAGES_MAX or not all(
            isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= IMAGE_URL_MAX
            for url in value):
        raise Invalid("invalid_images", f"Images are at most {IMAGES_MAX} http(s) URLs")
    return list(value)


def money(value: Any, sku: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= PRICE_MAX:
        raise Invalid("invalid_price", "A price is a whole, non-negative number of minor units",
                      {"sku": sku, "price": value})
    return value


def count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Invalid("invalid_stock", f"{name} is a whole number of at least 0", {name: value})
    return value


def refuse_unknown(data: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Invalid("unknown_field", f"Unknown {what} field(s): {', '.join(unknown)}", {"fields": unknown})
