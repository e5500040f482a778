"""From scratch against the library: each chapter's NumPy implementation against PyTorch on the CPU.

Every benchmark takes the chapter's own code out of its solution notebook (chapter_code.py),
builds one set of inputs in float64, checks that NumPy and PyTorch give the same outputs (an
AssertionError otherwise: a ratio between two different computations means nothing), then
times both with dlcourse.timeit (best of `repeat` rounds) and reports NumPy time / PyTorch time.
Both run on the threads the caller set (run.py: one, as the grader's kernels do).

Sizes are the chapter's own (named in each `sizes` entry); quick mode shrinks the large ones.
"""

import numpy as np
import torch
import torch.nn.functional as F
from chapter_code import load
from torch import nn

import dlcourse

TARGET = 5.0  # every NumPy implementation should be within 5x of PyTorch on the CPU


def _close(ours, theirs, what, rtol=1e-9, atol=1e-11):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)
    return float(np.max(np.abs(np.asarray(ours) - np.asarray(theirs)), initial=0.0))


def mlp_training(quick):
    """Chapter 02: one epoch of `train_sgd` (mini-batch SGD with momentum) on the digits MLP."""
    ns = load(
        "02_backprop_init",
        ["sigmoid", "softmax_xent", "init_weight", "ACTIVATIONS", "MLP", "train_sgd"],
    )
    digits = dlcourse.load_digits(test_fraction=0.25, seed=0)
    mu, sd = digits.X_train.mean(axis=0), digits.X_train.std(axis=0) + 0.1
    X, y = (digits.X_train - mu) / sd, digits.y_train
    sizes, lr, batch = [64, 128, 10], 0.05, 32
    # the batches of train_sgd(seed=0)'s first epoch
    order = np.random.default_rng(0).permutation(len(X))
    batches = [order[i : i + batch] for i in range(0, len(X), batch)]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def numpy_epoch():
        net = ns["MLP"](sizes, rng=np.random.default_rng(0))
        # constant step size: torch.optim.SGD's momentum is the same update only then
        ns["train_sgd"](net, X, y, epochs=1, lr=lr, cosine=False, seed=0)
        return net

    def torch_epoch():
        start = ns["MLP"](sizes, rng=np.random.default_rng(0))
        model = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)
        ).double()
        with torch.no_grad():
            for lin, W, b in zip(model[::2], start.W, start.b):
                lin.weight.copy_(torch.from_numpy(W.T))
                lin.bias.copy_(torch.from_numpy(b))
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        for idx in batches:
            loss = F.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model

    net, model = numpy_epoch(), torch_epoch()
    diff = max(
        _close(net.W[0], model[0].weight.T, "first-layer weights after one epoch"),
        _close(net.W[1], model[2].weight.T, "second-layer weights after one epoch"),
    )
    return dict(
        numpy=numpy_epoch,
        torch=torch_epoch,
        diff=diff,
        sizes=f"64-128-10 ReLU MLP, {len(batches)} steps of batch 32 (one epoch of digits)",
        code="MLP, train_sgd",
        note="Python calls per layer and step on small matrices; nn.Linear and autograd "
        "have their own per-call overhead of the same order",
    )


def _optimizer(quick, kind):
    ns = load("03_optimizers", ["Optimizer", "SGD", "Adam"])
    n_tensors = 20 if quick else 200  # section 13: 200 tensors of 10,000 entries
    g = np.random.default_rng(0)
    start = [g.standard_normal(10_000) for _ in range(n_tensors)]
    grads = [g.standard_normal(10_000) for _ in range(n_tensors)]
    ours = [p.copy() for p in start]
    theirs = [torch.tensor(p, requires_grad=True) for p in start]
    for p, gr in zip(theirs, grads):
        p.grad = torch.from_numpy(gr)
    if kind == "adam":
        opt_np = ns["Adam"](ours, lr=1e-3)
        opt_t = torch.optim.Adam(theirs, lr=1e-3)
    else:
        opt_np = ns["SGD"](ours, lr=1e-2, momentum=0.9)
        opt_t = torch.optim.SGD(theirs, lr=1e-2, momentum=0.9)
    for _ in range(3):
        opt_np.step(grads)
        opt_t.step()
    diff = max(
        _close(a, b, f"parameters after 3 {kind} steps") for a, b in zip(ours, theirs)
    )
    return dict(
        numpy=lambda: opt_np.step(grads),
        torch=opt_t.step,
        diff=diff,
        sizes=f"{n_tensors} tensors of 10,000 entries (section 13's size)",
    )


def adam_step(quick):
    """Chapter 03: one step of the chapter's Adam class against torch.optim.Adam."""
    out = _optimizer(quick, "adam")
    out.update(
        code="Optimizer, Adam",
        note="a Python loop over the tensors in both; torch.optim.Adam's default on the CPU "
        "is its for-loop implementation too",
    )
    return out


def sgd_momentum_step(quick):
    """Chapter 03: one step of the chapter's SGD class (momentum 0.9) against torch.optim.SGD."""
    out = _optimizer(quick, "sgd")
    out.update(
        code="Optimizer, SGD", note="element-wise updates, one tensor at a time in both"
    )
    return out


def batchnorm(quick):
    """Chapter 04: BatchNorm1d forward and backward in training mode."""
    ns = load("04_regularization", ["normalize_backward", "BatchNorm1d"])
    shape = (256, 128) if quick else (1024, 512)  # section 13 times (1024, 512)
    g = np.random.default_rng(0)
    x, grad_out = g.standard_normal(shape) * 2 + 1, g.standard_normal(shape)
    gamma, beta = g.standard_normal(shape[1]), g.standard_normal(shape[1])
    bn = ns["BatchNorm1d"](shape[1])
    bn.gamma, bn.beta = gamma.copy(), beta.copy()
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = (
        torch.tensor(gamma, requires_grad=True),
        torch.tensor(beta, requires_grad=True),
    )
    gt = torch.from_numpy(grad_out)
    running = (
        torch.zeros(shape[1], dtype=torch.float64),
        torch.ones(shape[1], dtype=torch.float64),
    )

    def numpy_fb():
        y = bn.forward(x)
        return y, bn.backward(grad_out), bn.dgamma, bn.dbeta

    def torch_fb():
        y = F.batch_norm(xt, *running, wt, bt, training=True, momentum=0.1, eps=1e-5)
        return (y, *torch.autograd.grad(y, (xt, wt, bt), gt))

    ours, theirs = numpy_fb(), torch_fb()
    names = ("output", "dL/dx", "dL/dgamma", "dL/dbeta")
    diff = max(_close(a, b, n) for a, b, n in zip(ours, theirs, names))
    return dict(
        numpy=numpy_fb,
        torch=torch_fb,
        diff=diff,
        sizes=f"batch {shape[0]}, {shape[1]} features"
        + ("" if quick else " (section 13)"),
        code="BatchNorm1d, normalize_backward",
        note="a few passes over the batch in both; PyTorch fuses them in one C++ kernel",
    )


def conv2d_forward(quick):
    """Chapter 05: the im2col convolution against F.conv2d (forward)."""
    ns = load("05_cnn", ["conv_out", "check_conv_shapes", "conv2d_im2col"])
    # section 10: 32 images of 64 x 32 x 32, 64 kernels of 3 x 3
    n = 2 if quick else 32
    g = np.random.default_rng(0)
    x, w, b = (
        g.standard_normal((n, 64, 32, 32)),
        g.standard_normal((64, 64, 3, 3)),
        g.standard_normal(64),
    )
    xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))
    numpy_fwd = lambda: ns["conv2d_im2col"](x, w, b, padding=1)
    torch_fwd = lambda: F.conv2d(xt, wt, bt, padding=1)
    diff = _close(numpy_fwd(), torch_fwd(), "convolution output")
    x32, w32, b32 = (a.float() for a in (xt, wt, bt))
    return dict(
        numpy=numpy_fwd,
        torch=torch_fwd,
        torch_float32=lambda: F.conv2d(x32, w32, b32, padding=1),
        diff=diff,
        sizes=f"{n} x 64 x 32 x 32 input, 64 kernels of 3 x 3, padding 1"
        + ("" if quick else " (section 10)"),
        code="conv2d_im2col",
        note="both are one large matrix product after copying the receptive fields "
        "(PyTorch's float64 CPU convolution is im2col + GEMM too)",
    )


def conv1d_backward(quick):
    """Chapter 05: the exercise's conv1d_backward against autograd through F.conv1d.

    The chapter's NumPy backward pass is the 1-D one (exercise 3); it has no 2-D backward."""
    ns = load("05_cnn", ["conv1d_backward"])
    c_in, c_out, length, k = 25, 25, 40, 5  # MNIST-1D: 40 samples, 25 channels
    g = np.random.default_rng(0)
    x, w = g.standard_normal((c_in, length)), g.standard_normal((c_out, c_in, k))
    grad_out = g.standard_normal((c_out, length - k + 1))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = torch.zeros(c_out, dtype=torch.float64, requires_grad=True)
    gt = torch.from_numpy(grad_out)[None]

    def torch_bwd():
        y = F.conv1d(xt[None], wt, bt)
        return torch.autograd.grad(y, (xt, wt, bt), gt)

    ours, theirs = ns["conv1d_backward"](x, w, grad_out), torch_bwd()
    diff = max(_close(a, b, n) for a, b, n in zip(ours, theirs, ("dx", "dw", "db")))
    return dict(
        numpy=lambda: ns["conv1d_backward"](x, w, grad_out),
        torch=torch_bwd,
        diff=diff,
        sizes=f"{c_in} -> {c_out} channels, {length} positions, kernel {k} "
        "(PyTorch: forward + backward)",
        code="conv1d_backward (exercise 3)",
        note="a Python loop over the K kernel taps, two matrix products per tap",
    )


def lstm_sequence(quick):
    """Chapter 06: the exercise's lstm_cell run over a sequence against nn.LSTM (forward)."""
    ns = load("06_rnn", ["lstm_cell"])
    T, N, I, H = 64, 32, 32, 128  # section 5's language model: windows of 64, batch 32
    torch.manual_seed(0)
    lstm = nn.LSTM(I, H).double()
    p = {k: v.detach().numpy() for k, v in lstm.named_parameters()}
    b = p["bias_ih_l0"] + p["bias_hh_l0"]
    xs = np.random.default_rng(0).standard_normal((T, N, I))
    xt = torch.from_numpy(xs)

    def numpy_seq():
        h, c, hs = np.zeros((N, H)), np.zeros((N, H)), []
        for x in xs:
            h, c = ns["lstm_cell"](x, h, c, p["weight_ih_l0"], p["weight_hh_l0"], b)
            hs.append(h)
        return np.stack(hs)

    def torch_seq():
        with torch.no_grad():
            return lstm(xt)[0]

    diff = _close(numpy_seq(), torch_seq(), "hidden states")
    lstm32, x32 = nn.LSTM(I, H), xt.float()
    lstm32.load_state_dict({k: v.float() for k, v in lstm.state_dict().items()})

    def torch_seq32():
        with torch.no_grad():
            return lstm32(x32)[0]

    return dict(
        numpy=numpy_seq,
        torch=torch_seq,
        torch_float32=torch_seq32,
        diff=diff,
        sizes=f"{T} steps, batch {N}, input {I}, hidden {H} (section 5's model), forward",
        code="lstm_cell (exercise 3), looped over time",
        note="a Python loop over the 64 steps (the recurrence is sequential); nn.LSTM "
        "loops in C++ and does the input projections of all steps in one product",
    )


def rnn_bptt(quick):
    """Chapter 06: rnn_forward + rnn_backward (backpropagation through time) against nn.RNN."""
    ns = load("06_rnn", ["rnn_forward", "rnn_backward"])
    T, N, I, H = 64, 32, 32, 128
    torch.manual_seed(0)
    rnn = nn.RNN(I, H).double()
    with torch.no_grad():
        rnn.bias_hh_l0.zero_()  # the chapter's RNN has one bias
    W_ih, W_hh, b = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0)
    g = np.random.default_rng(0)
    xs, h0, dhs = (
        g.standard_normal((T, N, I)),
        g.standard_normal((N, H)),
        g.standard_normal((T, N, H)),
    )
    xt, h0t, dht = (
        torch.from_numpy(xs),
        torch.tensor(h0[None], requires_grad=True),
        torch.from_numpy(dhs),
    )
    W = [a.detach().numpy() for a in (W_ih, W_hh, b)]

    def numpy_bptt():
        hs = ns["rnn_forward"](xs, h0, *W)
        return ns["rnn_backward"](xs, h0, W[0], W[1], hs, dhs)

    def torch_bptt():
        hs = rnn(xt, h0t)[0]
        return torch.autograd.grad(hs, (W_ih, W_hh, b, h0t), dht)

    ours, theirs = numpy_bptt(), torch_bptt()
    diff = max(
        _close(a, t.reshape(a.shape), n)
        for a, t, n in zip(ours, theirs, ("dW_ih", "dW_hh", "db", "dh0"))
    )
    return dict(
        numpy=numpy_bptt,
        torch=torch_bptt,
        diff=diff,
        sizes=f"{T} steps, batch {N}, input {I}, hidden {H}, forward + backward",
        code="rnn_forward, rnn_backward (exercises 1-2)",
        note="Python loops over the 64 steps, forward and backward",
    )


def _against_sdpa(numpy_attention, T, d):
    """The parts both attention benchmarks share: random (T, d) q, k, v, the NumPy code
    checked against F.scaled_dot_product_attention, and the float64 and float32 timers."""
    g = np.random.default_rng(0)
    q, k, v = (g.standard_normal((T, d)) for _ in range(3))
    qt, kt, vt = (torch.from_numpy(a)[None, None] for a in (q, k, v))
    numpy_att = lambda: numpy_attention(q, k, v)
    torch_att = lambda: F.scaled_dot_product_attention(qt, kt, vt)
    diff = _close(numpy_att(), torch_att()[0, 0], "attention output")
    q32, k32, v32 = (a.float() for a in (qt, kt, vt))
    return dict(
        numpy=numpy_att,
        torch=torch_att,
        torch_float32=lambda: F.scaled_dot_product_attention(q32, k32, v32),
        diff=diff,
    )


def attention(quick):
    """Chapter 07: softmax(q k^T / sqrt d) v, one head, against F.scaled_dot_product_attention."""
    ns = load("07_attention", ["softmax", "attention"])
    T, d = (256 if quick else 1024), 64  # section 5's table: one head of width 64
    return dict(
        _against_sdpa(lambda q, k, v: ns["attention"](q, k, v)[0], T, d),
        sizes=f"T = {T}, one head of width {d} (a row of section 5's table)",
        code="softmax, attention",
        note="two matrix products and a softmax over the T x T scores in both",
    )


def blockwise_attention(quick):
    """Chapter 07: the block-wise (online-softmax) attention against F.scaled_dot_product_attention."""
    ns = load("07_attention", ["blockwise_attention"])
    T, d = (512 if quick else 4096), 64  # section 5: T = 4096, blocks of 128 keys
    return dict(
        _against_sdpa(
            lambda q, k, v: ns["blockwise_attention"](q, k, v, block=128), T, d
        ),
        sizes=f"T = {T}, width {d}, blocks of 128 keys"
        + ("" if quick else " (section 5)"),
        code="blockwise_attention",
        note="a Python loop over T / 128 key blocks; PyTorch's CPU kernel also works in blocks",
    )


BENCHMARKS = {
    "02 MLP training (one epoch)": mlp_training,
    "03 Adam step": adam_step,
    "03 SGD momentum step": sgd_momentum_step,
    "04 BatchNorm forward + backward": batchnorm,
    "05 im2col convolution forward": conv2d_forward,
    "05 conv1d backward": conv1d_backward,
    "06 LSTM over a sequence": lstm_sequence,
    "06 RNN forward + backward (BPTT)": rnn_bptt,
    "07 attention": attention,
    "07 block-wise online-softmax attention": blockwise_attention,
}


def run(quick=False, repeat=None):
    """Every benchmark: its outputs checked equal, then timed. Returns one dict per benchmark."""
    repeat = repeat or (3 if quick else 7)
    rows = []
    for name, make in BENCHMARKS.items():
        case = make(quick)
        numpy_s = dlcourse.timeit(case["numpy"], repeat=repeat)
        torch_s = dlcourse.timeit(case["torch"], repeat=repeat)
        ratio = numpy_s / torch_s
        # PyTorch's usual precision, for reference (not checked equal: float32 rounds)
        torch32 = case.get("torch_float32")
        torch32_s = dlcourse.timeit(torch32, repeat=repeat) if torch32 else None
        rows.append(
            dict(
                name=name,
                chapter=name[:2],
                code=case["code"],
                sizes=case["sizes"],
                numpy_s=numpy_s,
                torch_s=torch_s,
                ratio=ratio,
                torch_float32_s=torch32_s,
                within_target=ratio <= TARGET,
                outputs_equal=True,  # _close raised otherwise
                max_abs_difference=case["diff"],
                note=case["note"],
            )
        )
    return rows


if __name__ == "__main__":
    import sys

    with dlcourse.one_thread():
        for row in run(quick="--quick" in sys.argv):
            print(
                f"{row['name']:42s} {row['numpy_s'] * 1e3:9.2f} ms {row['torch_s'] * 1e3:9.2f} ms {row['ratio']:6.2f}x"
            )
