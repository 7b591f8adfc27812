"""Readability, measured: WCAG contrast of every text colour the shipped card CSS produces.

The CSS is read as a browser would read it for the elements a card contains (a small
cascade: selector matching, specificity, inheritance, opacity and translucent backgrounds),
in light mode and with each of the night-mode classes Anki's clients set.  WCAG AA asks for
4.5:1 for normal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pytest

from qa2anki.render import card_css

AA = 4.5

RGBA = tuple[float, float, float, float]  # 0-255 channels, alpha 0-1, not premultiplied
WHITE: RGBA = (255.0, 255.0, 255.0, 1.0)
TRANSPARENT: RGBA = (0.0, 0.0, 0.0, 0.0)


# --- CSS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    tag: str
    classes: frozenset[str] = frozenset()
    id: str = ""


def element(spec: str) -> Element:
    """`tag.class1.class2#id` as an Element."""
    match = re.fullmatch(r"(?P<tag>[a-z0-9]+)(?P<classes>(\.[\w-]+)*)(#(?P<id>[\w-]+))?", spec)
    assert match, spec
    return Element(match["tag"], frozenset(match["classes"].split(".")[1:]), match["id"] or "")


@dataclass(frozen=True)
class Rule:
    selector: str
    specificity: tuple[int, int, int]
    order: int
    declarations: dict[str, str]


_COMPOUND = re.compile(
    r"(?P<tag>[a-z][a-z0-9]*)?(?P<rest>(?:[.#][\w-]+|:not\([^()]*\))*)", re.IGNORECASE
)


def parse_css(css: str) -> list[Rule]:
    """Split the stylesheet into one rule per selector; fail on anything this cascade lacks."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules = []
    for order, (selectors, body) in enumerate(re.findall(r"([^{}]+)\{([^{}]*)\}", css)):
        assert "@" not in selectors, f"at-rules are not understood here: {selectors.strip()}"
        declarations = {}
        for declaration in body.split(";"):
            if declaration.strip():
                name, _, value = declaration.partition(":")
                declarations[name.strip().lower()] = value.strip()
        for raw in selectors.split(","):
            selector = " ".join(raw.split())
            rules.append(Rule(selector, specificity(selector), order, declarations))
    assert css.count("{") == len(re.findall(r"([^{}]+)\{([^{}]*)\}", css)), "nested blocks"
    return rules


@cache
def compounds(selector: str) -> tuple[tuple[str, str], ...]:
    """`a > b c` as [(' ', 'a'), ('>', 'b'), (' ', 'c')]."""
    parts = []
    combinator = " "
    for token in selector.replace(">", " > ").split():
        if token == ">":
            combinator = ">"
            continue
        assert _COMPOUND.fullmatch(token), f"selector syntax not understood here: {selector}"
        parts.append((combinator, token))
        combinator = " "
    return tuple(parts)


def specificity(selector: str) -> tuple[int, int, int]:
    ids = classes = tags = 0
    for _, compound in compounds(selector):
        negated = re.findall(r":not\(([^()]*)\)", compound)
        for simple in [*negated, re.sub(r":not\([^()]*\)", "", compound)]:
            ids += simple.count("#")
            classes += simple.count(".")
            tags += 1 if re.match(r"[a-z]", simple, re.IGNORECASE) else 0
    return ids, classes, tags


def compound_matches(compound: str, node: Element) -> bool:
    match = _COMPOUND.fullmatch(compound)
    assert match
    if match["tag"] and match["tag"].lower() != node.tag:
        return False
    for simple in re.findall(r"[.#][\w-]+|:not\([^()]*\)", match["rest"]):
        if simple.startswith(":not("):
            if compound_matches(simple[5:-1], node):
                return False
        elif simple.startswith("."):
            if simple[1:] not in node.classes:
                return False
        elif simple[1:] != node.id:
            return False
    return True


def selector_matches(selector: str, path: list[Element]) -> bool:
    """Whether the selector matches the last element of ``path`` (root first)."""
    parts = compounds(selector)

    def match_from(part: int, index: int) -> bool:
        combinator, compound = parts[part]
        if not compound_matches(compound, path[index]):
            return False
        if part == 0:
            return True
        if combinator == ">":
            return index > 0 and match_from(part - 1, index - 1)
        return any(match_from(part - 1, earlier) for earlier in range(index - 1, -1, -1))

    return match_from(len(parts) - 1, len(path) - 1)


def cascaded(rules: list[Rule], path: list[Element], prop: str) -> str | None:
    """The winning declared value of a property for the last element of ``path``."""
    names = {"background-color": ("background-color", "background")}.get(prop, (prop,))
    winner: tuple[tuple[int, int, int], int, str] | None = None
    for rule in rules:
        for name in names:
            if name in rule.declarations and selector_matches(rule.selector, path):
                candidate = (rule.specificity, rule.order, rule.declarations[name])
                if winner is None or candidate[:2] >= winner[:2]:
                    winner = candidate
    return None if winner is None else winner[2]


# --- colour ---------------------------------------------------------------------------------


def parse_color(value: str) -> RGBA:
    value = value.strip().lower()
    if value == "transparent":
        return TRANSPARENT
    if match := re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", value):
        digits = match[1] if len(match[1]) == 6 else "".join(c * 2 for c in match[1])
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return float(red), float(green), float(blue), 1.0
    if match := re.fullmatch(r"rgba?\(([^)]*)\)", value):
        numbers = [float(n) for n in re.split(r"[\s,/]+", match[1].strip())]
        return numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) == 4 else 1.0
    raise AssertionError(f"colour not understood here: {value!r}")


def over(top: RGBA, below: RGBA) -> RGBA:
    """Source-over compositing of two colours."""
    alpha = top[3] + below[3] * (1 - top[3])
    if alpha == 0:
        return TRANSPARENT
    channels = ((top[i] * top[3] + below[i] * below[3] * (1 - top[3])) / alpha for i in range(3))
    red, green, blue = channels
    return red, green, blue, alpha


def luminance(color: RGBA) -> float:
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue, _ = color
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: RGBA, second: RGBA) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def shown_colors(rules: list[Rule], path: list[Element]) -> tuple[RGBA, RGBA]:
    """The opaque text colour and background colour a reader sees at the end of ``path``."""
    text = TRANSPARENT
    for depth in range(len(path)):
        declared = cascaded(rules, path[: depth + 1], "color")
        if declared is not None:
            text = parse_color(declared)  # otherwise inherited
    if text == TRANSPARENT:
        text = (0.0, 0.0, 0.0, 1.0)  # the browser's initial colour

    def paint(depth: int, content: RGBA) -> RGBA:
        # An element paints its background, then its children's content over it; its
        # opacity then applies to all of that at once.
        if depth == len(path):
            return content
        sub = path[: depth + 1]
        background = parse_color(cascaded(rules, sub, "background-color") or "transparent")
        inner = over(paint(depth + 1, content), background)
        opacity = float(cascaded(rules, sub, "opacity") or 1)
        return inner[0], inner[1], inner[2], inner[3] * opacity

    return over(paint(0, text), WHITE), over(paint(0, TRANSPARENT), WHITE)


# --- the card -------------------------------------------------------------------------------

LIGHT = frozenset({"card", "card1"})
MODES = {
    "light": LIGHT,
    "night (desktop)": LIGHT | {"nightMode", "night_mode"},
    "night (nightMode only)": LIGHT | {"nightMode"},
    "night (night_mode only)": LIGHT | {"night_mode"},
}
CODE_BLOCK = "pre.highlight.language-python.tex2jax_ignore.mathjax_ignore"
PLAIN_CODE_BLOCK = "pre.highlight.tex2jax_ignore.mathjax_ignore"


def token_classes(css: str) -> list[str]:
    """Every Pygments class the card CSS styles, in either mode."""
    return sorted(set(re.findall(r"\.highlight \.([\w-]+)", css)))


def card_texts(css: str) -> dict[str, list[str]]:
    """Each kind of text on a card, as the element path from the card down to it."""
    question = ["div.qa2anki", "div.question", "p"]
    answer = ["div.qa2anki", "div.answer"]
    texts = {
        "topic": ["div.qa2anki", "div.topic"],
        "question": question,
        "answer text": [*answer, "p"],
        "bold text": [*answer, "p", "strong"],
        "table cell": [*answer, "table", "tbody", "tr", "td"],
        "link": [*answer, "p", "a"],
        "inline code": [*answer, "p", "code"],
        "inline code in a question": [*question, "code"],
        "plain code block": [*answer, PLAIN_CODE_BLOCK, "code"],
        "code text outside tokens": [*answer, CODE_BLOCK, "code"],
    }
    for token in token_classes(css):
        texts[f"code token .{token}"] = [*answer, CODE_BLOCK, "code", f"span.{token}"]
    return texts


def measure(css: str, card_classes: frozenset[str]) -> dict[str, float]:
    rules = parse_css(css)
    card = Element("div", card_classes)
    return {
        name: contrast(*shown_colors(rules, [card, *(element(spec) for spec in path)]))
        for name, path in card_texts(css).items()
    }


@pytest.mark.parametrize("mode", MODES)
def test_every_text_on_a_card_meets_wcag_aa(mode: str) -> None:
    ratios = measure(card_css(), MODES[mode])

    failing = {name: round(ratio, 2) for name, ratio in ratios.items() if ratio < AA}
    assert failing == {}, f"below {AA}:1 in {mode}"
    assert len([name for name in ratios if name.startswith("code token")]) > 60


def test_the_code_block_background_is_light_by_day_and_dark_by_night() -> None:
    rules = parse_css(card_css())
    for mode, classes in MODES.items():
        path = [Element("div", classes), *(element(s) for s in card_texts("")["plain code block"])]
        _, background = shown_colors(rules, path)
        assert (luminance(background) > 0.5) is (mode == "light"), mode


# --- the measuring itself -------------------------------------------------------------------


def test_contrast_matches_known_wcag_values() -> None:
    assert contrast(parse_color("#000"), WHITE) == pytest.approx(21)
    assert contrast(WHITE, WHITE) == pytest.approx(1)
    assert contrast(parse_color("#777777"), WHITE) == pytest.approx(4.48, abs=0.01)
    assert contrast(parse_color("#0969da"), WHITE) == pytest.approx(5.2, abs=0.05)


def test_translucent_backgrounds_and_opacity_are_composited() -> None:
    css = ".card { color: #000; background: #fff }\n.x { background-color: rgba(0, 0, 0, 0.5) }"
    rules = parse_css(css + "\n.y { opacity: 0.5 }")
    text, background = shown_colors(rules, [Element("div", frozenset({"card"})), element("p.x")])
    assert background == pytest.approx((127.5, 127.5, 127.5, 1))
    assert text == pytest.approx((0, 0, 0, 1))
    faded, behind = shown_colors(rules, [Element("div", frozenset({"card"})), element("p.y")])
    assert faded == pytest.approx((127.5, 127.5, 127.5, 1))
    assert behind == pytest.approx((255, 255, 255, 1))


def test_light_colours_that_leak_into_night_mode_are_caught() -> None:
    """A light-mode token background that night mode does not override is still there."""
    css = (
        ".card { color: #000; background-color: #fff }\n"
        ".nightMode .card, .card.nightMode { color: #eee; background-color: #111 }\n"
        ".highlight { background: #fff; }\n"
        ".highlight .gd { background-color: #ffdddd }\n"
        ".nightMode .highlight { background: #111; color: #eee }\n"
        ".nightMode .highlight .gd { color: #f88 }\n"
    )

    ratios = measure(css, LIGHT | {"nightMode"})

    assert ratios["code token .gd"] < 2
    assert ratios["code text outside tokens"] > 15


def test_specificity_beats_order_and_later_rules_win_ties() -> None:
    rules = parse_css(".a .b { color: #111 }\n.b { color: #222 }\n.a .b { color: #333 }")
    path = [element("div.a"), element("span.b")]

    assert cascaded(rules, path, "color") == "#333"
    assert (
        cascaded(
            parse_css(".b { color: #222 }\n.c { color: #444 }"), [element("span.b.c")], "color"
        )
        == "#444"
    )
    assert not selector_matches(".a > .b", [element("div.a"), element("p"), element("span.b")])
    assert selector_matches(
        ".a :not(pre) > code", [element("div.a"), element("p"), element("code")]
    )
    assert not selector_matches(
        ".a :not(pre) > code", [element("div.a"), element("pre"), element("code")]
    )
