"""Training on the graph: shuffled minibatches, History, callbacks, a stop on non-finite.

:func:`fit` runs the compiled graph's training step (:meth:`CompiledGraph.step`) and the
optimizer's compiled update rule over minibatches drawn without replacement, freshly
shuffled every epoch: epoch ``e``'s order is the ``e``-th ``permutation(n)`` of
``numpy.random.default_rng(seed)``, so a hand-written reference can replay it.
:func:`evaluate` gives the mean loss and metrics over a data set.

What fit guarantees:

- ``params`` (name -> float array) is updated in place: the arrays you pass hold the
  trained values when fit returns (and after every epoch). During an epoch the loop
  works on fresh arrays, which :attr:`Trainer.params` shows to callbacks.
- Every step's loss is checked, and every update through the next step's loss and an
  exact check after each epoch: the first loss, gradient or update that is not finite
  stops training with a :class:`NonFiniteError` (epoch, step, parameter, learning rate)
  in ``history.stopped``, and the parameters (and optimizer state) are left at the
  values the failing step started from — the last ones whose loss, gradients and
  update were all finite. ``on_nonfinite="raise"`` raises it instead.
- Callbacks are any objects with some of ``on_train_begin(logs)``,
  ``on_epoch_begin(epoch, logs)``, ``on_batch_end(step, logs)``,
  ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)`` (epochs counted from 0, as in
  Keras). One stops training by returning True or by setting
  ``trainer.stop_training = True`` (``callback.trainer`` is set before training).
  Keys a callback adds to an epoch's ``logs`` are recorded in the History too.
- Nothing is printed: :class:`ProgressLogger` hands lines to a function you give.
"""

from __future__ import annotations

from .callbacks import Callback, EarlyStopping, ProgressLogger
from .evaluation import Metric as Metric
from .evaluation import _metric_list as _metric_list
from .evaluation import accuracy as accuracy
from .evaluation import default_output as default_output
from .evaluation import default_target as default_target
from .evaluation import evaluate
from .feed import Feed as Feed
from .feed import StepInfo
from .history import History, NonFiniteError
from .loop import Trainer, fit

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "NonFiniteError",
    "ProgressLogger",
    "StepInfo",
    "Trainer",
    "evaluate",
    "fit",
]
