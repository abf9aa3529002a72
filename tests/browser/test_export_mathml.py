"""The exported chain-rule lesson in real Chromium: its MathML renders, nothing errors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from gradgraph.lesson.html_export import export_html
from gradgraph.lesson.loader import load_lesson

pytestmark = pytest.mark.browser

LESSON = Path(__file__).resolve().parents[2] / "lessons" / "01-chain-rule.toml"
SHOTS = Path("/tmp/gradgraph-shots")

# Boxes of every <math> a reader sees without opening a <details>.
VISIBLE_MATH_BOXES = """() => Array.from(document.querySelectorAll('math'))
  .filter(m => !m.closest('details'))
  .map(m => { const r = m.getBoundingClientRect(); return [r.width, r.height]; })"""

# Is the first fraction laid out as a fraction (numerator above denominator)?
FRACTION_STACKED = """() => {
  const f = document.querySelector('mfrac');
  const [top, bottom] = Array.from(f.children).map(c => c.getBoundingClientRect());
  return f instanceof MathMLElement && top.bottom <= bottom.top + 1;
}"""


@pytest.fixture
def lesson_page(page: Any, tmp_path: Path) -> Any:
    path = export_html(load_lesson(LESSON), tmp_path)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def test_exported_lesson_renders_its_mathml(lesson_page: Any, tmp_path: Path) -> None:
    page = lesson_page
    boxes = page.evaluate(VISIBLE_MATH_BOXES)
    assert len(boxes) >= 10, boxes  # definitions and derivations, cell by cell
    assert all(w > 0 and h > 0 for w, h in boxes), boxes
    assert page.evaluate(FRACTION_STACKED), "∂C/∂w is not drawn as a fraction"
    # The Unicode stays one click away for copying.
    copies = page.locator("details.latex pre").all_text_contents()
    assert any("∂C₀/∂w⁽ᴸ⁾ = ∂z⁽ᴸ⁾/∂w⁽ᴸ⁾" in t for t in copies), copies
    shot = tmp_path / "export-chain-rule.png"
    page.screenshot(path=str(shot), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / shot.name)
    assert page.console_errors == []


def test_a_derivation_up_close(lesson_page: Any, tmp_path: Path) -> None:
    """A screenshot of the first derivation alone, at a size a student reads it."""
    page = lesson_page
    block = page.locator("li.step.kind-derive div.math").first
    block.scroll_into_view_if_needed()
    box = block.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 20
    shot = tmp_path / "export-derivation.png"
    block.screenshot(path=str(shot))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / shot.name)
    assert page.console_errors == []
