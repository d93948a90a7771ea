"""Build and run Topaz (PyPI ``topaz-em`` 0.3.20) CLI commands, returning wall-clock seconds.

The benchmarks time Topaz side by side with pickflow through these functions. Topaz is installed by
``benchmarks/topaz_setup.sh`` into its own venv; nothing of Topaz is copied here. See ``benchmarks/TOPAZ.md``.

Flags always passed (CPU machine):
* ``-d -1`` to every command (``topaz train`` and ``extract`` default to GPU 0);
* ``train``: ``--no-pretrained`` unless ``pretrained=True`` (then it fine-tunes the bundled
  resnet8_u32, Topaz's default start) and ``--num-workers 0``;
* ``extract``: an explicit ``-m MODEL`` (its default is the pretrained resnet16);
* ``-j THREADS`` plus OMP/MKL/OpenBLAS thread variables set from ``threads``.

Smoke test (synthetic 256x256 MRCs, about a minute on 2 cores)::

    python -m benchmarks.topaz_cli [--topaz-bin PATH] [--work-dir DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from benchmarks.measure import Run, run_measured
from pickflow.io.micrographs import write_mrc

DEFAULT_TOPAZ_BIN = Path.home() / ".cache" / "pickflow" / "topaz-venv" / "bin" / "topaz"
PathLike = str | os.PathLike[str]


def thread_env(threads: int) -> dict[str, str]:
    """Environment for a Topaz subprocess limited to ``threads`` CPU threads."""
    env = dict(os.environ)
    n = str(max(1, int(threads)))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[var] = n
    env["CUDA_VISIBLE_DEVICES"] = ""  # never touch a GPU even if one exists
    return env


def _run(cmd: Sequence[object], threads: int, log: Path | None = None) -> Run:
    """Run ``cmd`` with ``threads`` threads; return wall seconds and peak memory. Output goes to ``log``."""
    return run_measured(cmd, thread_env(threads), log)


def _python_of(topaz_bin: PathLike) -> str:
    """The interpreter of a ``topaz`` console script (from its shebang, else its sibling)."""
    path = Path(topaz_bin)
    try:
        first = path.read_bytes().split(b"\n", 1)[0].decode()
        if first.startswith("#!") and "python" in first:
            return first[2:].strip().split()[0]
    except OSError:
        pass
    return str(path.parent / "python")


def preprocess(
    topaz_bin: PathLike, images: Sequence[PathLike], out_dir: PathLike, scale: int = 1, threads: int = 1
) -> Run:
    """``topaz preprocess -s SCALE`` (Fourier downsample + GMM normalise) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        topaz_bin,
        "preprocess",
        "-s",
        int(scale),
        "-d",
        "-1",
        "-t",
        "0",
        "-j",
        threads,
        "--format",
        "mrc",
        "-o",
        out,
        *images,
    ]
    return _run(cmd, threads, out / "topaz_preprocess.log")


def model_path(out_prefix: PathLike, epoch: int, epochs: int) -> Path:
    """File ``topaz train --save-prefix OUT_PREFIX`` writes after ``epoch`` (of ``epochs``)."""
    digits = math.ceil(math.log10(epochs)) if epochs > 0 else 0  # Topaz's own zero-padding
    return Path(f"{out_prefix}_epoch{epoch:0{digits}d}.sav" if digits else f"{out_prefix}_epoch{epoch}.sav")


def best_epoch(tsv: Path) -> int:
    """The epoch with the best AUPRC on Topaz's own held-out ("test") images: how Topaz users pick one."""
    curve = pd.read_csv(tsv, sep="\t", na_values="-")
    held = curve[curve["split"] == "test"]
    return int(cast(int, held.set_index("epoch")["auprc"].idxmax()))


def _watch_rows(path: Path, t0: float, stop: threading.Event, times: list[float]) -> None:
    """Record the elapsed time at which each line of ``path`` appears (Topaz flushes rows)."""
    seen = 0
    while True:
        done = stop.is_set()
        try:
            n = path.read_bytes().count(b"\n")
        except OSError:
            n = 0
        now = time.perf_counter() - t0
        times.extend([now] * (n - seen))
        seen = max(seen, n)
        if done:
            return
        stop.wait(0.05)


def train(
    topaz_bin: PathLike,
    train_images_dir: PathLike,
    train_targets_txt: PathLike,
    test_images_dir: PathLike | None,
    test_targets_txt: PathLike | None,
    out_prefix: PathLike,
    *,
    model: str = "resnet8",
    units: int = 32,
    minibatch: int = 256,
    epoch_size: int,
    epochs: int,
    num_particles: int,
    radius: int = 3,
    learning_rate: float = 0.0002,
    seed: int | None = None,
    threads: int = 1,
    pretrained: bool = False,
) -> tuple[Run, Path]:
    """``topaz train`` on CPU, from scratch or (``pretrained``) from its bundled model.

    Returns (seconds and peak memory, path of the ``-o`` TSV).

    Writes ``{out_prefix}_epoch{N}.sav`` per epoch (see :func:`model_path`),
    ``{out_prefix}_training.tsv`` (Topaz's train/test curve: one ``train`` row per update,
    one ``test`` row per epoch), ``{out_prefix}_training.tsv.times`` (elapsed seconds at
    which each TSV line appeared, to split update time from test evaluation) and
    ``{out_prefix}_train.log``.

    Topaz 0.3.20 has no ``--seed``: when ``seed`` is given, Topaz is started through its
    own interpreter with python/numpy/torch seeded first and ``np.random.default_rng()``
    (unseeded in its data sampler) given seeds derived from ``seed``.
    """
    prefix = Path(out_prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    tsv = Path(f"{prefix}_training.tsv")
    args: list[object] = [
        "train",
        "-d",
        "-1",
        "--num-workers",
        "0",
        "-j",
        threads,
        *([] if pretrained else ["--no-pretrained"]),
        "--train-images",
        train_images_dir,
        "--train-targets",
        train_targets_txt,
        "-m",
        model,
        "--units",
        units,
        "--minibatch-size",
        minibatch,
        "--learning-rate",
        learning_rate,
        "--epoch-size",
        epoch_size,
        "--num-epochs",
        epochs,
        "-n",
        num_particles,
        "-r",
        radius,
        "--save-prefix",
        prefix,
        "-o",
        tsv,
    ]
    if test_images_dir is not None and test_targets_txt is not None:
        args += ["--test-images", test_images_dir, "--test-targets", test_targets_txt]
    if seed is None:
        cmd: list[object] = [topaz_bin, *args]
    else:
        boot = (
            "import sys, random, numpy as np, torch\n"
            f"s = {int(seed)}\n"
            "random.seed(s); np.random.seed(s); torch.manual_seed(s)\n"
            "_ss = np.random.SeedSequence(s); _rng = np.random.default_rng\n"
            "np.random.default_rng = lambda seed=None: _rng(_ss.spawn(1)[0] if seed is None else seed)\n"
            "from topaz.main import main\n"
            "sys.argv = ['topaz'] + sys.argv[1:]\n"
            "sys.exit(main())\n"
        )
        cmd = [_python_of(topaz_bin), "-c", boot, *args]
    tsv.unlink(missing_ok=True)
    times: list[float] = []
    stop = threading.Event()
    t0 = time.perf_counter()
    watcher = threading.Thread(target=_watch_rows, args=(tsv, t0, stop, times), daemon=True)
    watcher.start()
    try:
        run = _run(cmd, threads, Path(f"{prefix}_train.log"))
    finally:
        stop.set()
        watcher.join()
    Path(f"{tsv}.times").write_text("".join(f"{t:.3f}\n" for t in times))
    return run, tsv


def extract(
    topaz_bin: PathLike,
    model_path: PathLike,
    images: Sequence[PathLike],
    out_path: PathLike,
    radius: int,
    threshold: float = -6.0,
    threads: int = 1,
) -> Run:
    """``topaz extract`` with an explicit model on CPU; writes a coord TSV to ``out_path``."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        topaz_bin,
        "extract",
        "-d",
        "-1",
        "-m",
        model_path,
        "-r",
        radius,
        "-t",
        threshold,
        "-j",
        threads,
        "--num-workers",
        "0",
        "-o",
        out,
        *images,
    ]
    return _run(cmd, threads, Path(f"{out}.log"))


# ----------------------------------------------------------------------------- smoke test
def _synthetic(path: Path, size: int, centres: list[tuple[int, int]], rng: random.Random) -> None:
    """Noise plus dark discs (radius 10 px) at ``centres``."""
    image = np.random.default_rng(rng.randrange(2**32)).normal(size=(size, size))
    y, x = np.mgrid[:size, :size]
    for cx, cy in centres:
        image[(x - cx) ** 2 + (y - cy) ** 2 <= 100] -= 1.5
    write_mrc(path, image, 1.0)


def smoke(topaz_bin: PathLike, work_dir: Path, threads: int = 2) -> dict[str, float]:
    """Preprocess, train and extract on 4 synthetic 256x256 micrographs (x2 downsampled)."""
    rng = random.Random(0)
    raw, pre = work_dir / "raw", work_dir / "pre"
    split = {"train": ["s0", "s1", "s2"], "test": ["s3"]}
    raw.mkdir(parents=True, exist_ok=True)
    targets: dict[str, list[tuple[int, int]]] = {}
    for name in split["train"] + split["test"]:
        targets[name] = [(rng.randrange(20, 236), rng.randrange(20, 236)) for _ in range(12)]
        _synthetic(raw / f"{name}.mrc", 256, targets[name], rng)
    times = {"preprocess_s": preprocess(topaz_bin, sorted(raw.glob("*.mrc")), pre, scale=2, threads=threads).seconds}
    for part, names in split.items():
        (work_dir / part).mkdir(exist_ok=True)
        rows = ["image_name\tx_coord\ty_coord"]
        for name in names:
            link = work_dir / part / f"{name}.mrc"
            if not link.exists():
                link.symlink_to(pre / f"{name}.mrc")
            rows += [f"{name}\t{round(x / 2)}\t{round(y / 2)}" for x, y in targets[name]]
        (work_dir / f"{part}_targets.txt").write_text("\n".join(rows) + "\n")
    prefix = work_dir / "model" / "smoke"
    train_run, tsv = train(
        topaz_bin,
        work_dir / "train",
        work_dir / "train_targets.txt",
        work_dir / "test",
        work_dir / "test_targets.txt",
        prefix,
        minibatch=32,
        epoch_size=3,
        epochs=1,
        num_particles=20,
        seed=0,
        threads=threads,
    )
    picks = work_dir / "picks.txt"
    times["train_s"] = train_run.seconds
    times["extract_s"] = extract(
        topaz_bin, model_path(prefix, 1, 1), sorted(pre.glob("*.mrc")), picks, radius=5, threshold=-6, threads=threads
    ).seconds
    lines = tsv.read_text().splitlines()
    assert lines[0].startswith("epoch\titer\tsplit") and any("\ttest\t" in ln for ln in lines), lines
    assert picks.read_text().startswith("image_name"), picks.read_text()[:200]
    return times


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topaz-bin", type=Path, default=DEFAULT_TOPAZ_BIN)
    ap.add_argument("--work-dir", type=Path, default=None, help="default: a temporary directory")
    ap.add_argument("--threads", type=int, default=2)
    ns = ap.parse_args(argv)
    if not Path(ns.topaz_bin).exists():
        print(f"no Topaz at {ns.topaz_bin}; run benchmarks/topaz_setup.sh first", file=sys.stderr)
        return 2
    if ns.work_dir is None:
        with tempfile.TemporaryDirectory(prefix="topaz-smoke-") as tmp:
            times = smoke(ns.topaz_bin, Path(tmp), ns.threads)
    else:
        times = smoke(ns.topaz_bin, ns.work_dir, ns.threads)
    print("topaz smoke OK: " + ", ".join(f"{k}={v:.2f}" for k, v in times.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
