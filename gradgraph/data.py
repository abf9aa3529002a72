"""Datasets: the deck's digits split, one-hot labels, minibatches, user arrays.

User files are read without pickle (``allow_pickle=False``) and validated at load,
so NaN, Inf, bad shapes and bad labels are reported with the row and column a user
would count in a spreadsheet (1-based), before any training starts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError, FileFormatError, TrainingError
from .fileio import _load_npz_bytes, read_file

MAX_NPZ_BYTES = 1 << 30  # a user's .npz data file
MAX_CSV_BYTES = 64 << 20  # CSV is parsed in Python: 64 MB is already ~10 s
MAX_CLASSES = 10_000
MAX_EXAMPLES = 100_000_000  # a shuffled index of 10**8 is already 800 MB

__all__ = [
    "Split",
    "load_digits_split",
    "one_hot",
    "minibatches",
    "load_arrays",
    "corrupt_labels",
]


@dataclass(frozen=True, eq=False)
class Split:
    """A train/test split.

    Attributes
    ----------
    X_train, X_test : ndarray of float64, shape (n, features)
    y_train, y_test : ndarray of int64, shape (n,)
        Integer class labels.
    Y_train, Y_test : ndarray of float64, shape (n, classes)
        The same labels one-hot encoded.
    classes : ndarray of int64
        The class labels, ``0 … classes − 1``.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    Y_train: np.ndarray
    Y_test: np.ndarray
    classes: np.ndarray


def load_digits_split(test_size: float = 0.15, random_state: int = 37, scale: bool = True) -> Split:
    """The deck's Keras example: scikit-learn's 8×8 digits, split and standardised.

    ``train_test_split(test_size=0.15, random_state=37)`` gives 1527 training and 270
    test images. With ``scale=True`` a ``StandardScaler`` is fitted on the training
    set only and applied to both (fitting on all of X gives the same to 3 d.p., but
    would leak the test set).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise DataError(f"test_size must be a fraction in (0, 1), got {test_size!r}")
    if not 0 < test_size < 1:
        raise DataError(f"test_size must be a fraction in (0, 1), got {test_size!r}")
    digits = load_digits()
    X = np.asarray(digits.data, dtype=np.float64)
    y = np.asarray(digits.target, dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state
    )
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    classes = np.arange(10, dtype=np.int64)
    return Split(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        Y_train=one_hot(y_train, 10),
        Y_test=one_hot(y_test, 10),
        classes=classes,
    )


def _as_labels(labels: Any, what: str = "labels") -> np.ndarray:
    """Labels as int64, refusing negative, fractional or non-finite values."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise DataError(f"{what} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        out = arr.astype(np.int64)
    elif arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"{what}: row {row + 1} is {arr[row]!r}, not an integer class")
        out = arr.astype(np.int64)
    else:
        raise DataError(f"{what} must be integers, got dtype {arr.dtype}")
    if out.size and out.min() < 0:
        row = int(np.argmax(out < 0))
        raise DataError(f"{what}: row {row + 1} is {out[row]}, labels must be >= 0")
    return out


def _num_classes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise DataError(f"num_classes must be an integer >= 1, got {value!r}")
    if value > MAX_CLASSES:  # a one-hot matrix that wide would not fit in memory
        raise DataError(f"num_classes is {value}; at most {MAX_CLASSES} classes are supported")
    return int(value)


def one_hot(labels: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer labels as a float64 array of shape ``(n, num_classes)``.

    ``num_classes`` defaults to ``max(labels) + 1``. Integer-valued floats are
    accepted; negative, fractional or too-large labels raise :class:`DataError`.
    """
    y = _as_labels(labels)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
        if num_classes == 0:
            raise DataError("one_hot of no labels needs num_classes")
        _num_classes(num_classes)
    else:
        num_classes = _num_classes(num_classes)
        if y.size and y.max() >= num_classes:
            row = int(np.argmax(y >= num_classes))
            raise DataError(
                f"labels: row {row + 1} is {y[row]}, but num_classes is {num_classes} "
                f"(labels must be 0 … {num_classes - 1})"
            )
    out = np.zeros((y.size, num_classes), dtype=np.float64)
    out[np.arange(y.size), y] = 1.0
    return out


def minibatches(
    n: int, batch_size: int, rng: np.random.Generator | int | None = None
) -> Iterator[np.ndarray]:
    """Index arrays for one epoch: a fresh shuffle, without replacement.

    The last, partial batch is kept, so every index appears exactly once. ``rng`` is a
    ``numpy.random.Generator`` (an int or None seeds a new one).
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 0 <= n <= MAX_EXAMPLES:
        raise DataError(f"n must be a whole number from 0 to {MAX_EXAMPLES}, got {n!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TrainingError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if batch_size < 1:
        raise TrainingError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    # Shuffle now, not at the first next(), so argument errors above are eager too.
    order = gen.permutation(int(n))
    return (order[i : i + batch_size] for i in range(0, int(n), int(batch_size)))


def corrupt_labels(
    y: Any, p: float, num_classes: int, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Zhang et al. (2017) §2.1 partially corrupted labels.

    Each label is, independently with probability ``p``, replaced by a class drawn
    uniformly from ``0 … num_classes − 1`` (which may happen to be the true one, so
    about ``p·(1 − 1/num_classes)`` of the labels actually change). Returns a new
    array; ``y`` is not modified.
    """
    labels = _as_labels(y)
    num_classes = _num_classes(num_classes)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= float(p) <= 1:
        raise DataError(f"p must be a probability in [0, 1], got {p!r}")
    if labels.size and labels.max() >= num_classes:
        raise DataError(f"labels go up to {labels.max()}, but num_classes is {num_classes}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    # Draw both arrays in full so the result depends only on the generator's state.
    replace = gen.random(labels.size) < float(p)
    random_class = gen.integers(0, num_classes, size=labels.size)
    return np.where(replace, random_class, labels).astype(np.int64)


# --------------------------------------------------------------------------------------
# User files
# --------------------------------------------------------------------------------------
def load_arrays(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load ``(X, y)`` from a ``.npz`` (arrays ``X`` and ``y``) or a ``.csv`` file.

    CSV: numbers separated by commas, one sample per line, the last column the
    integer label; an optional header line. Pickled (object) arrays are refused,
    and every problem is reported with the row and column (1-based; for CSV the
    file's line number, as a spreadsheet shows it).

    Returns
    -------
    X : ndarray of float64, shape (n, features)
    y : ndarray of int64, shape (n,)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.exists() and not path.is_file():  # say so before the suffix: /dev/zero, a FIFO
        read_file(path, 0, "data file", DataError)
    if suffix not in (".npz", ".csv"):
        raise DataError(f"{path}: unknown data file type {suffix or '(none)'!r}; use .npz or .csv")
    if suffix == ".npz":
        X, y, rows = *_read_npz(path), None
    else:
        X, y, rows = _read_csv(path)
    return _validate(path, X, y, rows)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = read_file(path, MAX_NPZ_BYTES, "data file", DataError)
    arrays = _load_npz_bytes(path, data)
    missing = [k for k in ("X", "y") if k not in arrays]
    if missing:
        found = ", ".join(arrays) or "nothing"
        raise DataError(f"{path}: needs arrays 'X' and 'y' (found: {found})")
    return arrays["X"], arrays["y"]


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse comma-separated numbers; returns X, y and each sample's file line number."""
    data = read_file(path, MAX_CSV_BYTES, "data file", DataError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: not a UTF-8 text file") from None
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    width = None
    header_allowed = True
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(",")
        try:
            values = [float(f) for f in fields]
        except ValueError:
            # The first non-blank line is a header when none of its fields is a number;
            # a data row with one typo is an error, never silently dropped.
            if header_allowed and not any(_is_float(f) for f in fields):
                header_allowed = False
                continue
            col, bad = next((i, f) for i, f in enumerate(fields, 1) if not _is_float(f))
            raise DataError(
                f"{path}: row {lineno}, column {col}: {bad.strip()!r} is not a number"
            ) from None
        header_allowed = False
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise DataError(f"{path}: row {lineno} has {len(values)} columns, expected {width}")
        rows.append(values)
        line_numbers.append(lineno)
    if not rows:
        raise DataError(f"{path}: no data rows")
    if width is None or width < 2:
        raise DataError(f"{path}: needs at least one feature column and a label column")
    table = np.array(rows, dtype=np.float64)
    return table[:, :-1], table[:, -1], np.array(line_numbers)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _validate(
    path: Path, X: np.ndarray, y: np.ndarray, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Shapes, finiteness and labels; ``rows`` maps sample index to a file row."""

    def row_of(i: int) -> int:
        return int(rows[i]) if rows is not None else i + 1

    if X.dtype.kind not in "biuf":
        raise DataError(f"{path}: X must be numeric, got dtype {X.dtype}")
    if y.dtype.kind not in "biuf":
        raise DataError(f"{path}: y must be integer labels, got dtype {y.dtype}")
    if X.ndim != 2:
        raise DataError(f"{path}: X must be 2-D (samples × features), got shape {X.shape}")
    if y.ndim != 1:
        raise DataError(f"{path}: y must be 1-D, got shape {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{path}: X has {len(X)} rows but y has {len(y)} labels")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise DataError(f"{path}: row {row_of(i)}, column {j + 1} is {X[i, j]} (not finite)")
    label_col = X.shape[1] + 1 if rows is not None else None
    y_float = y.astype(np.float64)
    bad_y = ~np.isfinite(y_float) | (y_float != np.round(y_float)) | (y_float < 0)
    if bad_y.any():
        i = int(np.argmax(bad_y))
        where = f"row {row_of(i)}" + (f", column {label_col}" if label_col else "")
        raise DataError(f"{path}: {where}: label {y[i]} must be a non-negative integer")
    if y.size and y_float.max() >= MAX_CLASSES:  # one-hot of a label of 10**12: terabytes
        i = int(np.argmax(y_float))
        where = f"row {row_of(i)}" + (f", column {label_col}" if label_col else "")
        raise DataError(f"{path}: {where}: label {y[i]} is too large (labels are classes "
                        f"0 … k−1, with at most {MAX_CLASSES} classes)")
    return X, y.astype(np.int64)


MIN_TRAIN = 10  # training examples below which a result is noise


def split_validation(X: Any, Y: Any, fraction: float | None,
                     random_state: int) -> tuple[Any, Any, Any, Any]:
    """(X_train, Y_train, X_val, Y_val): ``fraction`` of the training data held out as a
    validation set (distinct from any test set), or the data and ``None`` without one.
    Raises :class:`DataError` when fewer than ``MIN_TRAIN`` training examples remain."""
    if fraction is None:
        return X, Y, None, None
    from sklearn.model_selection import train_test_split

    n_val = math.ceil(fraction * len(X))
    if len(X) - n_val < MIN_TRAIN:
        raise DataError(f"a validation split of {fraction:g} leaves {len(X) - n_val} "
                        f"training examples; at least {MIN_TRAIN} are needed")
    X_train, X_val, Y_train, Y_val = train_test_split(X, Y, test_size=n_val,
                                                      random_state=random_state)
    return X_train, Y_train, X_val, Y_val
