"""Datasets: digits split, one-hot, minibatches, user files, label corruption."""

from __future__ import annotations

import os

import numpy as np
import pytest

from gradgraph import data
from gradgraph.errors import DataError, FileFormatError, TrainingError


@pytest.fixture(scope="module")
def split():
    return data.load_digits_split()


def test_digits_split_matches_the_deck(split):
    assert split.X_train.shape == (1527, 64) and split.X_test.shape == (270, 64)
    assert split.X_train.dtype == np.float64
    assert split.Y_train.shape == (1527, 10) and split.Y_test.shape == (270, 10)
    np.testing.assert_array_equal(split.Y_train.argmax(axis=1), split.y_train)
    np.testing.assert_array_equal(split.classes, np.arange(10))
    # The scaler is fitted on the training set only: train is exactly standardised.
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0, atol=1e-12)
    sd = split.X_train.std(axis=0)
    np.testing.assert_allclose(sd[sd > 0], 1)
    assert abs(split.X_test.mean()) > 1e-6  # the test set was not fitted
    with pytest.raises(AttributeError):
        split.X_train = None  # frozen


def test_digits_split_is_deterministic_and_unscaled_option(split):
    raw = data.load_digits_split(scale=False)
    np.testing.assert_array_equal(raw.y_test, split.y_test)
    assert raw.X_train.max() == 16.0
    with pytest.raises(DataError):
        data.load_digits_split(test_size=1.5)


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert data.one_hot(np.array([1.0, 3.0])).shape == (2, 4)
    assert data.one_hot([0, 1]).dtype == np.float64


@pytest.mark.parametrize(
    ("labels", "k", "match"),
    [
        ([0, -1], 3, "row 2"),
        ([0.5, 1], 3, "row 1"),
        ([0, 3], 3, "row 2.*num_classes is 3"),
        (["a"], 3, "integers"),
        ([0, 1], 0, "num_classes"),
        ([[0, 1]], 3, "1-D"),
    ],
)
def test_one_hot_rejects_bad_labels(labels, k, match):
    with pytest.raises(DataError, match=match):
        data.one_hot(labels, k)


def test_minibatches_cover_every_index_once_and_reshuffle():
    rng = np.random.default_rng(0)
    first = list(data.minibatches(10, 4, rng))
    assert [len(b) for b in first] == [4, 4, 2]  # last partial batch kept
    np.testing.assert_array_equal(np.sort(np.concatenate(first)), np.arange(10))
    second = np.concatenate(list(data.minibatches(10, 4, rng)))
    assert not np.array_equal(np.concatenate(first), second)  # a new shuffle per epoch
    assert list(data.minibatches(0, 3, rng)) == []
    again = np.concatenate(list(data.minibatches(10, 4, np.random.default_rng(0))))
    np.testing.assert_array_equal(again, np.concatenate(first))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_minibatches_validate_batch_size_eagerly(bad):
    with pytest.raises(TrainingError, match="batch_size"):
        data.minibatches(10, bad, np.random.default_rng(0))  # no next() needed


def test_corrupt_labels():
    y = np.arange(10).repeat(1000)
    rng = np.random.default_rng(1)
    assert np.array_equal(data.corrupt_labels(y, 0.0, 10, rng), y)
    noisy = data.corrupt_labels(y, 0.5, 10, np.random.default_rng(2))
    changed = np.mean(noisy != y)
    # Replaced with prob p by a uniform class, which is the true one 1/10 of the time.
    assert changed == pytest.approx(0.5 * 0.9, abs=0.02)
    assert noisy.min() >= 0 and noisy.max() <= 9
    full = data.corrupt_labels(y, 1.0, 10, np.random.default_rng(3))
    assert np.mean(full != y) == pytest.approx(0.9, abs=0.02)
    assert np.bincount(full, minlength=10).min() > 800  # uniform over classes
    assert np.array_equal(y, np.arange(10).repeat(1000))  # input untouched
    for p in (-0.1, 1.1, float("nan")):
        with pytest.raises(DataError, match="p must be"):
            data.corrupt_labels(y, p, 10, rng)
    with pytest.raises(DataError):
        data.corrupt_labels([0, 12], 0.5, 10, rng)


# --------------------------------------------------------------------------------------
# User files
# --------------------------------------------------------------------------------------
def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_csv_with_and_without_header(tmp_path):
    X, y = data.load_arrays(write(tmp_path, "d.csv", "a,b,label\n1,2,0\n3.5,-4,2\n\n"))
    np.testing.assert_array_equal(X, [[1, 2], [3.5, -4]])
    np.testing.assert_array_equal(y, [0, 2])
    assert X.dtype == np.float64 and y.dtype == np.int64
    X, y = data.load_arrays(write(tmp_path, "e.csv", "1,2,1\n3,4,0\n"))
    assert X.shape == (2, 2) and y.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b,y\n1,2,0\n3,nan,1\n", "row 3, column 2"),
        ("1,2,0\ninf,2,1\n", "row 2, column 1"),
        ("a,b,y\n1,2,0\n3,4,1.5\n", "row 3, column 3"),
        ("1,2,0\n3,4,-1\n", "row 2, column 3"),
        ("1,2,0\n3,x,1\n", "row 2, column 2: 'x' is not a number"),
        ("1,x,0\n3,4,1\n", "row 1, column 2"),  # a typo in line 1 is not a header
        ("1,2,0\n3,4\n", "row 2 has 2 columns, expected 3"),
        ("a,b\n", "no data rows"),
        ("1\n2\n", "feature column"),
    ],
)
def test_load_csv_reports_row_and_column(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        data.load_arrays(write(tmp_path, "bad.csv", text))


def test_load_npz(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), y=np.array([0, 1, 1]))
    X, y = data.load_arrays(path)
    assert X.shape == (3, 2) and y.tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"X": np.array([[1.0, np.nan]]), "y": np.array([0])}, "row 1, column 2"),
        ({"X": np.ones((2, 2)), "y": np.array([0, -1])}, "row 2"),
        ({"X": np.ones(3), "y": np.array([0, 1, 1])}, "2-D"),
        ({"X": np.ones((3, 2)), "y": np.array([0, 1])}, "3 rows but y has 2"),
        ({"X": np.ones((1, 2)), "Y": np.array([0])}, "needs arrays 'X' and 'y'"),
        ({"X": np.array([["a", "b"]]), "y": np.array([0])}, "numeric"),
    ],
)
def test_load_npz_validation(tmp_path, arrays, match):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=match):
        data.load_arrays(path)


class Payload:
    """Unpickling this object creates the canary file."""

    def __init__(self, canary):
        self.canary = canary

    def __reduce__(self):
        return (self.canary.__class__.touch, (self.canary,))


def test_pickled_npz_is_refused_and_runs_nothing(tmp_path):
    canary = tmp_path / "CANARY"
    path = tmp_path / "evil.npz"
    payload = np.array([Payload(canary)], dtype=object)
    np.savez(path, X=payload, y=np.array([0]))  # np.savez pickles object arrays
    with pytest.raises(FileFormatError, match="pickled"):
        data.load_arrays(path)
    assert not canary.exists()


def test_truncated_npz_is_a_corrupt_file(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, X=np.ones((50, 4)), y=np.zeros(50, dtype=int))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(FileFormatError, match="corrupt"):
        data.load_arrays(path)


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="unknown data file type"):
        data.load_arrays(write(tmp_path, "d.json", "{}"))
    with pytest.raises(DataError, match="no such data file"):
        data.load_arrays(tmp_path / "missing.csv")


def test_devices_pipes_and_folders_are_named_and_never_read(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # no writer: reading it would wait for ever
    (tmp_path / "folder.npz").mkdir()
    for path in ("/dev/zero", fifo, tmp_path / "folder.npz"):
        with pytest.raises(DataError, match="not a regular file|is a folder"):
            data.load_arrays(path)


def test_a_huge_data_file_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_CSV_BYTES", 100)
    path = write(tmp_path, "big.csv", "1,0\n" * 30)
    with pytest.raises(DataError, match="data file too large .120 bytes; the limit is 100"):
        data.load_arrays(path)


@pytest.mark.parametrize("label", [10**12, 2**62, 1e30, data.MAX_CLASSES])
def test_a_label_too_large_to_one_hot_is_refused_at_load(tmp_path, label):
    y = np.zeros(5, dtype=type(label) if isinstance(label, float) else np.int64)
    y[3] = label
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((5, 2)), y=y)
    with pytest.raises(DataError, match="row 4: label .* is too large .*at most 10000 classes"):
        data.load_arrays(path)


def test_sizes_that_cannot_fit_in_memory_are_refused_before_allocating():
    with pytest.raises(DataError, match="at most 10000 classes"):
        data.one_hot([10**12])
    with pytest.raises(DataError, match="at most 10000 classes"):
        data.one_hot([0], num_classes=10**9)
    with pytest.raises(DataError, match="n must be a whole number from 0 to 100000000"):
        data.minibatches(10**12, 1)
