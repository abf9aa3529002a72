"""Misconception codes: the kinds of slip a wrong derivative shows, named once.

Codes come from the *structure* of the chain (which edge, which kind of slip), never
from one question, so that a class's counts mean the same thing on every question
(STACK's answer notes). Each has a teacher-facing description and a learner-facing
``why``: a reason in words that names the kind of slip without the right form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    description: str  # for the teacher: what the learner did
    why: str  # for the learner: "{symbol}" is the factor (∂a/∂z), never the right form


CODES: dict[str, Code] = {c.code: c for c in (
    Code("OP-NOT-DERIVATIVE", "the op itself where its derivative belongs (σ(z) for σ′(z))",
         "this is the function itself, not its derivative"),
    Code("PRIME-AT-OUTPUT", "the op's derivative taken at its output (σ′(a) for σ′(z))",
         "the derivative is taken at the node's output, not at its input"),
    Code("PRIME-WRONG-NODE", "the op's derivative taken at another node (σ′(z⁽ᴸ⁻¹⁾) for σ′(z⁽ᴸ⁾))",
         "the derivative is taken at the wrong node"),
    Code("OTHER-INPUT", "the partial by another input of the same node (w for ∂z/∂w = a)",
         "this is the derivative with respect to another input of the node"),
    Code("DROPPED-CONSTANT", "a constant of the local derivative dropped (the 2 of a square's)",
         "a constant factor was dropped"),
    Code("WRONG-CONSTANT", "a factor right up to a constant other than a dropped one",
         "it is off by a constant factor"),
    Code("SIGN-FLIP", "the sign of a factor, or of the whole answer, flipped",
         "the sign is flipped"),
    Code("MISSING-FACTOR", "a factor of the chain left out", "a factor is missing"),
    Code("EXTRA-FACTOR", "a factor that is not on the chain multiplied in",
         "there is a factor that is not on the chain"),
    Code("SUM-NOT-PRODUCT", "the chain's factors added instead of multiplied",
         "the chain rule multiplies the factors along a path; this adds them"),
    Code("MISSING-PATH", "a path from the variable to the output left out",
         "a path is missing: the derivative sums over every path"),
    Code("MISSING-SUM", "one term of a sum over units (a missing Σⱼ)",
         "the answer does not sum over every unit the variable feeds"),
    Code("WRONG-LAYER", "a name with the wrong layer superscript (a⁽ᴸ⁾ for a⁽ᴸ⁻¹⁾)",
         "a layer superscript is wrong"),
    Code("TRANSPOSED-INDEX", "a weight's two indices swapped (w₁₀ for w₀₁, Wₖⱼ for Wⱼₖ)",
         "a weight's indices are swapped"),
    Code("WRONG-INDEX", "an index over the wrong units or letter",
         "an index is wrong"),
    Code("WRONG-FACTOR", "a factor that differs in another way", "this factor is not right"),
    Code("WRONG-VALUE", "wrong, and no factor or slip explains it",
         "the answer is not right"),
)}

# The factor match's notes (FactorCheck.note), as codes.
NOTE_CODES = {"missing": "MISSING-FACTOR", "extra": "EXTRA-FACTOR", "sign": "SIGN-FLIP",
              "constant": "WRONG-CONSTANT", "layer": "WRONG-LAYER",
              "differs": "WRONG-FACTOR"}

# Codes that say less than another on the same answer: left out when one that says more
# is there (a σ′ of the wrong layer is PRIME-WRONG-NODE, not only WRONG-LAYER).
GENERIC = ("WRONG-VALUE", "WRONG-FACTOR")


def describe(code: str) -> str:
    """The teacher-facing description (a code not in the table says so)."""
    c = CODES.get(code)
    return c.description if c is not None else f"unknown code {code}"


def why(code: str) -> str:
    """The learner-facing reason, without the right form."""
    c = CODES.get(code)
    return c.why if c is not None else "this is not right"


def ordered(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Unique codes, in the table's order; generic ones only when nothing says more."""
    seen = [c for c in CODES if c in set(codes)]
    specific = [c for c in seen if c not in GENERIC]
    return tuple(specific or seen)
