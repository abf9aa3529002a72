"""Checking a hand derivation: is the learner's ∂C/∂w right, and if not, which factor?

``check(graph, "dC/dw", "x*sigma'(z)*2*(a - y)")`` decides equivalence the way the
tutoring systems that do not lie do it (WeBWorK, Khan KAS, STACK):

1. The answer is read by the safe parser; its names must be nodes of the graph.
2. Both sides are evaluated in float64 at ~30 random points (several ranges, tenths,
   integers, negatives, per-variable ``limits``), at 8 more of magnitude 10 to 1000
   (as Khan's KAS does), and on both sides of every kink and domain edge of the answer
   and the true derivative (zeros of the arguments of relu, abs, relu′, abs′, max,
   log, √, divisions: solved when the argument is a polynomial in a leaf or a small
   elementary formula, else bisected along a line). A point where either side is
   non-finite only through float overflow or underflow (e²ᶻ at z = 1000) says nothing
   and is left out. Intermediates (z, a) take their forward
   values at each point, which is the same as substituting their definitions, so answers
   in named intermediates, in leaves only, or mixed compare alike; ops use the registry's
   stable numpy kernels. Numbers come from a walk over the SymPy tree with our own
   kernels: nothing is lambdified or exec'd.
3. The sides must be defined (finite) at the same points and agree there (rtol 1e-8;
   atol 1e-12 times the largest true value, since a deep chain's derivative can be tiny
   everywhere). If the true derivative is defined at too few points the answer is
   "undecided" (``correct=None``), never "correct", and the message names the
   variables (in a log, a square root, …) to give ``limits`` for.
4. Exact algebra, as a check on the floats and for the message: the difference, with
   every definition substituted, σ′ written as σ(1 − σ) and each op application taken
   as one opaque symbol, is factored and expanded. An exact zero proves equality and
   overrules a float disagreement (cancellation in the learner's form); this step runs
   under the hard deadline, so a blow-up like (a + … + h)¹⁰⁰ ends "undecided". The
   learner's decimals count as the exact decimals written (0.1 is 1/10). When the
   numbers agree, a difference that is a nonzero constant (``+ 1e-12``) or a constant
   factor (``·(1 + 1e-12)``) beyond float rounding is a near miss: "not equal"; so is a
   difference exact algebra shows is nonzero almost everywhere (x³ + 10⁻⁴x for x³: a
   nonzero rational function of the leaves, or one product of factors nonzero at a
   point). Else a
   soft-timed attempt (ops written in exp and cancelled, then ``simplify``) may still
   prove it; a right answer SymPy cannot prove is accepted on the numbers and says so.
5. On "not equal", the answer is split into multiplicative factors that are matched,
   numerically, against the chain's local partials; the message names the factor that
   differs, a missing or extra factor, a sign or constant error, a wrong layer
   superscript, or a missing path, and gives a counterexample point with both values.

The parent only reads the question and the answer (the safe parser, bounded) and
derives the chain (one ``diff`` per edge). Everything else that touches the graph's or
the learner's formulas (preparing the question, user ops, the numbers, the algebra, the
message and the ``--reveal`` text) runs in one child process per answer
(:mod:`gradgraph.sandbox`), killed at the deadline (default 3 s) and limited in memory
and CPU time, which sends back plain data; a check that runs out of time is
"undecided", and the whole call returns within the deadline and a fork's margin. This
needs the "fork" start method (Linux, macOS).

On a graph with layers, questions and answers are in index notation
(``dC_0/da_k^(L-1)``, ``sum_j W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)``): the answer is
instantiated at the question's index values and judged on the same network with one
node per neuron (:mod:`.layers`).

The modules: :mod:`.question` reads questions and answers (the one reader; lessons use
it too), :mod:`.numbers` draws points and compares values (computed by
:mod:`gradgraph.expr_numbers`, the one evaluator, which diagrams use too),
:mod:`.prepare` builds what a question needs (per answer, in the child), :mod:`.kinks`
the points that straddle kinks, :mod:`.equivalence` is the child's verdict,
:mod:`.feedback` the factor match,
:mod:`.messages` and :mod:`.display` the text, :mod:`.index_text`, :mod:`.index_values`
and :mod:`.layers` indexed answers, :mod:`.constants` near misses, :mod:`.domain` the
variables an "undecided" needs ranges for, :mod:`.checker` the entry points,
:mod:`.result` the verdict's type and its names (``VERDICTS``).
"""


from __future__ import annotations

from .checker import DEFAULT_DEADLINE, DEFAULT_MEMORY_MB, Checker, check
from .codes import CODES, Code
from .display import echo_unicode
from .guidance import guidance_text, guided
from .index_text import IndexedQuestion
from .numbers import compare, evaluate, sample_points
from .prepare import canonical
from .question import MAX_ANSWER, MAX_QUESTION, parse_question, resolve_name
from .result import VERDICTS, CheckResult, FactorCheck, Fix, invalid_dict, named_sums_note

__all__ = ["CODES", "DEFAULT_DEADLINE", "DEFAULT_MEMORY_MB", "MAX_ANSWER", "MAX_QUESTION",
           "VERDICTS", "CheckResult", "Checker", "Code", "FactorCheck", "Fix",
           "IndexedQuestion", "canonical", "check", "compare", "echo_unicode", "evaluate",
           "guidance_text", "guided", "invalid_dict", "named_sums_note", "parse_question",
           "resolve_name", "sample_points"]
