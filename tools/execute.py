"""Execute the book's chapters in parallel, into the cache Jupyter Book reads (`make book`, `make test`).

Jupyter Book (myst-nb, ``execute_notebooks: cache``) executes a chapter only when its cache,
``_build/.jupyter_cache``, holds no executed notebook with the same code, and it executes them one
at a time.  This script fills that cache first, one kernel per core, doing exactly what myst-nb
would do for each chapter: the same reader (``myst_nb_md``), the notebook's own kernel, the
chapter's folder as working directory, ``_config.yml``'s ``timeout`` and ``allow_errors``
(notebook metadata may override them, as in myst-nb), the same jupyter-cache call
(``single_nb_execution``) and the same cache record.  The build then finds every chapter cached.

A chapter that fails here is not cached: the build runs it again and reports the error itself,
as it always did (a warning; an error under ``-W``).  Whatever a chapter prints to stderr (a Python
warning) is in its cached outputs, and the build turns it into a warning on every read of the page.

jupyter-cache keys a chapter on its code cells only.  What else the execution depends on —
``optimlab``, ``book/_ext``, ``requirements.txt``, ``pyproject.toml``, the ``execute`` settings,
``OPTIMLAB_BOOK``, this file — is hashed into ``_build/.jupyter_cache/inputs.sha256``.  When that
hash changes, the cache and Sphinx's saved environment (``_build/.doctrees``) are deleted: every
chapter runs again and every page is read again.

    python tools/execute.py [--jobs N]      # N defaults to the number of usable cores

Timings (seconds per chapter, wall and kernel CPU) go to ``_build/.execution-times.json``, which
also orders the next run, longest chapter first.
"""
from __future__ import annotations

import argparse
import concurrent.futures as futures
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"          # Jupyter Book's default `execute: cache:` path
DOCTREES = BUILD / ".doctrees"            # Sphinx's saved environment (jupyter-book build)
STAMP = CACHE / "inputs.sha256"
TIMES = BUILD / ".execution-times.json"
#: What the chapters' execution depends on besides their own text (files, or folders searched).
INPUTS = ("optimlab", "book/_ext", "requirements.txt", "pyproject.toml", "tools/execute.py")
#: Environment variables the chapters read.
ENVIRONMENT = ("OPTIMLAB_BOOK",)


def settings(config: Path = ROOT / "_config.yml") -> dict:
    """The ``execute:`` section of _config.yml, as Jupyter Book reads it (cache mode required)."""
    execute = (yaml.safe_load(config.read_text()) or {}).get("execute") or {}
    if execute.get("execute_notebooks") != "cache":
        raise SystemExit("tools/execute.py fills the execution cache: _config.yml must say "
                         "`execute_notebooks: cache`")
    if execute.get("cache") or execute.get("run_in_temp") or execute.get("exclude_patterns"):
        raise SystemExit("tools/execute.py supports the default cache path, the chapter's folder as "
                         "working directory and no exclude_patterns")
    return execute


def chapters(toc: Path = ROOT / "_toc.yml") -> list[Path]:
    """Every page of _toc.yml that is a notebook (MyST Markdown with a jupytext/kernel header)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    data = yaml.safe_load(toc.read_text())
    files = [data["root"]] + [entry["file"] for part in data.get("parts", [data])
                              for entry in part.get("chapters", [])]
    pages = [ROOT / (f + ".md") for f in files]
    return [p for p in pages if p.exists() and is_myst_markdown_notebook(p.read_text(encoding="utf8"))]


def _files(entry: str) -> list[Path]:
    path = ROOT / entry
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [path] if path.exists() else []


def inputs_hash(execute: dict, environ=os.environ) -> str:
    """sha256 of everything the execution depends on besides the chapters' code (see INPUTS)."""
    h = hashlib.sha256()
    for entry in INPUTS:
        for path in _files(entry):
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(json.dumps(execute, sort_keys=True).encode())
    h.update(json.dumps({k: environ.get(k) for k in ENVIRONMENT}, sort_keys=True).encode())
    h.update(sys.version.encode())
    return h.hexdigest()


def invalidate_if_stale(digest: str) -> bool:
    """Delete the cache and Sphinx's environment when the inputs changed; True if deleted."""
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return False
    shutil.rmtree(CACHE, ignore_errors=True)
    shutil.rmtree(DOCTREES, ignore_errors=True)   # every page is read again (as `--all` would)
    CACHE.mkdir(parents=True)
    STAMP.write_text(digest + "\n")
    return True


def read(path: Path):
    """The chapter as myst-nb reads it for jupyter-cache (the ``myst_nb_md`` reader plugin)."""
    from myst_nb.core.read import myst_nb_reader_plugin

    return myst_nb_reader_plugin(str(path))


def _execute(path: str, timeout, allow_errors: bool) -> dict:
    """Worker: execute one chapter the way myst-nb's cache client does (in a fresh process)."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = read(Path(path))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=allow_errors, meta_override=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)   # the kernel, reaped at its shutdown
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"nb": result.nb, "seconds": result.time, "cpu": cpu,
            "error": None if result.err is None else f"{type(result.err).__name__}: {result.err}"[:2000]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="chapters executed at once (default: the usable cores)")
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    execute = settings()
    if invalidate_if_stale(inputs_hash(execute)):
        print("execute: optimlab, the book's extensions, the requirements or the execute settings "
              "changed (or no cache yet): every chapter runs", flush=True)
    cache = get_cache(str(CACHE))
    todo = []
    for path in chapters():
        try:
            cache.match_cache_notebook(read(path))
        except KeyError:
            todo.append(path)
    if not todo:
        print("execute: every chapter is cached", flush=True)
        return 0
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    rel = {p: p.relative_to(ROOT).as_posix() for p in todo}
    # Longest first (last run's time, else the file's size), so no core idles at the end.
    todo.sort(key=lambda p: (times.get(rel[p], {}).get("seconds", 0), p.stat().st_size), reverse=True)
    jobs = max(1, min(args.jobs, len(todo)))
    print(f"execute: {len(todo)} chapter(s), {jobs} at a time", flush=True)
    t0, failed = time.perf_counter(), []
    import jupyter_cache.executors.utils  # noqa: F401  (imported once, inherited by the workers)

    # fork: the workers start with the modules above already imported (nbformat alone takes ~1 s);
    # they open no database and inherit no kernel (kernels start inside the workers).
    with futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        running = {pool.submit(_execute, str(p), execute.get("timeout", 30),
                               bool(execute.get("allow_errors", False))): p for p in todo}
        for done in futures.as_completed(running):
            path = running[done]
            try:
                out = done.result()
            except Exception as exc:  # e.g. a dead kernel: the build meets it again and stops there
                out = {"error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}
            if out["error"]:
                failed.append(rel[path])
                print(f"execute: {rel[path]} FAILED after {out['seconds']:.1f} s ({out['error'].splitlines()[0]}); "
                      "not cached: the build runs it again and reports the error", flush=True)
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(out["nb"], str(path), data={"execution_seconds": out["seconds"]}),
                check_validity=False, overwrite=True)
            times[rel[path]] = {"seconds": round(out["seconds"], 2), "cpu": round(out["cpu"], 2)}
            print(f"execute: {rel[path]} in {out['seconds']:.1f} s (kernel CPU {out['cpu']:.1f} s)", flush=True)
    TIMES.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
    print(f"execute: {len(todo) - len(failed)} chapter(s) cached in {time.perf_counter() - t0:.1f} s", flush=True)
    # The build must find what was cached here; a miss would only cost time, but say so.
    for path in todo:
        if rel[path] not in failed:
            try:
                cache.match_cache_notebook(read(path))
            except KeyError:
                print(f"execute: warning: {rel[path]} is cached but does not match its source "
                      "(the build will execute it again)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
