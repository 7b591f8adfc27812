"""``preview --watch``: rebuild the preview whenever a source changes, and let the page reload.

The page is served on this computer only (``127.0.0.1``), at ``/``; ``/version`` says which
build it is, and the page asks every half second and reloads itself when that changes (its
filter, switches and scroll position stay).  A build that fails keeps the last good page.
The page is also written to its file each time, as ``preview`` writes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from watchfiles import watch

from qa2anki.build import DEFAULT_PREVIEW, PreviewResult, build_preview
from qa2anki.errors import OutputError, Qa2AnkiError
from qa2anki.loader import TOPIC_SUFFIXES
from qa2anki.media import IMAGE_TYPES

# The files a deck is made of: an editor's swap and backup files come and go unseen.
SOURCE_SUFFIXES = frozenset(TOPIC_SUFFIXES) | frozenset(IMAGE_TYPES)


def _is_source(change: object, path: str) -> bool:
    return Path(path).suffix.lower() in SOURCE_SUFFIXES


def _shown(path: Path) -> Path:
    """Return a path as the user would write it: from the current folder, if inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


@dataclass
class _Page:
    html: bytes = b""
    version: int = 0


class LivePreview:
    """The preview of a source folder, built again on demand and served over HTTP."""

    def __init__(self, source: Path, output: Path | None = None, *, force: bool = False) -> None:
        self.source = source
        self.output = output or DEFAULT_PREVIEW
        self.force = force
        self._page = _Page()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def build(self) -> PreviewResult:
        """Build and write the page, and serve it from now on.

        Raises:
            ValidationError: the sources have problems; the last good page is still served.
            OutputError: the page could not be written; the last good page is still served.
        """
        version = self._page.version + 1
        result = build_preview(self.source, self.output, force=self.force, live_version=version)
        with self._lock:
            self._page = _Page(result.page.encode("utf-8"), version)
        return result

    def serve(self, port: int = 0) -> str:
        """Start serving the page in the background; return its address.

        Raises:
            OutputError: the port cannot be used (another program has it).
        """
        live = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with live._lock:
                    page = live._page
                # Only this computer's own names: a web page that points another name at
                # 127.0.0.1 (DNS rebinding) gets nothing.
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                if host not in ("127.0.0.1", "localhost"):
                    self.send_error(403)
                elif self.path in ("/", "/index.html"):
                    self._send(page.html, "text/html; charset=utf-8")
                elif self.path == "/version":
                    self._send(str(page.version).encode("ascii"), "text/plain")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the terminal shows builds, not requests

        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise OutputError(
                f"cannot serve the preview on port {port}: {exc.strerror or exc}"
                + (" (choose another with --port, or 0 for any free one)" if port else "")
            ) from None
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, bound = self._server.server_address[:2]
        return f"http://{host!s}:{bound}/"

    def watch(
        self,
        on_build: Callable[[list[Path], PreviewResult | Qa2AnkiError], None],
        stop: threading.Event | None = None,
    ) -> None:
        """Build again after each change to the sources until Ctrl-C (or ``stop``); tell
        ``on_build`` which files changed and what the build gave."""
        try:
            for changes in watch(
                self.source, watch_filter=_is_source, stop_event=stop, debounce=200
            ):
                changed = sorted({_shown(Path(path)) for _, path in changes})
                try:
                    result: PreviewResult | Qa2AnkiError = self.build()
                except Qa2AnkiError as problem:  # the sources, or the page's file: say so
                    result = problem
                on_build(changed, result)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
