"""Shoppers, sellers and admins: the User aggregate with its profile, preferences, addresses and seller
application. Plain Python, no Ray or Redis.

Every mutating method validates everything first and only then mutates, so a method that raises a DomainError
has left the user exactly as it was. Invariant: when a user has any address, exactly one is the default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, get_args

from email_validator import EmailNotValidError, validate_email

from domain.clock import now_iso
from domain.errors import Conflict, Invalid, NotFound
from domain.notices import Notifications, muted_kinds
from domain.sellers import SellerApplication

Role = Literal["customer", "seller", "admin"]
AddressType = Literal["home", "work", "other"]
ADDRESS_TYPES: tuple[str, ...] = get_args(AddressType)
MAX_ADDRESSES = 20
PROFILE_FIELDS = frozenset({"first_name", "last_name", "phone", "preferences"})
ADDRESS_FIELDS = frozenset({"type", "street", "city", "state", "zip_code", "country", "is_default"})

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ZIP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{7,24}$")


# -- value checks -------------------------------------------------------------------------------------
def normalize_email(email: str) -> str:
    """A valid address, lower-cased. The reserved `.test` domain is accepted so test and demo accounts work."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise Invalid("invalid_email", f"Not a valid email address: {exc}") from None
    if len(checked.normalized) > 254:
        raise Invalid("invalid_email", "An email address has at most 254 characters")
    return checked.normalized.lower()


def email_key(email: str) -> str:
    """How an email is looked up (login, rate limits): as registration stores it; anything else, lower-cased."""
    try:
        return normalize_email(email)
    except Invalid:
        return email.strip().lower()


def _text(name: str, value: Any, max_len: int, code: str, required: bool = True) -> str:
    if not isinstance(value, str):
        raise Invalid(code, f"{name} must be text", {"field": name})
    value = value.strip()
    if required and not value:
        raise Invalid(code, f"{name} is required", {"field": name})
    if len(value) > max_len:
        raise Invalid(code, f"{name} has at most {max_len} characters", {"field": name})
    return value


def _phone(value: Any) -> str | None:
    if value is None or value == "":
        return None
    phone = _text("phone", value, 24, "invalid_phone")
    digits = sum(c.isdigit() for c in phone)
    if not _PHONE.match(phone) or not 7 <= digits <= 15:
        raise Invalid("invalid_phone", "A phone number has 7 to 15 digits, optionally +, spaces, dashes")
    return phone


def _unknown(given: dict[str, Any], allowed: frozenset[str], code: str) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise Invalid(code, "Unknown fields: " + ", ".join(extra), {"fields": extra})


# -- value objects ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preferences:
    language: str = "en"
    currency: str = "USD"
    notifications: Notifications = field(default_factory=Notifications)

    def merged(self, patch: dict[str, Any]) -> Preferences:
        """A copy with `patch` applied (`notifications` merges key by key); invalid values raise."""
        _unknown(patch, frozenset({"language", "currency", "notifications"}), "invalid_preferences")
        language = patch.get("language", self.language)
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise Invalid("invalid_preferences", "language is a code like 'en' or 'en-GB'", {"field": "language"})
        currency = patch.get("currency", self.currency)
        currency = currency.upper() if isinstance(currency, str) else currency
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            raise Invalid("invalid_preferences", "currency is an ISO 4217 code like 'USD'", {"field": "currency"})
        channels = patch.get("notifications") or {}
        if not isinstance(channels, dict):
            raise Invalid("invalid_preferences", "notifications is an object", {"field": "notifications"})
        _unknown(channels, frozenset({"email", "sms", "push", "in_app", "muted"}), "invalid_preferences")
        channels = dict(channels)
        if "muted" in channels:
            channels["muted"] = muted_kinds(channels["muted"])
        if not all(isinstance(v, bool) for k, v in channels.items() if k != "muted"):
            raise Invalid("invalid_preferences", "notification channels are true or false", {"field": "notifications"})
        return Preferences(language, currency, replace(self.notifications, **channels))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preferences:
        channels = dict(data["notifications"])
        channels["muted"] = tuple(channels.get("muted") or ())
        return cls(data["language"], data["currency"], Notifications(**channels))



@dataclass(frozen=True)
class Address:
    id: str
    type: AddressType
    street: str
    city: str
    state: str
    zip_code: str
    country: str  # ISO 3166-1 alpha-2, upper case
    is_default: bool = False

    @classmethod
    def create(cls, address_id: str, fields: dict[str, Any]) -> Address:
        missing = sorted({"type", "street", "city", "zip_code", "country"} - set(fields))
        if missing:
            raise Invalid("invalid_address", "Missing: " + ", ".join(missing), {"fields": missing})
        blank = cls(address_id, "home", "-", "-", "", "0", "US")
        return blank.updated({"state": "", "is_default": False, **fields})

    def updated(self, fields: dict[str, Any]) -> Address:
        """A validated copy with `fields` changed."""
        _unknown(fields, ADDRESS_FIELDS, "invalid_address")
        merged = {**asdict(self), **fields}
        if merged["type"] not in ADDRESS_TYPES:
            raise Invalid("invalid_address", "type is one of home, work, other", {"field": "type"})
        country = merged["country"].strip().upper() if isinstance(merged["country"], str) else None
        if country is None or not _COUNTRY.match(country):
            raise Invalid("invalid_address", "country is an ISO 3166 two-letter code like 'US'", {"field": "country"})
        zip_code = _text("zip_code", merged["zip_code"], 16, "invalid_address")
        if not _ZIP.match(zip_code):
            raise Invalid("invalid_address", "zip_code has letters, digits, spaces or dashes", {"field": "zip_code"})
        if not isinstance(merged["is_default"], bool):
            raise Invalid("invalid_address", "is_default is true or false", {"field": "is_default"})
        return Address(
            id=self.id, type=merged["type"], country=country, zip_code=zip_code, is_default=merged["is_default"],
            street=_text("street", merged["street"], 200, "invalid_address"),
            city=_text("city", merged["city"], 100, "invalid_address"),
            state=_text("state", merged["state"] or "", 100, "invalid_address", required=False),
        )


# -- the aggregate ------------------------------------------------------------------------------------
@dataclass
class User:
    id: str
    email: str
    password_hash: str
    first_name: str
    last_name: str
    phone: str | None = None
    role: Role = "customer"
    seller_id: str | None = None  # set when the seller application is approved
    preferences: Preferences = field(default_factory=Preferences)
    addresses: list[Address] = field(default_factory=list)
    seller: SellerApplication | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = ""
    version: int = 0  # +1 on every change, so the owning actor knows what to write
    erased_at: str | None = None  # the account was erased (docs/privacy.md): no personal data is left

    @classmethod
    def register(cls, user_id: str, email: str, password_hash: str, first_name: str, last_name: str,
                 phone: str | None = None, role: Role = "customer", currency: str = "USD",
                 at: str | None = None) -> User:
        """A new account; the caller checks the password policy (`domain.passwords`) before hashing."""
        at = at or now_iso()
        return cls(
            id=user_id, email=normalize_email(email), password_hash=password_hash,
            first_name=_text("first_name", first_name, 80, "invalid_name"),
            last_name=_text("last_name", last_name, 80, "invalid_name"),
            phone=_phone(phone), role=role, preferences=Preferences().merged({"currency": currency}),
            created_at=at, updated_at=at,
        )

    # profile -------------------------------------------------------------------------------------------
    def update_profile(self, changes: dict[str, Any], at: str | None = None) -> bool:
        """Apply first_name, last_name, phone and preferences (merged); True when something changed."""
        _unknown(changes, PROFILE_FIELDS, "unknown_field")
        first = _text("first_name", changes.get("first_name", self.first_name), 80, "invalid_name")
        last = _text("last_name", changes.get("last_name", self.last_name), 80, "invalid_name")
        phone = _phone(changes["phone"]) if "phone" in changes else self.phone
        preferences = self.preferences.merged(changes.get("preferences") or {})
        before = (self.first_name, self.last_name, self.phone, self.preferences)
        if (first, last, phone, preferences) == before:
            return False
        self.first_name, self.last_name, self.phone, self.preferences = first, last, phone, preferences
        self._touch(at)
        return True

    def set_password_hash(self, password_hash: str, at: str | None = None) -> None:
        self.password_hash = password_hash
        self._touch(at)

    def make_admin(self, at: str | None = None) -> bool:
        if self.role == "admin":
            return False
        self.role = "admin"
        self._touch(at)
        return True

    # addresses -----------------------------------------------------------------------------------------
    def address(self, address_id: str) -> Address:
        for address in self.addresses:
            if address.id == address_id:
                return address
        raise NotFound("address_not_found", "No such address", {"address_id": address_id})

    def add_address(self, address_id: str, fields: dict[str, Any], at: str | None = None) -> Address:
        if len(self.addresses) >= MAX_ADDRESSES:
            raise Conflict("too_many_addresses", f"A user keeps at most {MAX_ADDRESSES} addresses")
        address = Address.create(address_id, fields)
        self.addresses.append(address)
        if address.is_default or len(self.addresses) == 1:
            self._settle_default(address.id)
        self._touch(at)
        return self.address(address_id)

    def update_address(self, address_id: str, fields: dict[str, Any], at: str | None = None) -> Address:
        current = self.address(address_id)
        changed = current.updated(fields)
        self.addresses = [changed if a.id == address_id else a for a in self.addresses]
        if changed.is_default:
            self._settle_default(address_id)
        elif current.is_default:  # the default was unset: another address takes over, if there is one
            others = [a.id for a in self.addresses if a.id != address_id]
            self._settle_default(others[0] if others else address_id)
        self._touch(at)
        return self.address(address_id)

    def delete_address(self, address_id: str, at: str | None = None) -> None:
        removed = self.address(address_id)
        self.addresses = [a for a in self.addresses if a.id != address_id]
        if removed.is_default and self.addresses:
            self._settle_default(self.addresses[0].id)
        self._touch(at)

    def _settle_default(self, default_id: str) -> None:
        """Make `default_id` the one default address."""
        self.addresses = [replace(a, is_default=a.id == default_id) for a in self.addresses]

    # selling -------------------------------------------------------------------------------------------
    def apply_seller(self, seller_id: str, store_name: str, description: str | None = None,
                     at: str | None = None, legal_name: str | None = None, address: dict[str, Any] | None = None,
                     payout: dict[str, Any] | None = None) -> SellerApplication:
        """Apply to sell. `payout` is an already tokenized account (domain/payouts.py), never a number."""
        if self.role == "admin":
            raise Conflict("already_admin", "An admin can already list products")
        if self.seller is not None:
            raise Conflict("already_applied", "This account has already applied to sell",
                           {"seller_id": self.seller.id, "status": self.seller.status})
        name = _text("store_name", store_name, 80, "invalid_store_name")
        if len(name) < 2:
            raise Invalid("invalid_store_name", "store_name has at least 2 characters")
        text = _text("description", description, 2000, "invalid_description", required=False) if description else None
        legal = _text("legal_name", legal_name, 120, "invalid_legal_name") if legal_name is not None else None
        place = None
        if address is not None:
            checked = asdict(Address.create("seller", {"type": "work", **address}))
            place = {k: checked[k] for k in ("street", "city", "state", "zip_code", "country")}
        at = at or now_iso()
        self.seller = SellerApplication(seller_id, self.id, name, text or None, "pending", at, legal_name=legal,
                                        address=place, payout=payout, updated_at=at)
        self._touch(at)
        return self.seller

    def decide_seller(self, seller_id: str, move: Callable[[SellerApplication], SellerApplication | None],
                      at: str | None = None) -> bool:
        """An admin's decision on this user's seller application: `move` is one of SellerApplication's moves
        (approved, rejected, suspended, reinstated), None when it changes nothing. True when something changed.
        Approval makes the user a seller: its next token carries the role and the seller id."""
        if self.seller is None or self.seller.id != seller_id:
            raise NotFound("seller_not_found", "No such seller application", {"seller_id": seller_id})
        decision = move(self.seller)
        if decision is None:
            return False
        self.seller = decision
        if decision.status == "approved":
            self.seller_id = seller_id
            if self.role == "customer":
                self.role = "seller"
        self._touch(at)
        return True

    def approve_seller(self, seller_id: str, at: str | None = None) -> bool:
        """The user becomes a seller; True when newly approved (approving twice changes nothing)."""
        at = at or now_iso()
        return self.decide_seller(seller_id, lambda seller: seller.approved(at), at)

    # privacy -------------------------------------------------------------------------------------------------
    def erase(self, at: str | None = None) -> None:
        """Erase the person: email, names, phone, addresses, preferences and password go; the id stays, as the
        pseudonym the kept orders and reviews refer to. A seller application keeps its store (business data)."""
        if self.erased_at is not None:
            return
        at = at or now_iso()
        self.email, self.password_hash, self.first_name, self.last_name, self.phone = "", "", "", "", None
        self.addresses, self.preferences, self.erased_at = [], Preferences(), at
        self._touch(at)

    def _touch(self, at: str | None) -> None:
        self.updated_at = at or now_iso()
        self.version += 1

    # storage and views ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> User:
        seller = data.get("seller")
        return cls(**{
            **data,
            "preferences": Preferences.from_dict(data["preferences"]),
            "addresses": [Address(**a) for a in data.get("addresses", [])],
            "seller": SellerApplication(**seller) if seller else None,
        })

    def public(self) -> dict[str, Any]:
        """What the user (and the API) may see: never the password hash."""
        view = self.to_dict()
        del view["password_hash"]
        view["seller"] = None if self.seller is None else {"id": self.seller.id, "status": self.seller.status}
        return view

