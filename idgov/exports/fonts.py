"""A Unicode font for PDF copies (DejaVu Sans), and text cleaners for what a font lacks."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

# Where distributions put DejaVu Sans (Debian/Ubuntu fonts-dejavu-core, Fedora, Arch, Alpine);
# fc-match is asked when none of these exists.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
# Common typography outside Latin-1, by code point (the characters look like ASCII ones).
CORE_REPLACEMENTS = {
    "\u2192": "->",
    "\u2026": "...",
    "\u2014": "-",
    "\u2013": "-",
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
}


def find_unicode_font() -> tuple[Path, Path | None] | None:
    """DejaVu Sans (regular, bold if present) on this machine, or None to use a core font."""
    for candidate in FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path, _bold_of(path)
    found = _fc_match("DejaVu Sans")
    return None if found is None else (found, _bold_of(found))


def _fc_match(pattern: str) -> Path | None:
    executable = shutil.which("fc-match")
    if executable is None:
        return None
    try:
        # A fixed argument list, no shell: nothing here comes from the user.
        done = subprocess.run(  # noqa: S603
            [executable, "--format=%{file}", pattern],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(done.stdout.strip())
    # fc-match always answers with some font; only a TrueType file fpdf2 can embed will do.
    usable = done.returncode == 0 and path.suffix.lower() == ".ttf" and path.is_file()
    return path if usable else None


def _bold_of(regular: Path) -> Path | None:
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    return bold if bold.is_file() else None


def latin1_cleaner(text: str) -> str:
    # Core fonts encode Latin-1 only; anything else would make fpdf2 raise mid-export.
    for wide, narrow in CORE_REPLACEMENTS.items():
        text = text.replace(wide, narrow)
    return _clean(text, lambda code: code < 256)


def cmap_cleaner(cmap: frozenset[int]) -> Callable[[str], str]:
    # Characters the font has no glyph for would print as empty boxes; '?' says so plainly.
    return lambda text: _clean(text, cmap.__contains__)


def _clean(text: str, has_glyph: Callable[[int], bool]) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if text.isascii() and text.replace("\n", "").isprintable():
        return text
    return "".join(
        ch if ch == "\n" or (ch.isprintable() and has_glyph(ord(ch))) else "?" for ch in text
    )
