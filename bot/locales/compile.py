"""Compile the bot's ``.po`` catalogues to ``.mo``: ``python -m bot.locales.compile``.

Binaries are not committed (``*.mo`` is gitignored); the bot runtime calls
:func:`ensure_compiled` when it starts, which recompiles only catalogues whose ``.mo`` is
missing or older than the ``.po`` (a few milliseconds). When the package directory is read-only
(an installed wheel, a locked-down container) the catalogues are compiled into a cache
directory instead, and the runtime loads them from there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"


def _catalogues(source: Path) -> list[Path]:
    return sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalogues(source: Path = LOCALES_DIR, target: Path | None = None) -> list[Path]:
    """Compile every stale catalogue under ``source`` into ``target`` (default: in place);
    returns the ``.mo`` files written."""
    target = target or source
    written: list[Path] = []
    for po in _catalogues(source):
        relative = po.relative_to(source)
        mo = (target / relative).with_suffix(".mo")
        if not _stale(po, mo):
            continue
        locale = relative.parts[0]
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=DOMAIN)
        mo.parent.mkdir(parents=True, exist_ok=True)
        partial = mo.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        partial.replace(mo)  # atomic: a parallel reader never sees half a catalogue
        written.append(mo)
    return written


def ensure_compiled(source: Path = LOCALES_DIR) -> Path:
    """The directory to load catalogues from, compiling whatever is missing or stale."""
    try:
        written = compile_catalogues(source)
    except OSError:
        digest = hashlib.sha256(str(source).encode()).hexdigest()[:12]
        cache = Path(tempfile.gettempdir()) / f"atelier-locales-{digest}"
        written = compile_catalogues(source, cache)
        for po in _catalogues(source):  # aiogram's I18n wants the .po-less layout too
            (cache / po.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
        source = cache
    if written:
        logger.info("compiled %d message catalogue(s)", len(written))
    return source


def main() -> None:
    written = compile_catalogues()
    for path in written:
        print(f"compiled {path.relative_to(LOCALES_DIR.parent.parent)}")
    if not written:
        print("catalogues are up to date")
    sys.exit(0)


if __name__ == "__main__":
    main()
