#!/usr/bin/env bash
# Install (if needed) and start a REAL one-node SLURM cluster on this machine.
# For CI / tests only: root, Debian 12, no systemd, everything on 127.0.0.1.
# Idempotent: a second run only checks that the daemons are up (~0.5 s).
# Stop it again with tests/slurm/stop.sh (it stops only what this script started).
# Background and pitfalls: docs/slurm-local.md (shared project docs).
#
# Knobs (environment variables):
#   SLURM_FAKE_GPUS     fake GPUs in the node's gpu GRES, 1..4 (default 2)
#   SLURM_GPU_TYPE      GRES type, i.e. Snakemake's gpu_model (default testgpu)
#   SLURM_NODE_CPUS     advertise this many CPUs instead of the real ones  (config_overrides)
#   SLURM_NODE_MEM_MB   advertise this much memory instead of 90% of real  (config_overrides)
#   SLURM_CLUSTER_NAME  ClusterName (default localci)
#   SLURM_WAIT_SECS     how long to wait for the node to become idle (default 60)
set -euo pipefail

FAKE_GPUS="${SLURM_FAKE_GPUS:-2}"
GPU_TYPE="${SLURM_GPU_TYPE:-testgpu}"
NODE_CPUS="${SLURM_NODE_CPUS:-}"
NODE_MEM_MB="${SLURM_NODE_MEM_MB:-}"
CLUSTER="${SLURM_CLUSTER_NAME:-localci}"
WAIT_SECS="${SLURM_WAIT_SECS:-60}"

# shellcheck source=tests/slurm/common.sh
source "$(dirname "$0")/common.sh"
CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
STATE_DIR=/var/spool/slurm/ctld
PACKAGES=(slurmctld slurmd slurm-client munge)

T0=${EPOCHREALTIME/./}                # microseconds (bash >= 5)
say() { local us=$(( ${EPOCHREALTIME/./} - T0 )); printf '[slurm-start %3d.%01ds] %s\n' $((us/1000000)) $((us/100000%10)) "$*"; }
die() { echo "[slurm-start] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
[[ "$FAKE_GPUS" =~ ^[1-4]$ ]] || die "SLURM_FAKE_GPUS must be 1..4 (got '$FAKE_GPUS')"
[[ "$GPU_TYPE" =~ ^[A-Za-z0-9_.-]+$ ]] || die "SLURM_GPU_TYPE must be a plain word (got '$GPU_TYPE')"
[[ -z "$NODE_CPUS$NODE_MEM_MB" || "$NODE_CPUS$NODE_MEM_MB" =~ ^[0-9]+$ ]] \
    || die "SLURM_NODE_CPUS / SLURM_NODE_MEM_MB must be integers"

# On failure, show the tail of the daemon logs so CI output explains why.
on_error() {
    local rc=$?
    echo "[slurm-start] FAILED (exit $rc); last log lines:" >&2
    for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log "$RUN_DIR"/*.startup.log; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit "$rc"
}
trap on_error ERR

# stop_ours NAME: stop a daemon we started (used when the config changed)
stop_ours() {
    local pid _
    pid=$(our_pid "$1") || { rm -f "$RUN_DIR/$1.pid"; return 0; }
    say "restarting $1 (config changed): stopping PID $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do pid_alive "$pid" "$1" || break; sleep 0.1; done
    pid_alive "$pid" "$1" && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$RUN_DIR/$1.pid"
}

# --- 1. packages --------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    # Package postinsts would try to start the daemons via invoke-rc.d; a
    # policy-rc.d that exits 101 forbids that. Install a temporary one if absent.
    tmp_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        tmp_policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' > "$tmp_policy"; chmod 755 "$tmp_policy"
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
    if [ -n "$tmp_policy" ]; then rm -f "$tmp_policy"; trap - EXIT; fi
    say "packages installed"
fi

# --- 2. host name must resolve (daemons bind to what it resolves to) ----------
NODE=$(hostname -s)
addr=$(getent ahostsv4 "$NODE" 2>/dev/null | awk 'NR==1{print $1}') || true
if [ -z "$addr" ]; then
    say "adding '127.0.0.1 $NODE' to /etc/hosts"
    echo "127.0.0.1 $NODE" >> /etc/hosts
elif [[ "$addr" != 127.* ]]; then
    echo "[slurm-start] WARNING: $NODE resolves to $addr (not loopback); daemons may listen there" >&2
fi

# --- 3. configuration -----------------------------------------------------------
mkdir -p "$RUN_DIR" "$CONF_DIR" "$LOG_DIR" "$STATE_DIR" /var/spool/slurm/d /run/slurm

# Node shape from slurmd -C ("CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2
# ThreadsPerCore=1 RealMemory=24105"); RealMemory is cut to 90% so slurmd never
# detects less than configured (which would drain the node).
shape=$(slurmd -C | head -n1 | sed 's/^NodeName=[^ ]* //')
real_mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$shape")
[ -n "$real_mem" ] || die "cannot parse 'slurmd -C' output: $shape"
shape=${shape/ RealMemory=$real_mem/}
mem=$(( real_mem * 9 / 10 ))
task_plugin=task/affinity
slurmd_params="#SlurmdParameters=config_overrides   (SLURM_NODE_CPUS/SLURM_NODE_MEM_MB unset)"
if [ -n "$NODE_CPUS$NODE_MEM_MB" ]; then
    # Advertise a bigger (fake) node: slurmd trusts slurm.conf instead of the
    # hardware. No real CPUs to pin to, so no affinity plugin (doc pitfall 8).
    [ -n "$NODE_CPUS" ] && shape="CPUs=$NODE_CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$NODE_CPUS ThreadsPerCore=1"
    [ -n "$NODE_MEM_MB" ] && mem=$NODE_MEM_MB
    task_plugin=task/none
    slurmd_params="SlurmdParameters=config_overrides"
fi

# Fake GPU device files: a GPU GRES without File= is dropped by slurmd and the
# node drains (doc pitfall 2). Any existing char devices will do.
gpu_files=$(printf '%s\n' /dev/null /dev/zero /dev/full /dev/urandom | head -n "$FAKE_GPUS" | paste -sd,)

new_conf=$(cat <<EOF
# Generated by tests/slurm/start.sh -- one-node CI cluster, loopback only.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
# Bind to the address the host name resolves to (127.0.0.1), not 0.0.0.0.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=/var/spool/slurm/d
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=$task_plugin
${slurmd_params}
MpiDefault=none
ReturnToService=2
JobRequeue=0
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default a job without --mem gets the whole node (doc pitfall 3).
DefMemPerCPU=1000
# Keep finished jobs visible to squeue for 10 min: the Snakemake plugin's
# squeue status mode needs MinJobAge >= 3 x its init seconds (doc pitfall 1).
MinJobAge=600
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$NODE NodeAddr=127.0.0.1 $shape RealMemory=$mem Gres=gpu:$GPU_TYPE:$FAKE_GPUS State=UNKNOWN
PartitionName=cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$NODE MaxTime=INFINITE State=UP
EOF
)
new_gres=$(cat <<EOF
# Generated by tests/slurm/start.sh -- fake GPUs (nothing touches these devices).
AutoDetect=off
NodeName=$NODE Name=gpu Type=$GPU_TYPE File=$gpu_files
EOF
)

# Write a file only if its content changed; remember that a restart is needed.
changed=0
put() {  # put FILE CONTENT
    if [ "$({ cat "$1"; } 2>/dev/null)" != "$2" ]; then
        printf '%s\n' "$2" > "$1"; chmod 644 "$1"; changed=1
        say "wrote $1"
    fi
}
put "$CONF_DIR/slurm.conf" "$new_conf"
put "$CONF_DIR/gres.conf" "$new_gres"

# slurmctld refuses to start if the saved state belongs to another ClusterName.
if [ -f "$STATE_DIR/clustername" ] && [ "$(cat "$STATE_DIR/clustername")" != "$CLUSTER" ]; then
    say "ClusterName changed: discarding old controller state"
    stop_ours slurmctld
    rm -rf "${STATE_DIR:?}"/*
fi
# GRES / node changes need both daemons restarted; 'scontrol reconfigure' is not enough.
if [ "$changed" = 1 ]; then stop_ours slurmd; stop_ours slurmctld; fi

# --- 4. daemons -----------------------------------------------------------------
# start_daemon NAME DAEMON_PIDFILE CMD...: start a self-daemonizing daemon unless
# ours is alive, then copy the PID it writes into $RUN_DIR/NAME.pid.
start_daemon() {
    local name=$1 dpid=$2 pid _; shift 2
    if pid=$(our_pid "$name"); then say "$name already running (PID $pid)"; return 0; fi
    # Someone else's daemon (not ours to stop): use it but do not record it.
    pid=$({ cat "$dpid"; } 2>/dev/null) || pid=""
    if [ -n "$pid" ] && pid_alive "$pid" "$name"; then
        echo "[slurm-start] WARNING: $name PID $pid was not started by this script; using it as is" >&2
        return 0
    fi
    rm -f "$dpid" "$RUN_DIR/$name.pid"
    # std fds to files/null, so the daemon never holds a CI pipe open.
    "$@" </dev/null >"$RUN_DIR/$name.startup.log" 2>&1 || die "$name failed to start (see $RUN_DIR/$name.startup.log)"
    for _ in $(seq 100); do
        pid=$({ cat "$dpid"; } 2>/dev/null) || pid=""
        [ -n "$pid" ] && pid_alive "$pid" "$name" && break
        sleep 0.1
    done
    pid_alive "$pid" "$name" || die "$name did not come up (no live PID in $dpid)"
    echo "$pid" > "$RUN_DIR/$name.pid"
    say "started $name (PID $pid)"
}

# munge: key created by the package postinst; munged insists on strict modes.
[ -s /etc/munge/munge.key ] || runuser -u munge -- /usr/sbin/mungekey --create 2>/dev/null \
    || die "no /etc/munge/munge.key"
chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge       # systemd's RuntimeDirectory
start_daemon munged /run/munge/munged.pid runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null || die "munge self-test failed"

start_daemon slurmctld /run/slurm/slurmctld.pid /usr/sbin/slurmctld
start_daemon slurmd /run/slurm/slurmd.pid /usr/sbin/slurmd

# --- 5. wait until the node is idle ----------------------------------------------
deadline=$(( $(date +%s) + WAIT_SECS ))
resumed=0
while :; do
    state=$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -n1) || state=""
    case "$state" in
        idle|mixed|allocated|completing) break ;;
        *drain*|*inval*|*down*)
            # A drain can survive in StateSaveLocation from an earlier bad config.
            if [ "$resumed" = 0 ]; then
                say "node is '$state' ($(sinfo -h -N -n "$NODE" -o %E 2>/dev/null | head -n1)); resuming"
                scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
                resumed=1
            fi ;;
    esac
    [ "$(date +%s)" -lt "$deadline" ] || die "node '$NODE' not idle after ${WAIT_SECS}s (state: '${state:-no answer}')"
    sleep 0.2
done

# Loopback only: warn about any slurm/munge listener that is not on 127.x.
if command -v ss >/dev/null; then
    if ss -ltnpH 2>/dev/null | grep -E 'slurm|munge' | awk '{print $4}' | grep -vqE '^127\.|^\[::1\]'; then
        echo "[slurm-start] WARNING: a slurm daemon listens on a non-loopback address:" >&2
        ss -ltnp | grep -E 'slurm' >&2 || true
    fi
fi
say "SLURM ready: node $NODE $state; partitions: $(sinfo -h -o %P | paste -sd' ')"
