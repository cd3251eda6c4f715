"""Print the built book's page weights (and, with --build, the time of a cached rebuild).

A page's own weight is its HTML plus the images it references from ``_images/``; the scripts
under ``_static/`` (theme, MathJax, plotly.js, explorer.js) are shared by all pages and cached
by the browser, so they are listed once, separately.  Budget: 1.5 MB per page.

    python benchmarks/bench_book.py [--build]
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
BUDGET = 1.5e6


def page_weight(page: Path) -> tuple[int, int, int]:
    """(html bytes, image bytes, number of explorers) of one built page."""
    text = page.read_text(encoding="utf-8")
    images = set(re.findall(r'src="([^"]*_images/[^"]+)"', text))
    image_bytes = sum((page.parent / src).resolve().stat().st_size for src in images)
    return len(text.encode()), image_bytes, text.count('class="optimlab-explorer"')


def main() -> int:
    if "--build" in sys.argv:
        env = dict(os.environ, OPTIMLAB_BOOK="1")
        t0 = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "jupyter-book"), "build", str(ROOT)],
                       check=True, env=env, capture_output=True)
        print(f"cached rebuild: {time.perf_counter() - t0:.1f} s")
    if not (HTML / "index.html").exists():
        print("no built book: run `make book` first")
        return 1
    print(f"{'page':40s} {'html kB':>8s} {'images kB':>10s} {'total kB':>9s} {'explorers':>9s}")
    worst = 0
    for page in sorted((HTML / "book").glob("*.html")):
        h, i, n = page_weight(page)
        worst = max(worst, h + i)
        flag = "" if h + i < BUDGET else "  OVER BUDGET"
        print(f"{page.name:40s} {h / 1e3:8.0f} {i / 1e3:10.0f} {(h + i) / 1e3:9.0f} {n:9d}{flag}")
    shared = {p.name: p.stat().st_size for p in (HTML / "_static" / "optimlab").glob("*.js")}
    for name, size in shared.items():
        print(f"shared, loaded only by pages with explorers: {name} {size / 1e6:.2f} MB")
    print(f"heaviest page: {worst / 1e6:.2f} MB (budget {BUDGET / 1e6:.1f} MB): "
          f"{'PASS' if worst < BUDGET else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
