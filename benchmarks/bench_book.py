"""The book's build times and page weights.

    python benchmarks/bench_book.py            # page weights of the built book
    python benchmarks/bench_book.py --build    # build times (REBUILDS _build/ from scratch), then weights
    python benchmarks/bench_book.py --build --serial   # also a cold build executing one chapter at a time

``--build`` measures, with ``make book`` as a reader runs it (virtual environment present, the lite
site's downloads cached in ``_build/.lite-cache``, everything else in ``_build/`` deleted first):

- **cold**: no execution cache, no Sphinx environment, no lite site — every chapter executed
  (``tools/execute.py``, one kernel per core, beside the lite site's build), every page written;
- **per chapter**: each chapter's execution time in that cold build (wall, and the CPU time of its
  kernel, which does not depend on what else runs on the machine);
- **cached**: ``make book`` again, nothing changed;
- **one-chapter edit**: the longest chapter's cache entry removed and its file touched, as an edit
  of its code does: that chapter executed, the lite site rebuilt, that page read again.

Targets on a quiet 2-core machine: cold ≤ 120 s, one-chapter edit ≤ 30 s.  The machine's load
average is printed with each figure: other processes slow every build.

A page's own weight is its HTML plus the images it references from ``_images/``; the scripts under
``_static/`` (theme, MathJax, the explorers' scripts) are shared by all pages and cached by the
browser, so they are listed once, separately.  Budget: 1.5 MB per page.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = Path(os.environ.get("BOOK_HTML", BUILD / "html"))
TIMES = BUILD / ".execution-times.json"
KEEP = {".lite-cache"}          # downloads: a reader's second build has them
BUDGET = 1.5e6
COLD_TARGET, EDIT_TARGET = 120, 30


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (1 min) {five:.1f} (5 min) on {os.cpu_count()} cores"


def make_book(*extra: str) -> tuple[float, str]:
    """Run ``make book``; its wall time and output."""
    t0 = time.perf_counter()
    proc = subprocess.run(["make", "book", *extra], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"make book failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout + proc.stderr


def executed_by_sphinx(output: str) -> int:
    """Chapters the build executed itself (a pre-executed chapter it failed to find in the cache)."""
    return output.count("Executing notebook using")


def clean() -> None:
    for entry in BUILD.iterdir() if BUILD.exists() else ():
        if entry.name not in KEEP:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def cold(label: str, *extra: str) -> float:
    clean()
    print(f"{label}: ({load()}) ...", flush=True)
    seconds, output = make_book(*extra)
    missed = executed_by_sphinx(output)
    verdict = "PASS" if seconds <= COLD_TARGET else "MISS"
    print(f"{label}: {seconds:.1f} s (target ≤ {COLD_TARGET} s: {verdict}; {load()})"
          + (f"; {missed} chapter(s) executed by Sphinx itself" if missed else ""), flush=True)
    return seconds


def per_chapter() -> str:
    """The chapters' execution times from the last cold build (longest first)."""
    times = json.loads(TIMES.read_text())
    rows = sorted(times.items(), key=lambda kv: -kv[1]["seconds"])
    lines = [f"  {'chapter':32s} {'wall s':>7s} {'kernel CPU s':>13s}"]
    lines += [f"  {name:32s} {t['seconds']:7.1f} {t['cpu']:13.1f}" for name, t in rows]
    lines.append(f"  {'sum':32s} {sum(t['seconds'] for _, t in rows):7.1f} {sum(t['cpu'] for _, t in rows):13.1f}")
    return "\n".join(lines)


def one_chapter_edit() -> tuple[str, float]:
    """Rebuild after the longest chapter 'changed': its cache entry removed, its file touched."""
    sys.path.insert(0, str(ROOT / "tools"))
    import execute
    from jupyter_cache import get_cache

    times = json.loads(TIMES.read_text())
    name = max(times, key=lambda k: times[k]["seconds"])
    path = ROOT / name
    cache = get_cache(str(execute.CACHE))
    cache.remove_cache(cache.match_cache_notebook(execute.read(path)).pk)
    os.utime(path)
    print(f"one-chapter edit ({name}): ({load()}) ...", flush=True)
    seconds, output = make_book()
    verdict = "PASS" if seconds <= EDIT_TARGET else "MISS"
    print(f"one-chapter edit ({name}): {seconds:.1f} s (target ≤ {EDIT_TARGET} s: {verdict}; {load()})", flush=True)
    return name, seconds


def build_times(serial: bool) -> None:
    print("Rebuilding _build/ from scratch (the lite site's downloads are kept).", flush=True)
    if serial:
        cold("cold make book, one chapter at a time (JOBS=1)", "JOBS=1")
        print(per_chapter(), flush=True)
    cold("cold make book")
    print(per_chapter(), flush=True)
    seconds, output = make_book()
    print(f"cached make book (nothing changed): {seconds:.1f} s ({load()})", flush=True)
    one_chapter_edit()


def page_weight(page: Path) -> tuple[int, int, int]:
    """(html bytes, image bytes, number of explorers) of one built page."""
    text = page.read_text(encoding="utf-8")
    images = set(re.findall(r'src="([^"]*_images/[^"]+)"', text))
    image_bytes = sum((page.parent / src).resolve().stat().st_size for src in images)
    return len(text.encode()), image_bytes, text.count('class="optimlab-explorer"')


def weights() -> int:
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


def main() -> int:
    if "--build" in sys.argv:
        build_times(serial="--serial" in sys.argv)
    return weights()


if __name__ == "__main__":
    sys.exit(main())
