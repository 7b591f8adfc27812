"""Write ``src/qa2anki/code-colours.css`` from the Pygments styles the cards use.

The file is what ``render.code_css()`` returns; ``tests/test_render.py`` fails when the two
differ (after a change of style or of Pygments).  Run it from the project's folder:

    .venv/bin/python tests/code_css.py
"""

from __future__ import annotations

from qa2anki.render import CODE_CSS_FILE, code_css


def main() -> None:
    CODE_CSS_FILE.write_text(code_css(), encoding="utf-8")
    print(f"wrote {CODE_CSS_FILE}")


if __name__ == "__main__":
    main()
