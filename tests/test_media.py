"""Images: found in the Markdown, checked, named by content and packed into the .apkg."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DECK_YAML, png_bytes, write_sources
from qa2anki import build
from qa2anki.build import build_deck, build_preview
from qa2anki.cli import app
from qa2anki.errors import OutputError, ValidationError
from qa2anki.loader import load_deck
from qa2anki.media import MAX_MEDIA_BYTES, ImageRef, image_refs
from qa2anki.package import PackagedDeck, package_deck
from qa2anki.render import render_deck

STAMP = 1_700_000_000
RED = png_bytes(rgb=(200, 30, 30))
BLUE = png_bytes(rgb=(30, 30, 200))


def media_name(stem: str, data: bytes, suffix: str = ".png") -> str:
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}{suffix}"


@pytest.fixture
def image_sources(tmp_path: Path) -> Path:
    """A deck whose answers show images: one beside the topic file, one in a subfolder."""
    source = write_sources(
        tmp_path / "src",
        {
            "deck.yaml": DECK_YAML,
            "01-arch.yaml": """\
                topic: Architecture
                questions:
                  - id: layers
                    q: What are the layers?
                    a: |
                      Three of them:

                      ![the layers](arch.png "Layers")
                  - id: flow
                    q: "How does a request flow? ![flow](diagrams/flow%20chart.png)"
                    a: Through every layer, as in ![the layers](arch.png).
                  - id: plain
                    q: No image here?
                    a: None.
                """,
        },
    )
    (source / "arch.png").write_bytes(RED)
    (source / "diagrams").mkdir()
    (source / "diagrams" / "flow chart.png").write_bytes(BLUE)
    return source


def apkg_media(apkg: Path) -> dict[str, bytes]:
    """Return the media files of an .apkg by name, as Anki's importer reads them."""
    with zipfile.ZipFile(apkg) as archive:
        names = json.loads(archive.read("media"))
        return {name: archive.read(number) for number, name in names.items()}


def test_images_are_found_with_the_line_they_are_on() -> None:
    text = "One ![a](a.png)\nline two ![b][ref]\n\n- ![c](c%20d.png)\n\n[ref]: b.png\n"

    assert image_refs(text) == [
        ImageRef("a.png", 0),
        ImageRef("b.png", 1),
        ImageRef("c%20d.png", 3),
    ]
    assert image_refs("No image, not even `![code](x.png)`") == []


def test_images_are_packed_under_names_made_from_their_content(
    image_sources: Path, tmp_path: Path
) -> None:
    output = build_deck(image_sources, tmp_path / "deck.apkg", timestamp=STAMP).output

    arch, flow = media_name("arch", RED), media_name("flow-chart", BLUE)
    assert apkg_media(output) == {arch: RED, flow: BLUE}
    deck = load_deck(image_sources)
    assert [file.name for file in deck.media.files] == [arch, flow]
    assert deck.media.size == len(RED) + len(BLUE)


def test_the_card_html_refers_to_the_packed_name(image_sources: Path) -> None:
    notes = {
        note.id: note.fields for note in package_deck(render_deck(load_deck(image_sources))).notes
    }

    arch, flow = media_name("arch", RED), media_name("flow-chart", BLUE)
    assert notes["layers"][1] == (
        f'<p>Three of them:</p>\n<p><img src="{arch}" alt="the layers" title="Layers" /></p>'
    )
    assert notes["flow"][0] == f'<p>How does a request flow? <img src="{flow}" alt="flow" /></p>'
    assert (
        notes["flow"][1]
        == f'<p>Through every layer, as in <img src="{arch}" alt="the layers" />.</p>'
    )
    assert notes["plain"][1] == "<p>None.</p>"


def test_the_same_sources_give_the_same_bytes(image_sources: Path, tmp_path: Path) -> None:
    first = build_deck(image_sources, tmp_path / "a.apkg", timestamp=STAMP).output.read_bytes()
    second = build_deck(image_sources, tmp_path / "b.apkg", timestamp=STAMP).output.read_bytes()

    assert first == second


def test_a_changed_image_gets_a_new_name_and_changes_only_its_notes(
    image_sources: Path, tmp_path: Path
) -> None:
    build_deck(image_sources, tmp_path / "deck.apkg", timestamp=STAMP)
    green = png_bytes(rgb=(30, 200, 30))
    (image_sources / "arch.png").write_bytes(green)

    result = build_deck(image_sources, tmp_path / "deck.apkg", timestamp=STAMP + 60)

    assert (result.plan.changed, result.plan.unchanged) == (("layers", "flow"), ("plain",))
    assert apkg_media(result.output) == {
        media_name("arch", green): green,
        media_name("flow-chart", BLUE): BLUE,
    }


def test_an_image_in_a_subfolder_of_its_topic_and_one_shared_by_name(tmp_path: Path) -> None:
    """Paths are relative to the topic file; the same content under the same name is one file."""
    source = write_sources(
        tmp_path / "src",
        {
            "deck.yaml": DECK_YAML + "description: Cover ![cover](art/logo.png)\n",
            "01-a.yaml": "topic: A\nquestions:\n  - {id: a, q: '![x](art/logo.png)', a: A}\n",
        },
    )
    (source / "art").mkdir()
    (source / "art" / "logo.png").write_bytes(RED)

    deck = load_deck(source)

    assert [file.name for file in deck.media.files] == [media_name("logo", RED)]


def one_image_deck(folder: Path, name: str, data: bytes, size: int | None = None) -> Path:
    """A one-question deck whose question shows the image ``name``, made of ``data`` and, with
    ``size``, made that large (a sparse file: it takes no room on disk)."""
    source = write_sources(
        folder,
        {
            "deck.yaml": DECK_YAML,
            "01-a.yaml": f"topic: A\nquestions:\n  - {{id: a, q: '![x]({name})', a: A}}\n",
        },
    )
    with (source / name).open("wb") as file:
        file.write(data)
        if size is not None:
            file.truncate(size)
    return source


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    source = one_image_deck(tmp_path / "src", "big.png", RED, MAX_MEDIA_BYTES + 1)

    with pytest.raises(ValidationError) as caught:
        load_deck(source)

    assert [str(problem) for problem in caught.value.problems] == [
        f"{source / '01-a.yaml'}:3: image 'big.png' is 10.0 MiB, over the limit of 10 MiB: "
        "make it smaller (a card shows it at most at the card's width)"
    ]


def test_an_image_at_the_size_limit_is_packed(tmp_path: Path) -> None:
    source = one_image_deck(tmp_path / "src", "big.png", RED, MAX_MEDIA_BYTES)

    assert load_deck(source).media.size == MAX_MEDIA_BYTES


def test_an_image_that_changes_during_the_build_stops_it_and_writes_nothing(
    image_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "deck.apkg"

    def package_then_edit(rendered: object) -> PackagedDeck:
        packaged = package_deck(rendered)  # type: ignore[arg-type]
        (image_sources / "arch.png").write_bytes(BLUE + b"edited after the check")
        return packaged

    monkeypatch.setattr(build, "package_deck", package_then_edit)

    with pytest.raises(OutputError) as caught:
        build_deck(image_sources, output, timestamp=STAMP)

    assert str(caught.value) == (
        f"{image_sources / 'arch.png'}: changed while the deck was being built; build again"
    )
    assert list(tmp_path.iterdir()) == [image_sources]  # no deck, no temporary file
    assert not (image_sources / "qa2anki.lock").exists()


def test_a_valid_svg_is_packed_and_a_link_inside_it_to_itself_is_fine(tmp_path: Path) -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<defs><rect id="r" width="4" height="4"/><linearGradient id="g"/></defs>'
        b'<use xlink:href="#r"/><rect style="fill: url(#g)"/><style>rect {fill: url( "#g")}'
        b"</style></svg>"
    )
    source = one_image_deck(tmp_path / "src", "d.svg", svg)

    output = build_deck(source, tmp_path / "deck.apkg", timestamp=STAMP).output

    assert apkg_media(output) == {media_name("d", svg, ".svg"): svg}


def test_the_preview_embeds_each_image(image_sources: Path, tmp_path: Path) -> None:
    page = build_preview(image_sources, tmp_path / "preview.html").output.read_text()

    red = "data:image/png;base64," + base64.b64encode(RED).decode()
    assert page.count(f'<img src="{red}" alt="the layers"') == 2  # "layers" and "flow"
    assert media_name("arch", RED) not in page


def test_build_and_dry_run_count_the_images(image_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "deck.apkg"
    runner = CliRunner()
    size = len(RED) + len(BLUE)

    dry = runner.invoke(app, ["build", str(image_sources), "-o", str(output), "--dry-run"])
    built = runner.invoke(app, ["build", str(image_sources), "-o", str(output)])
    report = runner.invoke(app, ["build", str(image_sources), "-o", str(output), "--json"])

    assert dry.exit_code == built.exit_code == report.exit_code == 0
    assert dry.stdout.splitlines()[0] == (
        f"Dry run: would write 3 notes in 1 topic with 2 images ({size} bytes) to {output}; "
        "nothing was written."
    )
    assert built.stdout.splitlines()[0] == (
        f"Wrote 3 notes in 1 topic with 2 images ({size} bytes) to {output}"
    )
    assert (json.loads(report.stdout)["media_files"], json.loads(report.stdout)["media_bytes"]) == (
        2,
        size,
    )


def test_an_html_image_is_packed_like_a_markdown_one(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path / "src",
        {
            "deck.yaml": DECK_YAML,
            "01-arch.yaml": """\
                topic: Architecture
                questions:
                  - id: layers
                    q: What are the layers?
                    a: |
                      <img src="arch.png" alt="The layers" width="300" onerror="alert(1)">
                      and <IMG SRC='arch.png'>
                """,
        },
    )
    (source / "arch.png").write_bytes(RED)

    deck = load_deck(source)
    (note,) = package_deck(render_deck(deck)).notes
    output = build_deck(source, tmp_path / "deck.apkg", timestamp=STAMP).output

    arch = media_name("arch", RED)
    assert note.fields[1] == f'<p><img src="{arch}" alt="The layers">\nand <img src="{arch}"></p>'
    assert apkg_media(output) == {arch: RED}
    assert [str(warning) for warning in deck.warnings] == [
        f"{source / '01-arch.yaml'}:6: dropped the attribute '{name}' of <img>: "
        "<img> keeps only alt, src, title"
        for name in ("width", "onerror")
    ]
