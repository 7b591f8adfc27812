"""The ``.apkg`` file: a zip of the collection and its (empty) list of media.

The same content always gives the same bytes: fixed entry times and modes, and the
collection deflated in pieces of a fixed size.  A large deck's collection is tens of
megabytes, and deflating it is a tenth of a rebuild: the pieces are deflated on all cores,
as ``pigz`` does.  Each piece is deflated on its own, all but the last ending on a byte
boundary (a sync flush), so that together they are one deflate stream that any unzip reads.

The zip is written here rather than by ``zipfile`` because ``zipfile`` deflates an entry
itself, on one core.  It writes the plain zip format (no ZIP64): a collection too large for
it (4 GiB, tens of millions of questions) goes through ``zipfile`` instead.
"""

from __future__ import annotations

import shutil
import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from qa2anki.workers import usable_cores

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""The time every entry carries, so that the same content gives the same bytes."""
# Level 1 deflates several times faster than the default level 6, for a file about 15% larger.
LEVEL = 1
# Pieces of a collection deflated on their own: small enough to share out over the cores of
# a ten-thousand-question deck, large enough that their ends cost nothing in size.
PIECE = 1 << 20
COLLECTION = "collection.anki2"
MEDIA = ("media", b"{}")
# The largest entry the plain zip format records (sizes and offsets are 32 bits).
_ZIP32_LIMIT = (1 << 32) - 1
# DOS date and time of ZIP_TIME: 1980-01-01 00:00:00.
_DOS_DATE = ((ZIP_TIME[0] - 1980) << 9) | (ZIP_TIME[1] << 5) | ZIP_TIME[2]
_DOS_TIME = (ZIP_TIME[3] << 11) | (ZIP_TIME[4] << 5) | (ZIP_TIME[5] // 2)
_VERSION = 20  # deflate
_MADE_ON_UNIX = 3
_MODE = 0o644 << 16  # the entries' permissions, as an unzip on Unix restores them
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


def write_apkg(path: Path, collection: Path, comment: bytes) -> None:
    """Write the ``.apkg`` at ``path``: the collection file and an empty media list."""
    size = collection.stat().st_size
    if size > _ZIP32_LIMIT // 2:
        _write_with_zipfile(path, collection, size, comment)
        return
    central: list[bytes] = []
    with path.open("wb") as out, collection.open("rb") as db:
        offset = out.tell()
        header = _LOCAL.size + len(COLLECTION)
        out.seek(offset + header)  # the header, with the sizes and CRC, once they are known
        crc = packed_size = 0
        for raw, packed in _deflated_pieces(db, size):
            crc = zlib.crc32(raw, crc)
            packed_size += len(packed)
            out.write(packed)
        end = out.tell()
        out.seek(offset)
        out.write(_local_header(COLLECTION, crc, packed_size, size))
        out.seek(end)
        central.append(_central_header(COLLECTION, crc, packed_size, size, offset))

        name, content = MEDIA
        offset = out.tell()
        packed = _deflate(content, last=True)
        crc = zlib.crc32(content)
        out.write(_local_header(name, crc, len(packed), len(content)))
        out.write(packed)
        central.append(_central_header(name, crc, len(packed), len(content), offset))

        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        count = len(central)
        out.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), start, len(comment)))
        out.write(comment)


def _deflated_pieces(file: BinaryIO, size: int) -> Iterator[tuple[bytes, bytes]]:
    """Yield each piece of the file and its deflated bytes, in order; on all cores when there
    are several pieces (only a few are held at a time)."""
    count = max(1, -(-size // PIECE))
    workers = min(usable_cores(), count)
    if workers == 1:
        for index in range(count):
            raw = file.read(PIECE)
            yield raw, _deflate(raw, last=index == count - 1)
        return
    # zlib lets other threads run while it deflates, so threads share the work out.
    from concurrent.futures import Future, ThreadPoolExecutor  # noqa: PLC0415 (large decks only)

    pending: deque[tuple[bytes, Future[bytes]]] = deque()
    with ThreadPoolExecutor(workers) as pool:
        for index in range(count):
            raw = file.read(PIECE)
            pending.append((raw, pool.submit(_deflate, raw, last=index == count - 1)))
            if len(pending) > workers:
                raw, done = pending.popleft()
                yield raw, done.result()
        while pending:
            raw, done = pending.popleft()
            yield raw, done.result()


def _deflate(data: bytes, *, last: bool) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH
    )


def _local_header(name: str, crc: int, packed_size: int, size: int) -> bytes:
    encoded = name.encode("ascii")
    fields = (_VERSION, 0, 0, zipfile.ZIP_DEFLATED, _DOS_TIME, _DOS_DATE, crc, packed_size, size)
    return _LOCAL.pack(b"PK\x03\x04", *fields, len(encoded), 0) + encoded


def _central_header(name: str, crc: int, packed_size: int, size: int, offset: int) -> bytes:
    encoded = name.encode("ascii")
    return (
        _CENTRAL.pack(
            b"PK\x01\x02",
            _VERSION,
            _MADE_ON_UNIX,
            _VERSION,
            0,
            0,
            zipfile.ZIP_DEFLATED,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            packed_size,
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            _MODE,
            offset,
        )
        + encoded
    )


def _write_with_zipfile(path: Path, collection: Path, size: int, comment: bytes) -> None:
    """Write a collection too large for the plain zip format, with ZIP64, on one core."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.comment = comment
        with collection.open("rb") as db, archive.open(_entry(COLLECTION, size), "w") as entry:
            shutil.copyfileobj(db, entry, PIECE)
        name, content = MEDIA
        archive.writestr(_entry(name, len(content)), content)


def _entry(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = LEVEL  # type: ignore[attr-defined]
    info.external_attr = _MODE
    info.file_size = size  # lets zipfile choose ZIP64 up front
    return info
