"""Names as a teacher writes them: the Greek, superscript and subscript tables, and
one name printed in Unicode or LaTeX (``a^(L-1)`` -> a⁽ᴸ⁻¹⁾, ``w_jk^(L)`` -> w_{jk}^{(L)}).

The floor of the text language: plain Python, no SymPy. The lexer reads names with
these tables; :mod:`gradgraph.notation` prints whole expressions with them.
"""

from __future__ import annotations

import re

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
GREEK_TO_ASCII = {v: k for k, v in GREEK.items()}

SUPERSCRIPT = str.maketrans("0123456789+-()Lljkni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᴸˡʲᵏⁿⁱ")
SUBSCRIPT = dict(zip("0123456789aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
FROM_SUPERSCRIPT = {
    v: k for k, v in zip("0123456789+-()LljkniI", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᴸˡʲᵏⁿⁱᴵ", strict=True)
}
FROM_SUBSCRIPT = {v: k for k, v in SUBSCRIPT.items()}
_SUPERSCRIPTABLE = set("0123456789+-Lljkni")

_NAME = re.compile(r"^(?P<base>[A-Za-z]+)(?P<digits>\d*)(?:_(?P<sub>[A-Za-z0-9]+))?"
                   r"(?:\^\((?P<tag>[^)]*)\))?$")


def split_name(name: str) -> tuple[str, str, str]:
    """``w_jk^(L)`` -> (``w``, ``jk``, ``L``); trailing digits count as a subscript."""
    m = _NAME.match(name)
    if not m:
        return name, "", ""
    sub = (m["digits"] or "") + (m["sub"] or "")
    return m["base"], sub, m["tag"] or ""


_INDEX_CHARS = set("ijklmnt0123456789")


def _index_like(base: str, sub: str) -> bool:
    # w_jk and mask_i are indexed; dropout_rate is a word that happens to contain "_".
    if len(sub) > 3:
        return False
    return len(base) <= 2 or base in GREEK or all(c in _INDEX_CHARS for c in sub)


def unicode_name(name: str) -> str:
    """``a^(L-1)`` -> ``a⁽ᴸ⁻¹⁾``; ``C_0`` -> ``C₀``; ``lambda`` -> ``λ``."""
    base, sub, tag = split_name(name)
    text = GREEK.get(base, base)
    if sub:
        if _index_like(base, sub) and all(c in SUBSCRIPT for c in sub):
            text += "".join(SUBSCRIPT[c] for c in sub)
        else:
            text += "_" + sub
    if tag:
        can = all(c in _SUPERSCRIPTABLE for c in tag)
        text += f"({tag})".translate(SUPERSCRIPT) if can else f"^({tag})"
    return text


def latex_name(name: str) -> str:
    """``w_jk^(L)`` -> ``w_{jk}^{(L)}``; ``lambda`` -> ``\\lambda``."""
    base, sub, tag = split_name(name)
    text = f"\\{base}" if base in GREEK else (base if len(base) == 1 else rf"\mathrm{{{base}}}")
    if sub and not _index_like(base, sub):
        return rf"\mathrm{{{base}\_{sub}}}" + (f"^{{({tag})}}" if tag else "")
    if sub:
        text += f"_{{{sub}}}"
    if tag:
        text += f"^{{({tag})}}"
    return text


def partial_unicode(of: str, wrt: str) -> str:
    """∂C/∂w with display names."""
    return f"∂{unicode_name(of)}/∂{unicode_name(wrt)}"


def partial_latex(of: str, wrt: str) -> str:
    return rf"\frac{{\partial {latex_name(of)}}}{{\partial {latex_name(wrt)}}}"


def from_superscript(text: str) -> str:
    """``⁽ᴸ⁻¹⁾`` -> ``(L-1)``."""
    return "".join(FROM_SUPERSCRIPT.get(c, c) for c in text)
