#!/usr/bin/env bash
# Stop the one-node CI SLURM cluster started by tests/slurm/start.sh.
# Stops ONLY the daemons whose PIDs start.sh recorded in /run/pickflow-slurm/,
# after cancelling jobs still queued/running in that cluster. Idempotent: no
# error when nothing is running. Packages, configs and state stay in place, so
# a later start.sh is fast.
set -euo pipefail

# shellcheck source=tests/slurm/common.sh
source "$(dirname "$0")/common.sh"
WAIT_SECS="${SLURM_STOP_WAIT_SECS:-30}"   # per daemon, before SIGKILL

say() { echo "[slurm-stop] $*"; }


[ -d "$RUN_DIR" ] || { say "nothing to stop"; exit 0; }

# Cancel leftover jobs first, so no job step outlives slurmd (only while our
# controller runs: it is our cluster, so all its jobs are ours).
if our_pid slurmctld >/dev/null && command -v squeue >/dev/null; then
    jobs=$(timeout 10 squeue -h -t PD,R,CG,S -o %A 2>/dev/null || true)
    if [ -n "$jobs" ]; then
        say "cancelling jobs: $(paste -sd' ' <<<"$jobs")"
        # shellcheck disable=SC2086  # one job id per word
        timeout 10 scancel $jobs 2>/dev/null || true
        for _ in $(seq 75); do
            [ -z "$(timeout 5 squeue -h -t R,CG -o %A 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
fi

# Reverse start order: compute node, controller, then munge (both need it).
for name in slurmd slurmctld munged; do
    if ! pid=$(our_pid "$name"); then
        rm -f "$RUN_DIR/$name.pid"          # stale record (or none): nothing to do
        continue
    fi
    say "stopping $name (PID $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((WAIT_SECS * 10))); do pid_alive "$pid" "$name" || break; sleep 0.1; done
    if pid_alive "$pid" "$name"; then
        say "$name did not exit after ${WAIT_SECS}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 50); do pid_alive "$pid" "$name" || break; sleep 0.1; done
    fi
    pid_alive "$pid" "$name" && { echo "[slurm-stop] ERROR: $name (PID $pid) still alive" >&2; exit 1; }
    rm -f "$RUN_DIR/$name.pid"
done
say "stopped"
