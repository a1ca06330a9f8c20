"""The User aggregate: profile, preferences, addresses and the road to selling. No Ray, no Redis."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.ids import new_id
from domain.users import MAX_ADDRESSES, User, email_key, normalize_email

HOME = {"type": "home", "street": "1 Main St", "city": "Springfield", "state": "IL", "zip_code": "62701",
        "country": "us"}
WORK = {**HOME, "type": "work", "street": "2 Office Park"}


def ada(**overrides: Any) -> User:
    fields = {"email": "Ada@Example.com", "first_name": "Ada", "last_name": "Lovelace", **overrides}
    return User.register(new_id("usr"), fields.pop("email"), "$argon2id$fake", **fields)


def defaults(user: User) -> list[str]:
    return [a.id for a in user.addresses if a.is_default]


def assert_unchanged_by(user: User, action: Any, error: type[DomainError], code: str) -> None:
    before = copy.deepcopy(user.to_dict())
    with pytest.raises(error) as raised:
        action()
    assert raised.value.code == code
    assert user.to_dict() == before


# -- accounts ------------------------------------------------------------------------------------------
def test_a_new_shopper_is_a_customer_with_a_lower_case_email_and_default_preferences() -> None:
    user = ada()
    assert user.email == "ada@example.com"
    assert user.role == "customer" and user.seller_id is None
    assert user.to_dict()["preferences"] == {
        "language": "en", "currency": "USD", "notifications": {"email": True, "sms": False, "push": True,
                                                               "in_app": True, "muted": ()}}


@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@example.com", "ada@@example.com", "ada@localhost"])
def test_a_malformed_email_cannot_register(email: str) -> None:
    with pytest.raises(Invalid) as refused:
        ada(email=email)
    assert refused.value.code == "invalid_email"


def test_the_reserved_test_domain_is_accepted_for_demo_accounts() -> None:
    assert normalize_email(" Admin@Bazaar.TEST ") == "admin@bazaar.test"


def test_a_login_email_is_looked_up_the_way_registration_stored_it() -> None:
    assert email_key("  Ada@Example.COM ") == ada().email == "ada@example.com"
    assert email_key(" Not An Email ") == "not an email"  # simply unknown, never an error


def test_the_public_view_never_shows_the_password_hash() -> None:
    view = ada().public()
    assert "password_hash" not in view and "$argon2id$fake" not in str(view)
    assert view["email"] == "ada@example.com"


def test_a_stored_user_comes_back_equal() -> None:
    user = ada(phone="+1 555 010 0199")
    user.add_address(new_id("adr"), HOME)
    user.apply_seller(new_id("sel"), "Analytical Engines")
    assert User.from_dict(copy.deepcopy(user.to_dict())) == user


# -- profile and preferences ---------------------------------------------------------------------------
def test_a_shopper_turns_on_sms_and_switches_currency_without_losing_other_choices() -> None:
    user = ada()
    assert user.update_profile({"preferences": {"currency": "eur", "notifications": {"sms": True}}})
    prefs = user.to_dict()["preferences"]
    assert prefs == {"language": "en", "currency": "EUR", "notifications": {"email": True, "sms": True, "push": True,
                                                                           "in_app": True, "muted": ()}}
    assert user.version == 1


def test_saving_the_same_profile_changes_nothing() -> None:
    user = ada()
    assert not user.update_profile({"first_name": "Ada", "preferences": {"language": "en"}})
    assert user.version == 0


def test_a_phone_can_be_set_and_cleared() -> None:
    user = ada()
    user.update_profile({"phone": "+44 20 7946 0958"})
    assert user.phone == "+44 20 7946 0958"
    user.update_profile({"phone": None})
    assert user.phone is None


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"first_name": "  "}, "invalid_name"),
        ({"phone": "call me"}, "invalid_phone"),
        ({"preferences": {"language": "English"}}, "invalid_preferences"),
        ({"preferences": {"currency": "dollars"}}, "invalid_preferences"),
        ({"preferences": {"notifications": {"fax": True}}}, "invalid_preferences"),
        ({"email": "new@example.com"}, "unknown_field"),
        ({"role": "admin"}, "unknown_field"),
    ],
)
def test_a_bad_profile_change_is_refused_and_changes_nothing(changes: dict[str, Any], code: str) -> None:
    user = ada()
    user.update_profile({"first_name": "Augusta", "preferences": {"notifications": {"push": False}}})
    assert_unchanged_by(user, lambda: user.update_profile({"last_name": "King", **changes}), Invalid, code)


# -- addresses -----------------------------------------------------------------------------------------
def test_the_first_address_becomes_the_default_and_countries_are_upper_case() -> None:
    user = ada()
    home = user.add_address(new_id("adr"), HOME)
    assert home.is_default and home.country == "US" and home.state == "IL"
    work = user.add_address(new_id("adr"), WORK)
    assert not work.is_default
    assert defaults(user) == [home.id]


def test_a_new_default_address_takes_over_from_the_old_one() -> None:
    user = ada()
    user.add_address(new_id("adr"), HOME)
    work = user.add_address(new_id("adr"), {**WORK, "is_default": True})
    assert defaults(user) == [work.id]


def test_making_another_address_default_by_update_keeps_exactly_one_default() -> None:
    user = ada()
    home = user.add_address(new_id("adr"), HOME)
    work = user.add_address(new_id("adr"), WORK)
    user.update_address(work.id, {"is_default": True})
    assert defaults(user) == [work.id]
    user.update_address(work.id, {"is_default": False})
    assert defaults(user) == [home.id]


def test_the_only_address_stays_default_even_when_asked_not_to_be() -> None:
    user = ada()
    home = user.add_address(new_id("adr"), HOME)
    assert user.update_address(home.id, {"is_default": False}).is_default


def test_deleting_the_default_address_promotes_another() -> None:
    user = ada()
    home = user.add_address(new_id("adr"), HOME)
    work = user.add_address(new_id("adr"), WORK)
    user.delete_address(home.id)
    assert defaults(user) == [work.id]
    user.delete_address(work.id)
    assert user.addresses == []


def test_an_address_update_changes_only_the_fields_given() -> None:
    user = ada()
    home = user.add_address(new_id("adr"), HOME)
    moved = user.update_address(home.id, {"street": "12 Elm St", "zip_code": "62702"})
    assert (moved.street, moved.zip_code, moved.city, moved.type) == ("12 Elm St", "62702", "Springfield", "home")


@pytest.mark.parametrize(
    "fields",
    [
        {**HOME, "country": "USA"},
        {**HOME, "type": "castle"},
        {**HOME, "street": ""},
        {**HOME, "zip_code": "!!"},
        {k: v for k, v in HOME.items() if k != "city"},
        {**HOME, "floor": 3},
    ],
)
def test_a_bad_address_is_refused_and_changes_nothing(fields: dict[str, Any]) -> None:
    user = ada()
    home = user.add_address(new_id("adr"), HOME)
    assert_unchanged_by(user, lambda: user.add_address(new_id("adr"), fields), Invalid, "invalid_address")
    assert [a.id for a in user.addresses] == [home.id]


@pytest.mark.parametrize("patch", [{"country": "Germany"}, {"street": None}, {"is_default": "yes"}, {"floor": 3}])
def test_a_bad_address_update_is_refused_and_changes_nothing(patch: dict[str, Any]) -> None:
    user = ada()
    home = user.add_address(new_id("adr"), HOME)
    user.add_address(new_id("adr"), WORK)
    assert_unchanged_by(user, lambda: user.update_address(home.id, patch), Invalid, "invalid_address")


def test_an_address_book_has_a_limit() -> None:
    user = ada()
    for _ in range(MAX_ADDRESSES):
        user.add_address(new_id("adr"), HOME)
    assert_unchanged_by(user, lambda: user.add_address(new_id("adr"), HOME), Conflict, "too_many_addresses")


def test_an_unknown_address_is_not_found() -> None:
    user = ada()
    user.add_address(new_id("adr"), HOME)
    assert_unchanged_by(user, lambda: user.delete_address(new_id("adr")), NotFound, "address_not_found")


# -- selling -------------------------------------------------------------------------------------------
def test_an_approved_application_makes_the_shopper_a_seller() -> None:
    user = ada()
    seller_id = new_id("sel")
    application = user.apply_seller(seller_id, "  Analytical Engines ", "Looms and engines")
    assert (application.status, application.store_name, application.user_id) == ("pending", "Analytical Engines",
                                                                                   user.id)
    assert user.role == "customer" and user.seller_id is None
    assert user.approve_seller(seller_id)
    assert user.role == "seller" and user.seller_id == seller_id
    assert user.seller is not None and user.seller.status == "approved" and user.seller.approved_at
    assert not user.approve_seller(seller_id)  # approving twice changes nothing


def test_a_shopper_applies_to_sell_only_once() -> None:
    user = ada()
    user.apply_seller(new_id("sel"), "Analytical Engines")
    assert_unchanged_by(user, lambda: user.apply_seller(new_id("sel"), "Second Shop"), Conflict, "already_applied")


def test_a_store_needs_a_name() -> None:
    user = ada()
    assert_unchanged_by(user, lambda: user.apply_seller(new_id("sel"), " "), Invalid, "invalid_store_name")


def test_an_admin_does_not_apply_to_sell() -> None:
    user = ada(role="admin")
    assert_unchanged_by(user, lambda: user.apply_seller(new_id("sel"), "Admin Shop"), Conflict, "already_admin")


def test_approving_someone_elses_application_id_is_not_found() -> None:
    user = ada()
    user.apply_seller(new_id("sel"), "Analytical Engines")
    assert_unchanged_by(user, lambda: user.approve_seller(new_id("sel")), NotFound, "seller_not_found")


def test_making_an_admin_is_idempotent() -> None:
    user = ada()
    assert user.make_admin() and user.role == "admin"
    assert not user.make_admin()
