"""The simulated world: seeded, and its shoppers pick what they like."""

from __future__ import annotations

import json

import numpy as np

from domain.cards import SANDBOX_BIN_COUNTRIES, SANDBOX_HOME_COUNTRY, luhn_valid
from simulation.catalogs import synthetic_catalog
from simulation.world import build_world, write_truth


def small_world(seed: int = 7, shoppers: int = 300):
    return build_world(synthetic_catalog(400, seed), shoppers=shoppers, days=30, seed=seed)


def test_the_same_seed_builds_the_same_world() -> None:
    assert small_world(7).ground_truth() == small_world(7).ground_truth()
    assert small_world(7).ground_truth() != small_world(8).ground_truth()


def test_shoppers_mostly_pick_products_they_like() -> None:
    world = small_world()
    rng = np.random.default_rng(1)
    shoppers = np.repeat(np.arange(len(world.shoppers)), 50)
    picks = world.pick_products(shoppers, rng)
    liked = np.mean([world.likes(int(s), int(p)) for s, p in zip(shoppers, picks, strict=True)])
    categories = {p.category_id for p in world.products}
    assert liked > 0.75, liked  # a random pick would like ~1-2 categories out of len(categories)
    assert len(categories) > 10


def test_a_few_shoppers_are_fraudsters_with_a_pattern_each() -> None:
    world = small_world(shoppers=1000)
    fraud = [s for s in world.shoppers if s.fraud]
    assert 10 <= len(fraud) <= 80
    many = [s for s in fraud if s.fraud in ("stolen_card_burst", "many_cards")]
    assert all(len(s.cards) >= 4 for s in many)
    assert all(s.country != s.cards[0].country for s in fraud if s.fraud == "far_shipping")


def test_cards_pass_the_luhn_check_and_are_not_sandbox_decline_numbers() -> None:
    cards = [card.number for shopper in small_world().shoppers for card in shopper.cards]
    assert all(luhn_valid(number) and not number.startswith("4000") for number in cards)


def test_price_bands_favour_buying_inside_them() -> None:
    world = small_world()
    band = world.bands[0]
    inside = int(np.argmin(np.abs(world.prices - (band[0] + band[1]) // 2)))
    assert world.buy_weight(np.array([0]), np.array([inside]))[0] == 1.0


def test_ground_truth_says_which_orders_were_fraud(tmp_path) -> None:
    world = small_world()
    honest = next(i for i, s in enumerate(world.shoppers) if s.fraud is None)
    crook = next(i for i, s in enumerate(world.shoppers) if s.fraud)
    world.bind(honest, "usr_1")
    world.record_order("ord_1", honest, 0, 1000)
    world.record_order("ord_2", crook, world.shoppers[crook].takeover_day, 99000)
    path = write_truth(world.ground_truth(), tmp_path / "truth.json")
    truth = json.loads(path.read_text())
    assert truth["fraud_orders"] == ["ord_2"]
    assert truth["shoppers"][world.shoppers[honest].key]["user_id"] == "usr_1"
    assert truth["shoppers"][world.shoppers[honest].key]["categories"]


def test_cards_are_issued_where_the_world_says_and_thieves_hold_far_ones() -> None:
    world = small_world(shoppers=2000)
    for shopper in world.shoppers:
        for card in shopper.cards:
            assert SANDBOX_BIN_COUNTRIES.get(card.number[:6], SANDBOX_HOME_COUNTRY) == card.country
    honest = [s for s in world.shoppers if s.fraud is None]
    assert sum(s.cards[0].country == s.country for s in honest) / len(honest) > 0.9
    thieves = [c.country for s in world.shoppers if s.fraud == "many_cards" for c in s.cards]
    assert {"NG", "RU", "BR", "IN", "CN"} & set(thieves)


def test_a_taken_over_account_is_honest_until_its_takeover_day() -> None:
    world = small_world(shoppers=2000)
    index = next(i for i, s in enumerate(world.shoppers) if s.fraud == "unusual_amount"
                 and s.takeover_day > s.signup_day)
    taken = world.shoppers[index]
    assert not world.fraud_on(index, taken.takeover_day - 1) and world.fraud_on(index, taken.takeover_day)
