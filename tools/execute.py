"""Execute the book's chapters in parallel, into the cache Jupyter Book reads (`make book`, `make test`).

Jupyter Book (myst-nb, ``execute_notebooks: cache``) executes a chapter only when its cache,
``_build/.jupyter_cache``, holds no executed notebook with the same code, and it executes them one
at a time.  This script fills that cache first, one kernel per core, doing for each chapter what
myst-nb's cache client does: the same reader (``myst_nb_md``), the notebook's own kernel, the
chapter's folder as working directory, ``_config.yml``'s ``timeout`` and ``allow_errors`` (notebook
metadata may override them, as in myst-nb), the same jupyter-cache call (``single_nb_execution``)
and the same cache record.  The build then finds every chapter cached.

A chapter that fails here is not cached: the build runs it again and reports the error itself,
as it always did (a warning; an error under ``-W``).  Whatever a chapter prints to stderr (a Python
warning) is in its cached outputs, and the build turns it into a warning on every read of the page.

jupyter-cache keys a chapter on its code cells only.  What else the execution depends on
(:data:`INPUTS`: ``optimlab``, ``book/_ext``, ``requirements.txt``, ``pyproject.toml``, this file;
the ``execute`` settings; ``OPTIMLAB_BOOK``; the Python version) is hashed into
``_build/.jupyter_cache/inputs.sha256``.  When that hash changes, the cache and Sphinx's saved
environment (``_build/.doctrees``) are deleted: every chapter runs again and every page is read
again.

    python tools/execute.py [--jobs N]      # N defaults to the number of usable cores

Timings (per chapter: wall seconds, and the CPU seconds of its kernel) go to
``_build/.execution-times.json``; the next run starts with the longest chapter.
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
TIMES = BUILD / ".execution-times.json"
STAMP_NAME = "inputs.sha256"
#: What the chapters' execution depends on besides their own code (files, or folders read whole).
INPUTS = ("optimlab", "book/_ext", "requirements.txt", "pyproject.toml", "tools/execute.py")
#: Environment variables the chapters read.
ENVIRONMENT = ("OPTIMLAB_BOOK",)
#: Set for the kernels (unless already set): one kernel per core, so a BLAS library that starts a
#: thread per core in every kernel only oversubscribes the machine.  On 2 busy cores the network
#: chapter's batched matrix products took twice the CPU time and up to 3x the wall time with
#: OpenBLAS's default threads.
KERNEL_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def settings(root: Path | None = None) -> dict:
    """The ``execute:`` section of _config.yml; refuses what this script does not reproduce."""
    config = yaml.safe_load(((root or ROOT) / "_config.yml").read_text()) or {}
    execute = config.get("execute") or {}
    if execute.get("execute_notebooks") != "cache":
        raise SystemExit("tools/execute.py fills the execution cache: _config.yml must say "
                         "`execute_notebooks: cache`")
    if execute.get("cache") or execute.get("run_in_temp") or execute.get("exclude_patterns"):
        raise SystemExit("tools/execute.py supports the default cache path, the chapter's folder as "
                         "working directory and no exclude_patterns")
    return execute


def chapters(root: Path | None = None) -> list[Path]:
    """Every page of _toc.yml that is a notebook (MyST Markdown with a jupytext/kernel header)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    root = root or ROOT
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [entry["file"] for part in toc.get("parts", [toc])
                             for entry in part.get("chapters", [])]
    pages = [root / (f + ".md") for f in files]
    return [p for p in pages if p.exists() and is_myst_markdown_notebook(p.read_text(encoding="utf8"))]


def _files(root: Path, entry: str) -> list[Path]:
    path = root / entry
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [path] if path.is_file() else []


def inputs_hash(execute: dict, root: Path | None = None, environ=None) -> str:
    """sha256 of what the execution depends on besides the chapters' code (see the module doc)."""
    root, environ = root or ROOT, os.environ if environ is None else environ
    h = hashlib.sha256()
    for entry in INPUTS:
        for path in _files(root, entry):
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(json.dumps(execute, sort_keys=True).encode())
    h.update(json.dumps({k: environ.get(k) for k in ENVIRONMENT}, sort_keys=True).encode())
    h.update(sys.version.encode())
    return h.hexdigest()


def invalidate_if_stale(digest: str, cache: Path | None = None, doctrees: Path | None = None) -> bool:
    """Delete the cache and Sphinx's environment unless they were made for ``digest``.

    Returns True if they were deleted (or there was no cache); the new cache records ``digest``.
    """
    cache, doctrees = cache or CACHE, doctrees or DOCTREES
    stamp = cache / STAMP_NAME
    if stamp.exists() and stamp.read_text().strip() == digest:
        return False
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(doctrees, ignore_errors=True)   # every page is read again (as `--all` would)
    cache.mkdir(parents=True)
    stamp.write_text(digest + "\n")
    return True


def read(path: Path):
    """The chapter as myst-nb reads it for jupyter-cache (the ``myst_nb_md`` reader plugin)."""
    from myst_nb.core.read import myst_nb_reader_plugin

    return myst_nb_reader_plugin(str(path))


def execute_one(path: str, timeout, allow_errors: bool) -> dict:
    """Execute one chapter as myst-nb's cache client does; run in a worker process.

    Returns the executed notebook, its wall time, the CPU time of its kernel and the error
    (None, or the exception's first line).
    """
    from jupyter_cache.executors.utils import single_nb_execution

    nb = read(Path(path))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=allow_errors, meta_override=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)   # the kernel, reaped at its shutdown
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    error = None if result.err is None else f"{type(result.err).__name__}: {result.err}".splitlines()[0]
    return {"nb": result.nb, "seconds": result.time, "cpu": cpu, "error": error}


def uncached(cache, paths: list[Path]) -> list[Path]:
    """The chapters whose code has no executed notebook in ``cache``."""
    missing = []
    for path in paths:
        try:
            cache.match_cache_notebook(read(path))
        except KeyError:
            missing.append(path)
    return missing


def store(cache, path: Path, out: dict) -> None:
    """Cache an executed chapter exactly as myst-nb's cache client does after executing it."""
    from jupyter_cache.base import CacheBundleIn

    cache.cache_notebook_bundle(CacheBundleIn(out["nb"], str(path), data={"execution_seconds": out["seconds"]}),
                                check_validity=False, overwrite=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="chapters executed at once (default: the usable cores)")
    args = parser.parse_args(argv)

    # jsonschema (under nbformat) imports rfc3987_syntax when present, which compiles 38 grammars
    # for IRI formats the notebook schema never uses: ~1 s of every run and of every rebuild.
    sys.modules.setdefault("rfc3987_syntax", None)
    from jupyter_cache import get_cache
    import jupyter_cache.executors.utils  # noqa: F401  (imported once here, inherited by the workers)

    for name, value in KERNEL_ENVIRONMENT.items():  # inherited by the workers and their kernels
        os.environ.setdefault(name, value)
    execute = settings()
    if invalidate_if_stale(inputs_hash(execute)):
        print("execute: no cache for this optimlab, book/_ext, requirements and execute settings: "
              "every chapter runs", flush=True)
    cache = get_cache(str(CACHE))
    todo = uncached(cache, chapters())
    if not todo:
        print("execute: every chapter is cached", flush=True)
        return 0
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    name = {p: p.relative_to(ROOT).as_posix() for p in todo}
    # Longest first (last run's time, else the file's size), so no core idles at the end.
    todo.sort(key=lambda p: (times.get(name[p], {}).get("seconds", 0), p.stat().st_size), reverse=True)
    jobs = max(1, min(args.jobs, len(todo)))
    print(f"execute: {len(todo)} chapter(s), {jobs} at a time", flush=True)
    t0, failed = time.perf_counter(), []
    # fork: the workers start with nbformat, nbclient and jupyter-cache imported (~1-2 s each
    # otherwise); they open no database (results are cached here) and start their own kernels.
    with futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        running = {pool.submit(execute_one, str(p), execute.get("timeout", 30),
                               bool(execute.get("allow_errors", False))): p for p in todo}
        for done in futures.as_completed(running):
            path = running[done]
            try:
                out = done.result()
            except Exception as exc:  # e.g. a dead kernel: the build meets it again and says so
                out = {"error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}
            if out["error"]:
                failed.append(path)
                print(f"execute: {name[path]} FAILED after {out['seconds']:.1f} s ({out['error']}); "
                      "not cached: the build runs it again and reports the error", flush=True)
                continue
            store(cache, path, out)
            times[name[path]] = {"seconds": round(out["seconds"], 2), "cpu": round(out["cpu"], 2)}
            print(f"execute: {name[path]} in {out['seconds']:.1f} s (kernel CPU {out['cpu']:.1f} s)", flush=True)
    TIMES.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
    print(f"execute: {len(todo) - len(failed)} chapter(s) cached in {time.perf_counter() - t0:.1f} s", flush=True)
    # The build must find what was cached here; a miss would only cost time, but say so.
    for path in uncached(cache, [p for p in todo if p not in failed]):
        print(f"execute: warning: {name[path]} was cached but its source no longer matches "
              "(the build will execute it)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
