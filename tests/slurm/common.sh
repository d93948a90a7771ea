# Shared by start.sh and stop.sh: the PID records of the daemons start.sh started.
# shellcheck shell=bash
RUN_DIR=/run/pickflow-slurm  # our PID records (<daemon>.pid) and startup logs

# Live (non-zombie) process with the expected name? kill -0 is not enough:
# PID 1 here reaps orphans lazily, so a stopped daemon lingers as a zombie.
pid_alive() {  # pid_alive PID COMM
    local pid=$1 comm=$2 stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    stat=$({ cat "/proc/$pid/stat"; } 2>/dev/null) || return 1
    stat=${stat##*) }                     # field 3 (state) follows "(comm) "
    [ "${stat%% *}" != Z ] || return 1
    [ "$({ cat "/proc/$pid/comm"; } 2>/dev/null)" = "$comm" ]
}
# our_pid NAME -> prints the recorded PID if that daemon is still alive
our_pid() {
    local pid
    pid=$({ cat "$RUN_DIR/$1.pid"; } 2>/dev/null) || return 1
    pid_alive "$pid" "$1" && echo "$pid"
}
