"""Unit tests of the helper package: right answers, reproducibility, and clear errors for bad input."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import dlcourse  # noqa: E402


def test_device_prefers_what_is_available(monkeypatch):
    monkeypatch.delenv("DLCOURSE_DEVICE", raising=False)
    dev = dlcourse.device()
    want = (
        "cuda"
        if torch.cuda.is_available()
        else ("mps" if torch.backends.mps.is_available() else "cpu")
    )
    assert dev.type == want
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    assert dlcourse.device() == torch.device("cpu")
    assert "CPU" in dlcourse.describe_device(torch.device("cpu"))


def test_seed_makes_runs_repeatable():
    a = dlcourse.seed(3).standard_normal(4), np.random.rand(2), torch.rand(2)
    b = dlcourse.seed(3).standard_normal(4), np.random.rand(2), torch.rand(2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert torch.equal(a[2], b[2])
    with pytest.raises(ValueError, match="non-negative integer"):
        dlcourse.seed(-1)
    with pytest.raises(ValueError, match="non-negative integer"):
        dlcourse.seed(1.5)


def test_timeit_measures_and_rejects_bad_arguments():
    assert dlcourse.timeit(lambda: sum(range(1000)), repeat=3) > 0
    with pytest.raises(TypeError, match="callable"):
        dlcourse.timeit(3)
    with pytest.raises(ValueError, match="repeat"):
        dlcourse.timeit(lambda: None, repeat=0)


@pytest.mark.parametrize(
    "maker", [dlcourse.make_moons, dlcourse.make_xor, dlcourse.make_spirals]
)
def test_synthetic_sets(maker):
    X, y = maker(101, seed=1)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    X2, y2 = maker(101, seed=1)
    np.testing.assert_array_equal(X, X2)
    assert len(np.unique(y)) >= 2
    with pytest.raises(ValueError, match="n must be an integer"):
        maker(0)


def test_xor_labels_are_xor():
    X, y = dlcourse.make_xor(500, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_digits_split():
    split = dlcourse.load_digits(test_fraction=0.25, seed=0)
    assert (
        split.X_train.shape[1] == 64 and len(split.y_train) + len(split.y_test) == 1797
    )
    assert split.X_train.min() >= 0 and split.X_train.max() <= 1
    assert len(split.y_test) == round(1797 * 0.25)
    with pytest.raises(ValueError, match="test_fraction"):
        dlcourse.load_digits(test_fraction=1.0)


def test_mnist1d_is_generated_offline():
    split = dlcourse.load_mnist1d(num_samples=200)
    assert split.X_train.shape == (160, 40) and split.X_test.shape == (40, 40)
    assert set(np.unique(split.y_train)) <= set(range(10))
    again = dlcourse.load_mnist1d(num_samples=200)
    np.testing.assert_array_equal(split.X_train, again.X_train)


def test_text_corpus_is_real_text():
    text = dlcourse.text_corpus(max_chars=50_000)
    assert len(text) == 50_000 and "def " in text and "import" in text
    with pytest.raises(ValueError, match="max_chars"):
        dlcourse.text_corpus(max_chars=0)


def test_numerical_gradient_matches_analytic():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    f = lambda z: float(np.sum(np.sin(z) * z**2))  # noqa: E731
    analytic = np.cos(x) * x**2 + 2 * x * np.sin(x)
    np.testing.assert_allclose(
        dlcourse.numerical_gradient(f, x), analytic, rtol=1e-7, atol=1e-9
    )
    assert dlcourse.gradient_check(f, x, analytic) < 1e-8
    assert (
        dlcourse.gradient_check(f, x, analytic * 1.01) > 1e-3
    )  # a wrong gradient is caught


def test_gradient_check_errors():
    with pytest.raises(TypeError, match="float64"):
        dlcourse.numerical_gradient(lambda z: z.sum(), np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"shape of x, \(3,\)"):
        dlcourse.gradient_check(lambda z: z.sum(), np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        dlcourse.relative_error(np.ones(2), np.ones(3))
    assert dlcourse.relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_plot_graph_and_decision_boundary():
    class Node:
        def __init__(self, name, *inputs):
            self.name, self.inputs = name, inputs

    a, b = Node("a"), Node("b")
    out = Node("*", Node("+", a, b), b)
    ax = dlcourse.plot_graph(out, lambda n: n.inputs, lambda n: n.name)
    boxes = [t for t in ax.texts if t.get_bbox_patch() is not None]
    assert sorted(t.get_text() for t in boxes) == [
        "*",
        "+",
        "a",
        "b",
    ]  # b drawn once though used twice
    plt.close("all")
    X, y = dlcourse.make_moons(50)
    ax = dlcourse.plot_decision_boundary(lambda g: (g[:, 0] > 0.5).astype(int), X, y)
    assert ax.collections
    plt.close("all")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        dlcourse.plot_decision_boundary(lambda g: g, np.ones((3, 3)), np.ones(3))


def test_plot_graph_rejects_cycles():
    class Node:
        inputs = ()

    a, b = Node(), Node()
    a.inputs, b.inputs = (b,), (a,)
    with pytest.raises(ValueError, match="cycle"):
        dlcourse.plot_graph(a, lambda n: n.inputs, lambda n: "x")


def test_seed_offset_moves_every_seed_and_rejects_nonsense():
    """DLCOURSE_SEED_OFFSET=K: each seeding function behaves as with seed + K (checked in a fresh process)."""
    code = (
        "import dlcourse, random, numpy as np, torch\n"
        "from dlcourse import seeds\n"
        "orig = seeds._installed\n"
        "torch.manual_seed(1); a = torch.rand(3); orig['torch.manual_seed'](4); b = torch.rand(3)\n"
        "assert torch.equal(a, b), 'torch.manual_seed'\n"
        "g = torch.Generator(device='cpu').manual_seed(1)\n"
        "h = orig['torch.Generator']().manual_seed(4)\n"
        "assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=h)), 'Generator'\n"
        "assert np.random.default_rng(1).random() == orig['np.random.default_rng'](4).random()\n"
        "np.random.seed(1); x = np.random.rand(); orig['np.random.seed'](4)\n"
        "assert x == np.random.rand(), 'np.random.seed'\n"
        "random.seed(1); y = random.random(); orig['random.seed'](4); assert y == random.random()\n"
        "assert np.random.default_rng(None) is not None\n"
        "assert not np.array_equal(dlcourse.load_digits().X_train[:5], __import__('pickle').loads("
        "__import__('base64').b64decode(BASE)))\n"
    )
    import base64
    import os
    import pickle
    import subprocess
    import sys

    base = base64.b64encode(pickle.dumps(dlcourse.load_digits().X_train[:5])).decode()
    env = {**os.environ, "DLCOURSE_SEED_OFFSET": "3"}
    done = subprocess.run(
        [sys.executable, "-c", f"BASE = {base!r}\n" + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    bad = subprocess.run(
        [sys.executable, "-c", "import dlcourse"],
        capture_output=True,
        text=True,
        env={**os.environ, "DLCOURSE_SEED_OFFSET": "minus one"},
        timeout=120,
    )
    assert bad.returncode != 0 and "must be a non-negative integer" in bad.stderr


def test_char_benchmark_split_is_fixed_disjoint_and_covered():
    from dlcourse import charbench

    a, b = dlcourse.char_benchmark(), dlcourse.char_benchmark(max_chars=50_000)
    assert (a.valid, a.test, a.vocab) == (b.valid, b.test, b.vocab), (
        "the split must not depend on max_chars"
    )
    assert b.train == a.train[:50_000]
    files = {part: set(names) for part, names in a.files.items()}
    assert not (
        files["train"] & files["valid"]
        or files["train"] & files["test"]
        or files["valid"] & files["test"]
    )
    assert len(a.test) >= charbench.TEST_CHARS and len(a.valid) >= charbench.VALID_CHARS
    assert set(a.train + a.valid + a.test) == set(a.vocab) and list(a.vocab) == sorted(
        a.vocab
    )
    assert set(a.test) - set(a.train), (
        "a few test characters are expected never to occur in training"
    )
    assert a.decode(a.encode(a.test[:500])) == a.test[:500]
    assert dlcourse.char_benchmark() == a, "the same split on every call"
    for bad in (0, 9_999, -5, 2.5):
        with pytest.raises(ValueError, match="max_chars"):
            dlcourse.char_benchmark(max_chars=bad)
    with pytest.raises(ValueError, match="not in the benchmark's vocabulary"):
        a.encode("\x00")


def reference_ngram(train, test, order, vocab, D=0.75):
    """The same smoothing written out character by character (slow; for small texts)."""
    import math
    from collections import Counter

    counts = [
        Counter(train[i - n : i + 1] for i in range(n, len(train)))
        for n in range(order)
    ]

    def p(history, x):
        if history is None:
            return 1 / len(vocab)
        n = len(history)
        lower = p(history[1:] if n else None, x)
        c_h = sum(v for k, v in counts[n].items() if k[:-1] == history)
        if c_h == 0:
            return lower
        n_h = sum(1 for k in counts[n] if k[:-1] == history)
        return (max(counts[n][history + x] - D, 0) + D * n_h * lower) / c_h

    bits = [
        -math.log2(p(test[max(0, i - order + 1) : i], test[i]))
        for i in range(len(test))
    ]
    return sum(bits) / len(bits)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_ngram_model_matches_its_definition(order):
    from dlcourse.charbench import ngram_bits_per_char

    train, test, vocab = "abracadabra cadabra abra", "abracazam ab", "abcdmrz "
    got = ngram_bits_per_char(train, test, order, vocab)
    assert got == pytest.approx(reference_ngram(train, test, order, vocab), rel=1e-12)
    with pytest.raises(ValueError, match="order"):
        ngram_bits_per_char(train, test, 0, vocab)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        ngram_bits_per_char(train, "q", order, vocab)


def test_compressor_baselines_on_the_test_text():
    from dlcourse.charbench import baselines, compressors

    bench = dlcourse.char_benchmark(max_chars=200_000)
    rates = compressors(bench.test)
    assert rates["bz2 -9"] < rates["gzip -9"] < 8 and rates["xz -9"] < rates["gzip -9"]
    assert 1.5 < rates["bz2 -9"] < 2.5, (
        rates
    )  # about 2.04, 1.79 and 1.82 with Python 3.11's library
    table = baselines(bench, orders=(1, 3))
    assert (
        table["uniform over the vocabulary"]
        > table["1-gram (counts, absolute discounting)"]
    )
    assert (
        table["1-gram (counts, absolute discounting)"]
        > table["3-gram (counts, absolute discounting)"]
    )
    with pytest.raises(ValueError, match="non-empty"):
        compressors("")


def test_one_thread_limits_torch_and_blas_and_restores_even_on_error():
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    with dlcourse.one_thread():
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"):
        with dlcourse.one_thread():
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
