"""MathML tokens and names: the leaves every printed formula is made of.

``<mi>``, ``<mn>``, ``<mo>`` with every text node escaped; a gradgraph name (a⁽ᴸ⁻¹⁾,
w_jk⁽ᴸ⁾) as structure (``<msup>``, ``<msubsup>``); ∂C/∂w as an ``<mfrac>``; Σⱼ; and the
complete ``<math>`` element. Nothing here parses user text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from ..notation import GREEK, _index_like, split_name

NS = "http://www.w3.org/1998/Math/MathML"
MINUS = "−"
APPLY = "\u2061"  # invisible function application: σ⁡(z)
TIMES = "\u2062"  # invisible times: 2⁢(a − y)



# --- tokens ----------------------------------------------------------------------------


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def mi(text: str, normal: bool = False) -> str:
    attr = ' mathvariant="normal"' if normal else ""
    return f"<mi{attr}>{escape(text)}</mi>"


def mn(text: str) -> str:
    return f"<mn>{escape(text)}</mn>"


def mo(text: str) -> str:
    return f"<mo>{escape(text)}</mo>"


def fence(text: str) -> str:
    """A bracket at the text's size, as on the slides (a stretchy one would grow to
    wrap every super- and subscript of its content, symmetrically, and dwarf it)."""
    return f'<mo stretchy="false">{escape(text)}</mo>'


def mrow(parts: Sequence[str]) -> str:
    """One element: a single part as is, several in an ``<mrow>``."""
    return parts[0] if len(parts) == 1 else f"<mrow>{''.join(parts)}</mrow>"


def math(inner: str, display: bool = False, text: str | None = None,
         namespace: bool = True) -> str:
    """A complete ``<math>`` element; ``text`` (the Unicode) rides along as an annotation.

    ``namespace=False`` leaves out ``xmlns``, which HTML does not need (its parser puts
    ``<math>`` in the MathML namespace itself); XML and XHTML need it.
    """
    mode = "block" if display else "inline"
    if text is not None:
        inner = (f"<semantics>{_wrap_row(inner)}"
                 f'<annotation encoding="text/plain">{escape(text)}</annotation></semantics>')
    xmlns = f' xmlns="{NS}"' if namespace else ""
    return f'<math{xmlns} display="{mode}">{inner}</math>'


def _wrap_row(inner: str) -> str:
    # <semantics> takes exactly one presentation child.
    return f"<mrow>{inner}</mrow>"


# --- names -----------------------------------------------------------------------------

_TOKEN = re.compile(r"\d+|[A-Za-z]|.", re.DOTALL)


def index_tokens(text: str) -> list[str]:
    """``L-1`` -> <mi>L</mi><mo>−</mo><mn>1</mn>: digits as numbers, letters one a token."""
    out = []
    for t in _TOKEN.findall(text):
        if t.isdigit():
            out.append(mn(t))
        elif t.isalpha():
            out.append(mi(GREEK.get(t, t)))
        else:
            out.append(mo(MINUS if t == "-" else t))
    return out


def name_mathml(name: str) -> str:
    """``a^(L-1)`` -> ``<msup><mi>a</mi><mrow><mo>(</mo>…<mo>)</mo></mrow></msup>``."""
    base, sub, tag = split_name(name)
    if base == name and not sub and not tag and not name.isalpha():
        return mi(name, normal=len(name) > 1)  # not a name split_name understands
    text = GREEK.get(base, base)
    if sub and not _index_like(base, sub):
        # dropout_rate is a word that happens to contain "_": one upright identifier.
        core = mi(f"{text}_{sub}", normal=True)
        sub = ""
    else:
        core = mi(text, normal=len(text) > 1)
    lower = mrow(index_tokens(sub)) if sub else ""
    upper = mrow([mo("("), *index_tokens(tag), mo(")")]) if tag else ""
    if lower and upper:
        return f"<msubsup>{core}{lower}{upper}</msubsup>"
    if lower:
        return f"<msub>{core}{lower}</msub>"
    if upper:
        return f"<msup>{core}{upper}</msup>"
    return core


def partial_mathml(of: str, wrt: str) -> str:
    """∂C/∂w as a fraction of two ``∂``-rows."""
    return (f"<mfrac><mrow>{mo('∂')}{name_mathml(of)}</mrow>"
            f"<mrow>{mo('∂')}{name_mathml(wrt)}</mrow></mfrac>")


def sum_over(letter: str) -> str:
    """Σ with its index under it: ``<munder><mo>∑</mo><mi>j</mi></munder>``."""
    return f"<munder>{mo('∑')}{mrow(index_tokens(letter))}</munder>"
