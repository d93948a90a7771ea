"""The workflow through a real SLURM scheduler (munge + slurmctld + slurmd on this machine, fake GPUs).

start.sh beside this file installs and starts the one-node cluster (see README.md here); the users' profile
(profiles/slurm) is used unchanged, with only the CI settings given on the command line: partitions through the
environment and a short first status check. The node advertises 16 CPUs so the profile's production requests fit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from pickflow.picking.batches import score_batches
from tests.workflow.helpers import REPO, make_workdir, snakemake_argv

pytestmark = pytest.mark.slurm
HARNESS = Path(__file__).resolve().parent  # start.sh, stop.sh and common.sh of the local cluster

THREADS = ["--set-threads", "train=2", "cv_train=2", "score=2"]
CI_ONLY = ["--slurm-init-seconds-before-status-checks", "1", "--latency-wait", "5", "--verbose"]
TIMING = ["train_seconds", "eval_seconds"]
SLURM_ENV = {"SLURM_NODE_CPUS": "16", "SLURM_NODE_MEM_MB": "64000"}
# As users run it: device "auto" (the fake GPU must be detected as unusable and the job fall back to CPU).
CLUSTER_CONFIG = {
    "split": {"test_fraction": 0.25},
    "train": {"device": "auto"},
    "pick": {"device": "auto", "batch_size": 2},  # several scoring batches from 4 micrographs
}


@pytest.fixture(scope="module")
def slurm():
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("a local SLURM needs root and apt-get (Debian) to install slurmctld/slurmd/munge")
    env = {**os.environ, **SLURM_ENV}
    started = subprocess.run(["bash", str(HARNESS / "start.sh")], env=env, capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stdout + started.stderr
    yield
    subprocess.run(["bash", str(HARNESS / "stop.sh")], capture_output=True, text=True, timeout=120)


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The users' command, under a hard timeout (SIGINT: the plugin ignores SIGTERM while jobs run)."""
    return ["timeout", "-s", "INT", "-k", "30", "600", *snakemake_argv(workdir, *args)]


def cluster_env() -> dict[str, str]:
    return {**os.environ, "PICKFLOW_CPU_PARTITION": "cpu", "PICKFLOW_GPU_PARTITION": "gpu"}


def run_on_slurm(workdir: Path, *targets: str) -> subprocess.CompletedProcess:
    command = snakemake_command(workdir, *targets, "--profile", str(REPO / "profiles/slurm"), *CI_ONLY, *THREADS)
    return subprocess.run(command, capture_output=True, text=True, env=cluster_env(), cwd=workdir)


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("local"), n_micrographs=4, **CLUSTER_CONFIG)
    result = subprocess.run(
        snakemake_command(workdir, "--cores", "2", *THREADS), capture_output=True, text=True, cwd=workdir
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return workdir


@pytest.fixture(scope="module")
def slurm_run(slurm, tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("slurm"), n_micrographs=4, **CLUSTER_CONFIG)
    result = run_on_slurm(workdir)
    assert result.returncode == 0, result.stderr[-6000:]
    return workdir, result.stdout + result.stderr


def test_jobs_went_through_slurm(slurm_run):
    workdir, log = slurm_run
    job_ids = re.findall(r"SLURM jobid (\d+)", log)
    assert len(job_ids) >= 4, log[-3000:]
    queue = subprocess.run(["squeue", "--states=all", "-h", "-o", "%i %T"], capture_output=True, text=True).stdout
    finished = {line.split()[0] for line in queue.splitlines() if line.split()[1] == "COMPLETED"}
    assert set(job_ids) <= finished
    assert list((workdir / ".snakemake/slurm_logs/rule_train").glob("*.log"))


def test_per_micrograph_jobs_are_bundled(slurm_run):
    workdir, log = slurm_run
    comments = re.findall(r"sbatch call: .*?--comment (\S+)", log)
    assert sum(c.startswith("rule_preprocess") for c in comments) == 1, comments  # 4 micrographs, one submission
    assert (workdir / ".snakemake/slurm_logs/group_preprocess_preprocess").is_dir()
    keys = [p.stem for p in (workdir / "data/micrographs").glob("*.png")]
    batches = score_batches(keys, CLUSTER_CONFIG["pick"]["batch_size"])
    assert len(batches) >= 2
    assert sum(c.startswith("rule_score") for c in comments) == len(batches)  # one GPU job per scoring batch


def test_training_asked_for_a_gpu_and_fell_back_to_cpu(slurm_run):
    workdir, log = slurm_run
    train_submission = next(line for line in log.splitlines() if "sbatch call" in line and "rule_train" in line)
    assert "--gpus=1" in train_submission and "-p gpu" in train_submission
    hardware = json.loads((workdir / "results/train/summary.json").read_text())["provenance"]["hardware"]
    assert hardware["slurm_job_id"] and hardware["cuda_visible_devices"] not in (None, "")
    assert hardware["device"] == "cpu"
    train_log = (workdir / "logs/train.log").read_text()
    assert f"CUDA_VISIBLE_DEVICES={hardware['cuda_visible_devices']}): falling back to CPU" in train_log


def test_every_cross_validation_fold_asked_for_a_gpu(slurm, tmp_path):
    cv = {"enabled": True, "parameter": "learning_rate", "values": [0.002, 0.005], "folds": 2}
    config = {**CLUSTER_CONFIG, "split": {"test_fraction": 0.34}, "train": {"device": "auto", "epochs": 1}, "cv": cv}
    workdir = make_workdir(tmp_path, n_micrographs=6, **config)
    result = run_on_slurm(workdir, "results/cv/best.json")
    assert result.returncode == 0, result.stderr[-6000:]
    log = result.stdout + result.stderr
    fold_submissions = [line for line in log.splitlines() if "sbatch call" in line and "rule_cv_train" in line]
    assert len(fold_submissions) == 4, log[-3000:]  # 2 values x 2 folds, one job each
    for submission in fold_submissions:
        assert "--gpus=1" in submission and "-p gpu" in submission and "--cpus-per-gpu=2" in submission
        assert "--mem 16000" in submission, submission
    # What SLURM itself recorded for those jobs: one GPU each, on the GPU partition.
    fold_jobs = set(re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*rule_cv_train", log))
    assert len(fold_jobs) == 4, log[-3000:]
    queue = subprocess.run(
        ["squeue", "--states=all", "-h", "-O", "JobID:12,Partition:12,tres-per-job:40"],
        capture_output=True,
        text=True,
    ).stdout
    recorded = {row[0]: row[1:3] for row in (line.split() for line in queue.splitlines()) if row[0] in fold_jobs}
    assert set(recorded) == fold_jobs, queue
    for job_id, (partition, tres) in recorded.items():
        assert partition == "gpu" and "gpu:1" in tres, (job_id, partition, tres)
    assert len(list((workdir / "results/cv").glob("*/fold*/metrics.csv"))) == 4


def test_outputs_match_a_local_run(slurm_run, local_reference):
    workdir, _ = slurm_run
    for table in ("results/picks/particles.csv", "results/labels/labels.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(workdir / table), pd.read_csv(local_reference / table))
    slurm_metrics = pd.read_csv(workdir / "results/train/metrics.csv").drop(columns=TIMING)
    local_metrics = pd.read_csv(local_reference / "results/train/metrics.csv").drop(columns=TIMING)
    pd.testing.assert_frame_equal(slurm_metrics, local_metrics)


def test_a_cancelled_training_job_resumes_and_finishes(slurm, local_reference, tmp_path):
    train = {"device": "auto", "epochs": 4, "epoch_size": 25}
    workdir = make_workdir(tmp_path, n_micrographs=4, **{**CLUSTER_CONFIG, "train": train})
    command = snakemake_command(
        workdir, "results/train/model.pt", "--profile", str(REPO / "profiles/slurm"), *CI_ONLY, *THREADS
    )
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cluster_env(), cwd=workdir
    )
    resume = workdir / "results/train/resume.pt"
    deadline = time.time() + 400
    while not resume.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    if not resume.exists():
        process.kill()
        pytest.fail("training never saved an epoch:\n" + process.communicate()[0][-4000:])
    queue = subprocess.run(["squeue", "-h", "-o", "%i %k"], capture_output=True, text=True).stdout
    train_job = next(line.split()[0] for line in queue.splitlines() if "rule_train" in line)
    subprocess.run(["scancel", train_job], check=True)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-4000:]
    assert re.search(rf"SLURM jobid {train_job}\b.*|{train_job}", output)
    train_log = (workdir / "logs/train.log").read_text()
    assert re.search(r"resuming from .*resume\.pt after epoch [1-3]", train_log), train_log[-2000:]
    metrics = pd.read_csv(workdir / "results/train/metrics.csv")
    assert list(metrics["epoch"].unique()) == [1, 2, 3, 4]
    assert not resume.exists()
