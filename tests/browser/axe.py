"""axe-core, the accessibility checker, for the browser tests: a pinned npm release, fetched once
with npm and checked against its sha256, then injected into pages from disk (no CDN, no network
during the tests)."""
from __future__ import annotations

import hashlib
import subprocess
import tarfile
from pathlib import Path

from conftest import ROOT

VERSION = "4.14.1"
SHA256 = "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745"  # of the npm tarball
CACHE = ROOT / "_build" / ".lite-cache"  # the downloads kept across builds (see tools/lite.py)
SERIOUS = ("serious", "critical")

# Run axe over the whole page; violations as {id, impact, help, targets} (the first few targets).
RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 4).map(n => n.target.join(' ')), count: v.nodes.length}));
}"""


def script() -> str:
    """axe.min.js of the pinned release (downloaded with npm the first time, then from the cache)."""
    tgz = CACHE / f"axe-core-{VERSION}.tgz"
    if not tgz.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", f"axe-core@{VERSION}", "--pack-destination", str(CACHE), "--silent",
                        "--ignore-scripts"], check=True, capture_output=True, text=True)
    digest = hashlib.sha256(tgz.read_bytes()).hexdigest()
    if digest != SHA256:
        raise RuntimeError(f"{tgz}: sha256 {digest}, expected {SHA256}")
    with tarfile.open(tgz) as tar:
        return tar.extractfile("package/axe.min.js").read().decode()


def violations(page, source: str) -> list[dict]:
    """The serious and critical violations axe finds on the page as it is now."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(content=source)
    return [v for v in page.evaluate(RUN) if v["impact"] in SERIOUS]
