"""The large catalog's vocabulary: the demo departments (pipelines/seed_data.py) plus more of a big shop's
aisles, the words names and descriptions are made of, and a pool of made-up brand names.

Every product kind of a department becomes a third-level category (Electronics > Audio > Wireless Earbuds),
so the tree is three levels deep where the demo's is two.
"""

from __future__ import annotations

from pipelines.seed_data import COLORS, DEPARTMENTS, SIZES, Department

EXTRA_DEPARTMENTS = [
    Department(("Electronics", "Computer Accessories"), ["Keyforge", "Nimbus", "Corvid", "Helix"],
               ["Mechanical Keyboard", "Wireless Mouse", "USB-C Hub", "4K Monitor", "Webcam", "External SSD"],
               {"color": ["Black", "White", "Graphite"], "layout": ["US", "UK", "DE"]},
               {"connectivity": ["USB-C", "Bluetooth", "2.4 GHz"], "warranty": ["1 year", "2 years"]},
               (1499, 69900), ["computer", "accessories", "office"]),
    Department(("Electronics", "Gaming"), ["Vortex", "Pixelon", "Bassline"],
               ["Game Controller", "Gaming Headset", "Gaming Chair", "Console Stand", "Racing Wheel"],
               {"color": ["Black", "White", "Red"]},
               {"platform": ["PC", "Console", "PC + Console"], "rgb_lighting": [True, False]},
               (1999, 39900), ["gaming", "games"]),
    Department(("Home", "Garden"), ["Greenway", "Terrace", "Hearth"],
               ["Garden Hose", "Pruning Shears", "Raised Garden Bed", "Patio Chair", "Solar Lantern", "Lawn Mower"],
               {"color": ["Forest Green", "Graphite", "Sand"]},
               {"material": ["Steel", "Cedar wood", "Recycled plastic"], "weatherproof": [True, False]},
               (999, 49900), ["garden", "outdoor", "patio"]),
    Department(("Pets", "Dogs"), ["Pawsome", "Barkley", "Tailwind"],
               ["Dog Bed", "Chew Toy", "Dog Leash", "Dry Dog Food", "Grooming Brush", "Dog Harness"],
               {"size": ["S", "M", "L", "XL"]}, {"life_stage": ["Puppy", "Adult", "Senior"]},
               (499, 12900), ["pets", "dog"]),
    Department(("Pets", "Cats"), ["Pawsome", "Whisker & Co", "Tailwind"],
               ["Cat Tree", "Scratching Post", "Litter Box", "Wet Cat Food", "Cat Toy Set"],
               {"color": ["Grey", "Beige", "White"]}, {"life_stage": ["Kitten", "Adult", "Senior"]},
               (399, 19900), ["pets", "cat"]),
    Department(("Office", "Stationery"), ["Inkwell", "Papiro", "Lark"],
               ["Dotted Notebook", "Fountain Pen", "Gel Pen Set", "Desk Planner", "Sticky Notes"],
               {"color": ["Black", "Navy", "Red", "Sand"]}, {"paper": ["80 gsm", "100 gsm", "120 gsm"]},
               (299, 8900), ["stationery", "office", "writing"]),
    Department(("Office", "Desk"), ["Nordhus", "Oakline", "Ergonest"],
               ["Standing Desk", "Monitor Arm", "Desk Lamp", "Ergonomic Chair", "Desk Organizer"],
               {"finish": ["Oak", "Walnut", "White", "Black"]},
               {"adjustable": [True, False], "max_load": ["20 kg", "80 kg", "120 kg"]},
               (1499, 89900), ["office", "desk", "ergonomic"]),
    Department(("Automotive", "Car Electronics"), ["Roadwise", "Voltra", "Kestrel"],
               ["Dash Cam", "Car Charger", "Tire Inflator", "Jump Starter", "Car Phone Mount"],
               {"color": ["Black", "Silver"]}, {"power": ["12 V", "USB-C PD", "Battery"]},
               (999, 24900), ["car", "automotive"]),
    Department(("Automotive", "Car Care"), ["Roadwise", "Gleam", "Torque"],
               ["Car Wax", "Microfiber Towels", "Seat Covers", "Floor Mats", "Pressure Washer"],
               {"size": ["Compact", "Standard", "Large"]}, {"vehicle": ["Sedan", "SUV", "Universal"]},
               (699, 29900), ["car", "cleaning"]),
    Department(("Baby", "Nursery"), ["Little Oak", "Cradle", "Tumble"],
               ["Convertible Crib", "Baby Monitor", "Stroller", "Baby Carrier", "Changing Table"],
               {"color": ["White", "Grey", "Sand"]}, {"age_range": ["0-6 months", "0-3 years", "0-4 years"]},
               (2499, 79900), ["baby", "nursery", "kids"]),
    Department(("Baby", "Feeding"), ["Little Oak", "Sprout", "Cradle"],
               ["Bottle Set", "High Chair", "Bottle Warmer", "Silicone Bib", "Snack Cup"],
               {"color": ["Mint", "Peach", "Grey"]}, {"bpa_free": [True]},
               (599, 19900), ["baby", "feeding"]),
    Department(("Tools", "Power Tools"), ["Torque", "Ironclad", "Voltra", "Forge & Co"],
               ["Cordless Drill", "Circular Saw", "Impact Driver", "Angle Grinder", "Orbital Sander", "Jigsaw"],
               {"kit": ["Tool only", "With battery", "With 2 batteries"]},
               {"voltage": ["12 V", "18 V", "20 V"], "brushless": [True, False]},
               (3999, 39900), ["tools", "diy", "power tools"]),
    Department(("Tools", "Hand Tools"), ["Ironclad", "Forge & Co", "Torque"],
               ["Screwdriver Set", "Claw Hammer", "Tape Measure", "Socket Wrench Set", "Utility Knife", "Spirit Level"],
               {"size": ["Small", "Medium", "Large"]}, {"material": ["Chrome vanadium", "Carbon steel", "Fiberglass"]},
               (599, 14900), ["tools", "diy", "hand tools"]),
    Department(("Grocery", "Coffee & Tea"), ["Copperpot", "Highland Roasters", "Leaf & Kettle"],
               ["Whole Bean Coffee", "Ground Coffee", "Espresso Pods", "Green Tea", "Herbal Tea", "Chai Blend"],
               {"size": ["250 g", "500 g", "1 kg"]}, {"origin": ["Colombia", "Ethiopia", "Kenya", "Japan"],
                                                     "organic": [True, False]},
               (499, 4999), ["coffee", "tea", "grocery"]),
    Department(("Grocery", "Snacks"), ["Saltbox", "Harvest Lane", "Nutty & Co"],
               ["Trail Mix", "Dark Chocolate", "Granola", "Protein Bar", "Roasted Almonds"],
               {"size": ["Single", "6-pack", "12-pack"]}, {"diet": ["Vegan", "Gluten free", "Keto", "Regular"]},
               (299, 3999), ["snacks", "grocery", "food"]),
    Department(("Health", "Personal Care"), ["Solace", "Verdant", "Brightline"],
               ["Electric Toothbrush", "Hair Dryer", "Electric Shaver", "Massage Gun", "Water Flosser"],
               {"color": ["White", "Black", "Rose"]}, {"battery_life": ["2 weeks", "4 weeks", "60 min"]},
               (1499, 29900), ["health", "personal care"]),
]
ALL_DEPARTMENTS = [*DEPARTMENTS, *EXTRA_DEPARTMENTS]

ADJECTIVES = ["Compact", "Premium", "Lightweight", "Classic", "Modern", "Ergonomic", "Durable", "Portable", "Slim",
              "Heavy-Duty", "Eco", "Vintage", "Smart", "Deluxe", "Essential", "Ultra", "Rugged", "Minimalist",
              "Professional", "Everyday", "Foldable", "Quiet", "Hybrid", "Adjustable", "Travel", "Signature"]
MATERIALS = {
    "Electronics": ["Aluminium", "Recycled Plastic", "Carbon Fiber", "Magnesium Alloy", "Glass"],
    "Fashion": ["Organic Cotton", "Merino Wool", "Linen", "Full-Grain Leather", "Recycled Polyester", "Cashmere"],
    "Home": ["Oak", "Walnut", "Bamboo", "Stainless Steel", "Stoneware", "Linen", "Cast Iron"],
    "Books": ["Clothbound", "Illustrated", "Annotated", "Large Print"],
    "Sports": ["Natural Rubber", "Ripstop Nylon", "Neoprene", "Aluminium", "Merino Wool"],
    "Beauty": ["Vegan", "Organic", "Fragrance-Free", "Mineral", "Botanical"],
    "Toys": ["Wooden", "Recycled Plastic", "Plush", "Magnetic"],
    "Pets": ["Orthopedic", "Washable", "Natural", "Grain-Free", "Reflective"],
    "Office": ["Recycled Paper", "Bamboo", "Steel", "Leather", "Felt"],
    "Automotive": ["Waterproof", "Heavy-Duty", "Universal Fit", "All-Weather"],
    "Baby": ["Organic Cotton", "BPA-Free", "Silicone", "Beech Wood"],
    "Tools": ["Brushless", "Chrome Vanadium", "Fiberglass", "Forged Steel"],
    "Grocery": ["Organic", "Fair Trade", "Single Origin", "Small Batch"],
    "Health": ["Rechargeable", "Cordless", "Waterproof", "Travel"],
}
FEATURES = ["a two-year warranty", "free returns", "recycled packaging", "a compact footprint", "a premium finish",
            "tool-free setup", "a carrying case", "fast charging", "a soft-touch grip", "replaceable parts",
            "a lifetime guarantee", "low noise", "an easy-clean surface", "reinforced seams", "a non-slip base",
            "an energy-saving mode", "a magnetic closure", "a quick-release clip", "an anti-scratch coating",
            "a 30-day trial", "a gift box", "a spare set included", "USB-C charging", "a water-resistant shell"]
USES = ["everyday use", "the home office", "weekend trips", "small apartments", "long commutes", "gifting",
        "families", "beginners and pros alike", "busy mornings", "the outdoors", "travel", "students",
        "cozy evenings", "the gym", "road trips", "small spaces", "all seasons"]
PRAISE = ["Built to last", "Designed for everyday use", "Loved by reviewers", "Thoughtfully made", "Great value",
          "Our customers' favourite", "Made with care", "Award-winning design", "A best seller for years",
          "New for this season", "Engineered for comfort", "Simple and reliable"]
SERIES = ["Pro", "Air", "Max", "Lite", "Plus", "Classic", "Essential", "Studio", "Go", "Prime", "One", "X", "Mini",
          "Ultra", "Neo", "Flex", "Edge", "Core", "Sport", "Elite", "Evo", "Nova", "S", "SE", "II", "III"]
MODEL_LETTERS = "ABCDEFGHKLMNPRSTVXZ"
EXTRA_COLORS = [*COLORS, "Brown", "Grey", "Beige", "Mint", "Peach", "Sky Blue", "Olive", "Burgundy"]
EXTRA_SIZES = SIZES

# made-up brands: syllable pairs, some with a suffix word; shuffled deterministically by the generator
BRAND_HEADS = ["Al", "Bel", "Cor", "Dra", "El", "Fen", "Gal", "Hal", "Ist", "Jor", "Kel", "Lum", "Mar", "Nor", "Or",
               "Pel", "Quin", "Ros", "Sol", "Tor", "Ul", "Ver", "Wen", "Xan", "Yor", "Zel", "Bri", "Cal", "Dun",
               "Ever", "Frey", "Glen"]
BRAND_TAILS = ["a", "ex", "ion", "ora", "ix", "en", "o", "ura", "ant", "is", "ar", "eon", "yn", "ace", "ova", "ium",
               "wick", "ford", "mont", "vale"]
BRAND_WORDS = ["", "", "", "", "Labs", "& Co", "Home", "Works", "Gear", "Outfitters", "Studio", "Goods", "Supply"]


def plural(kind: str) -> str:
    """A leaf category's name from a product kind: Gaming Laptop -> Gaming Laptops."""
    irregular = {"Knife": "Knives", "Shelf": "Shelves", "Eau de Parfum": "Eau de Parfum",
                 "Eau de Toilette": "Eau de Toilette", "Sunscreen SPF 50": "Sunscreens", "Body Mist": "Body Mists"}
    for word, many in irregular.items():
        if kind.endswith(word):
            return kind[: len(kind) - len(word)] + many
    last = kind.split()[-1]
    if last[-1] in "s" or last[0].isdigit() or kind.endswith(("Food", "Coffee", "Tea", "Mix", "Chocolate",
                                                                   "Granola", "Wax", "Jeans")):
        return kind
    if kind.endswith(("sh", "ch", "x")):
        return kind + "es"
    if kind.endswith("y") and kind[-2] not in "aeiou":
        return kind[:-1] + "ies"
    return kind + "s"
