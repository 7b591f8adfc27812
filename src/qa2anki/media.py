"""The images that questions show: found in the Markdown, checked, and named by content.

An image ``![alt](path)`` or ``<img src="path">`` names a file relative to its topic file,
inside the source folder.  It is packed into the ``.apkg`` under a flat name made from its content
(``arch-<12 hex of sha256>.png``): Anki keeps media files by name and never replaces one it
has, so a changed image must arrive under a new name, which also changes the note's HTML and
so updates the note on re-import.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote
from xml.etree import ElementTree

from qa2anki.cache import Links
from qa2anki.errors import OutputError
from qa2anki.markup import image_src
from qa2anki.render import inline_tokens

# A card shows an image at most at its own width: a file larger than this is a mistake (a
# photo straight from a camera, a video renamed).
MAX_MEDIA_BYTES = 10 * 1024 * 1024
MAX_MEDIA_TEXT = "10 MiB"

# Each type qa2anki packs: its MIME type and the first bytes its files start with.
IMAGE_TYPES: dict[str, tuple[str, str]] = {
    ".png": ("image/png", "PNG"),
    ".jpg": ("image/jpeg", "JPEG"),
    ".jpeg": ("image/jpeg", "JPEG"),
    ".gif": ("image/gif", "GIF"),
    ".webp": ("image/webp", "WebP"),
    ".svg": ("image/svg+xml", "SVG"),
}
SUPPORTED_TEXT = "PNG, JPEG, GIF, WebP or SVG"

# What an SVG may not hold: a browser runs script in an SVG opened on its own, and Anki keeps
# every media file in a folder that can be opened.
_SVG_ACTIVE_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "handler"}
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_NAME_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_-]+")
_HASH_LENGTH = 12
_STEM_LENGTH = 40


class MediaFile(NamedTuple):
    """One image file, as the ``.apkg`` holds it."""

    name: str
    """The flat, content-addressed name in the ``.apkg`` and in Anki's media folder."""
    path: Path
    size: int
    sha256: str

    @property
    def mime_type(self) -> str:
        return IMAGE_TYPES[self.path.suffix.lower()][0]

    def read(self) -> bytes:
        """Return the file's bytes, as they were when the sources were checked.

        Raises:
            OutputError: the file changed or went away since.
        """
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise OutputError(f"cannot read: {exc.strerror or exc}", self.path) from None
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise OutputError("changed while the deck was being built; build again", self.path)
        return data

    def data_uri(self) -> str:
        """Return the image as a ``data:`` URI, for a page that must stand on its own."""
        return f"data:{self.mime_type};base64,{base64.b64encode(self.read()).decode('ascii')}"


@dataclass(frozen=True)
class Media:
    """Every image of a deck: the files, and which texts show which."""

    files: tuple[MediaFile, ...]
    """Each file once, by name."""
    texts: Mapping[tuple[Path, str], tuple[tuple[str, MediaFile], ...]]
    """By (the folder of the file a text is in, the text): each image ``src`` and its file."""

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    def links(self, folder: Path, text: str, uris: Mapping[str, str] | None = None) -> Links:
        """Return what each image of ``text`` refers to in HTML: its name in the ``.apkg``,
        or, given ``uris`` (see ``data_uris``), the image itself as a ``data:`` URI."""
        return tuple(
            (src, uris[file.name] if uris is not None else file.name)
            for src, file in self.texts.get((folder, text), ())
        )

    def data_uris(self) -> dict[str, str]:
        """Return each image as a ``data:`` URI, by name: each file read once."""
        return {file.name: file.data_uri() for file in self.files}


class ImageProblem(NamedTuple):
    """A problem with one image: the line of the text it is on (counted from 0), and what."""

    offset: int
    message: str


class ImageRef(NamedTuple):
    """An image of a text: the ``src`` as markdown-it gives it, and the text's line (from 0)."""

    src: str
    offset: int


def image_refs(text: str) -> list[ImageRef]:
    """Return the images a text shows, Markdown (``![alt](src)``) and HTML (``<img src>``),
    in order."""
    if "![" not in text and "<img" not in text.lower():
        return []
    refs = []
    for token, line in inline_tokens(text):
        if token.type == "image":
            refs.append(ImageRef(str(token.attrGet("src") or ""), line))
        elif token.type == "html_inline" and (src := image_src(token.content)) is not None:
            refs.append(ImageRef(src, line))
        # An image inside an image's alt text is shown as its alt text, not as an image.
    return refs


class MediaFinder:
    """Finds and checks the images of a deck's texts, reading each file once."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.root = _resolved(source)
        self.files: dict[Path, MediaFile | str] = {}  # by resolved path: the file, or a problem
        self.texts: dict[tuple[Path, str], tuple[tuple[str, MediaFile], ...]] = {}

    def add(self, path: Path, text: str) -> list[ImageProblem]:
        """Record the images of ``text``, a text of the file at ``path``; return its problems."""
        folder = path.parent
        if (folder, text) in self.texts:
            return []
        problems: list[ImageProblem] = []
        found: list[tuple[str, MediaFile]] = []
        for ref in image_refs(text):
            result = self._file(folder, ref.src)
            if isinstance(result, str):
                problems.append(ImageProblem(ref.offset, f"image {_shown(ref.src)} {result}"))
            else:
                found.append((ref.src, result))
        if found and not problems:
            self.texts[(folder, text)] = tuple(found)
        return problems

    def media(self) -> Media:
        """Return every image found, each file once, in name order."""
        files = {file.name: file for file in self.files.values() if isinstance(file, MediaFile)}
        return Media(tuple(files[name] for name in sorted(files)), dict(self.texts))

    def _file(self, folder: Path, src: str) -> MediaFile | str:
        """Return the file ``src`` names from ``folder``, or what is wrong with it."""
        try:
            target = _target(folder, src)
            resolved = _resolved(target)
            if resolved is None or self.root is None or not resolved.is_relative_to(self.root):
                raise _Refused(
                    f"is outside the source folder {self.source}: copy the image into it"
                )
        except _Refused as refused:
            return refused.message
        if resolved not in self.files:
            try:
                self.files[resolved] = _read_image(resolved, target)
            except _Refused as refused:
                self.files[resolved] = refused.message
        return self.files[resolved]


class _Refused(Exception):
    """What is wrong with an image, for its message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def find_media(
    texts: Iterable[tuple[Path, int, str]], source: Path
) -> tuple[Media, list[tuple[Path, int, str]]]:
    """Find and check the images of ``texts`` (each: its file, the file's line of the text's
    first line, the text).  Return the media and every problem as (file, line, message)."""
    finder = MediaFinder(source)
    problems = [
        (path, line + problem.offset, problem.message)
        for path, line, text in texts
        for problem in finder.add(path, text)
    ]
    return finder.media(), problems


def is_link(src: str) -> bool:
    """Tell whether an image's ``src`` is a link (``https:``, ``data:`` ...), not a path."""
    scheme = _SCHEME_RE.match(src)
    return scheme is not None and len(scheme.group()) > 2  # not a Windows drive ("C:")


def _target(folder: Path, src: str) -> Path:
    """Return the file an image's ``src`` names from ``folder``; refuse what is not a path."""
    if not src:
        raise _Refused("has no path")
    scheme = _SCHEME_RE.match(src)
    if scheme and is_link(src):
        name = scheme.group()[:-1].lower()
        if name in ("http", "https"):
            raise _Refused(
                "is a URL: qa2anki does not download images; save the image beside the topic "
                "file and give its path"
            )
        if name == "data":
            raise _Refused(
                "is a data: URI: save the image as a file beside the topic file and give its path"
            )
        raise _Refused(
            f"is a link ({name}:), not a path: give the image's path from the topic file"
        )
    relative = unquote(src)
    if relative.startswith(("/", "\\")) or scheme:
        raise _Refused("is an absolute path: give the image's path from the topic file")
    return folder / relative


def _read_image(resolved: Path, shown: Path) -> MediaFile:
    """Return the image file at ``resolved``; refuse what is not one qa2anki packs."""
    suffix = resolved.suffix.lower()
    try:
        if resolved.is_dir():
            raise _Refused("is a folder, not an image")
        if not resolved.is_file():
            raise _Refused(
                "is not a regular file" if resolved.exists() else f"not found: no file {shown}"
            )
        if suffix not in IMAGE_TYPES:
            kind = f"a {suffix} file" if suffix else "a file without an extension"
            raise _Refused(f"is {kind}: images must be {SUPPORTED_TEXT}")
        size = resolved.stat().st_size
        if size > MAX_MEDIA_BYTES:
            raise _Refused(
                f"is {size / (1024 * 1024):.1f} MiB, over the limit of {MAX_MEDIA_TEXT}: "
                "make it smaller (a card shows it at most at the card's width)"
            )
        data = resolved.read_bytes()
    except OSError as exc:
        raise _Refused(f"cannot be read: {exc.strerror or exc}") from None
    _check_content(suffix, data)
    digest = hashlib.sha256(data).hexdigest()
    stem = _NAME_UNSAFE_RE.sub("-", resolved.stem).strip("-_")[:_STEM_LENGTH].strip("-_")
    name = f"{stem or 'image'}-{digest[:_HASH_LENGTH]}{suffix}"
    return MediaFile(name, resolved, len(data), digest)


def _check_content(suffix: str, data: bytes) -> None:
    """Refuse an image whose bytes are not of its type."""
    kind = IMAGE_TYPES[suffix][1]
    if kind == "SVG":
        _check_svg(data)
    elif not _starts_like(kind, data):
        raise _Refused(f"does not hold {kind} data (a renamed file, or a Git LFS pointer?)")


def _starts_like(kind: str, data: bytes) -> bool:
    if kind == "PNG":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "JPEG":
        return data.startswith(b"\xff\xd8\xff")
    if kind == "GIF":
        return data.startswith((b"GIF87a", b"GIF89a"))
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _check_svg(data: bytes) -> None:
    """Refuse an SVG that is not one, or that could run script or load other files."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        # Entities can make a small file enormous; an SVG needs none.
        raise _Refused("declares a DOCTYPE or entities: save the SVG without them")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise _Refused(f"is not a valid SVG file ({exc})") from None
    if _local(root.tag) != "svg":
        raise _Refused("is not an SVG image (its root element is not <svg>)")
    if instruction := _PROCESSING_RE.search(data):
        _refuse_svg(f"a processing instruction ({instruction[0].decode(errors='replace')} ...?>)")
    for element in root.iter():
        name = _local(element.tag)
        if name in _SVG_ACTIVE_ELEMENTS:
            _refuse_svg(f"a <{name}> element")
        target = element.get("attributeName", "").rsplit(":", 1)[-1]  # "xlink:href" too
        if name in {"set", "animate"} and target == "href":
            _refuse_svg(f"a <{name}> that changes a link")
        if name == "style" and _CSS_LOAD_RE.search(element.text or ""):
            _refuse_svg("a style that loads another file (url() or @import)")
        for qualified, value in element.attrib.items():
            attribute = _local(qualified)
            if attribute.lower().startswith("on"):
                _refuse_svg(f"an event handler ({attribute})")
            if attribute == "href" and not value.strip().startswith("#"):
                _refuse_svg(f"a link to {_shown(value)}")
            if _CSS_LOAD_RE.search(value):  # style="...", filter="url(...)", values="..."
                _refuse_svg("a style that loads another file (url() or @import)")


# A processing instruction other than the XML declaration: <?xml-stylesheet href="..."?>.
_PROCESSING_RE = re.compile(rb"<\?(?!xml[\s?])[^\s?>]*")
# CSS that loads another file: url(...) not of an element of the image's own (#id), @import.
_CSS_LOAD_RE = re.compile(r"""(?i)url\((?!\s*['"]?\s*#)|@import""")


def _refuse_svg(what: str) -> None:
    raise _Refused(
        f"holds {what}, which could run script or load other files: remove it, or export the "
        "image as PNG"
    )


def _local(name: str) -> str:
    """Return an XML name without its namespace."""
    return name.rsplit("}", 1)[-1]


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def _shown(text: str) -> str:
    """Quote a path or URL for a message, cut when long."""
    text = unquote(text)
    if len(text) > 80:
        text = text[:77] + "..."
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
