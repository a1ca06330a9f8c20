"""Cart rules, without Ray or Redis."""

from __future__ import annotations

import pytest

from domain.carts import Cart, CartLimits
from domain.errors import Conflict, Invalid, NotFound

LIMITS = CartLimits(max_quantity=10, max_lines=2)


def test_adding_the_same_variant_again_grows_the_line() -> None:
    cart = Cart("usr_1")
    cart.add("prd_1", "var_1", 2, available=5, limits=LIMITS, now="t1")
    cart.add("prd_1", "var_1", 3, available=5, limits=LIMITS, now="t2")
    assert cart.lines["var_1"].quantity == 5 and cart.updated_at == "t2"


def test_more_than_is_available_is_refused_and_changes_nothing() -> None:
    cart = Cart("usr_1")
    cart.add("prd_1", "var_1", 2, available=3, limits=LIMITS, now="t1")
    with pytest.raises(Conflict) as caught:
        cart.add("prd_1", "var_1", 2, available=3, limits=LIMITS, now="t2")
    assert caught.value.code == "insufficient_stock" and cart.lines["var_1"].quantity == 2


def test_limits_on_quantity_and_lines() -> None:
    cart = Cart("usr_1")
    with pytest.raises(Invalid):
        cart.add("prd_1", "var_1", 11, available=50, limits=LIMITS, now="t")
    cart.add("prd_1", "var_1", 1, available=50, limits=LIMITS, now="t")
    cart.add("prd_2", "var_2", 1, available=50, limits=LIMITS, now="t")
    with pytest.raises(Conflict):
        cart.add("prd_3", "var_3", 1, available=50, limits=LIMITS, now="t")
    assert list(cart.lines) == ["var_1", "var_2"]


def test_setting_quantity_zero_removes_the_line_and_unknown_lines_are_404() -> None:
    cart = Cart("usr_1")
    cart.add("prd_1", "var_1", 2, available=5, limits=LIMITS, now="t")
    cart.set_quantity("var_1", 0, available=5, limits=LIMITS, now="t")
    assert cart.lines == {}
    with pytest.raises(NotFound):
        cart.remove("var_1", now="t")


def test_removing_what_an_order_bought_is_idempotent_and_keeps_later_additions() -> None:
    cart = Cart("usr_1")
    cart.add("prd_1", "var_1", 3, available=5, limits=LIMITS, now="t")
    assert cart.remove_purchased("ord_1", {"var_1": 2}, now="t")
    assert not cart.remove_purchased("ord_1", {"var_1": 2}, now="t")
    assert cart.lines["var_1"].quantity == 1
    assert Cart.from_dict(cart.to_dict()) == cart
