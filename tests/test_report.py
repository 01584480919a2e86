"""Reports: self-contained HTML with every user string escaped, rendered by a real
browser (headless Chromium; skipped when no Chromium binary is installed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from pmcore.demo import write_demo_inputs
from pmcore.pipeline import run_pipeline

try:
    import pmcore.aso  # noqa: F401
    HAVE_ASO_SEARCH = True
except ImportError:  # pragma: no cover - the ASO engine ships with pmcore
    HAVE_ASO_SEARCH = False

EVIL = '<script>alert("pwn")</script> & <b>Co</b>'
EVIL_NOTE = '<img src=x onerror="alert(1)"> "quoted" & more'


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    manifest = write_demo_inputs(tmp_path_factory.mktemp("inputs"))
    text = manifest.read_text()
    text = text.replace('name = "ABE-PLAT demo"', f"name = '{EVIL}'")
    text = text.replace('patient = "Patient 1"',
                        f"patient = '{EVIL_NOTE}'\nnotes = '{EVIL_NOTE}'")
    manifest.write_text(text)
    out = tmp_path_factory.mktemp("results") / "out"
    run_pipeline(manifest, out, threads=2)
    return out


def test_user_text_is_escaped(report_run):
    html = (report_run / "report.html").read_text()
    assert "<script" not in html.lower()
    assert '<img src=x' not in html and 'onerror="' not in html  # text only, never a tag
    assert "&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_html_is_self_contained(report_run):
    html = (report_run / "report.html").read_text()
    # no external resource: every src is inline data, no stylesheet/script links
    srcs = re.findall(r'\ssrc="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    # safety figures (overview + one per gRNA) and every CMC figure are embedded
    import polars as pl

    n_cmc = pl.read_parquet(report_run / "figures.parquet").height
    assert n_cmc >= 12
    assert len(srcs) == 1 + 2 + (1 if HAVE_ASO_SEARCH else 0) + n_cmc
    for vid in ("VAR-A", "VAR-B", "VAR-C"):
        assert f'id="v-{vid}"' in html


def test_markdown_and_json(report_run):
    md = (report_run / "report.md").read_text()
    assert md.startswith("# &lt;script&gt;")
    assert "<script" not in md and "<img" not in md
    for vid in ("VAR-A", "VAR-B", "VAR-C"):
        assert f"## {vid} (" in md
    assert "| lot | RP (95% CI) |" in md
    import json

    doc = json.loads((report_run / "summary.json").read_text())
    assert doc["platform"]["name"] == EVIL  # JSON keeps the text as given


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chromium() is None, reason="no Chromium binary (apt-get install chromium)")
def test_renders_in_headless_chromium(report_run, tmp_path):
    from PIL import Image

    browser = _chromium()
    url = (report_run / "report.html").absolute().as_uri()
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars"]
    env = dict(os.environ, HOME=str(tmp_path))
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120, env=env, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the browser parsed the page into the expected structure, with the text escaped
    assert 'id="overview"' in dom.stdout
    for vid in ("VAR-A", "VAR-B", "VAR-C"):
        assert f'id="v-{vid}"' in dom.stdout
    assert "<script" not in dom.stdout.lower()
    shot = tmp_path / "report.png"
    res = subprocess.run([*common, "--window-size=1280,2000", f"--screenshot={shot}", url],
                         capture_output=True, text=True, timeout=120, env=env, check=False)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 2000)
    # not a blank page: the header band, cards and figures give many colours
    colours = img.resize((320, 500)).getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 200
    # the header band is drawn in the report's dark blue
    r, _, b = img.getpixel((20, 20))
    assert b > r and b > 60 and r < 80
