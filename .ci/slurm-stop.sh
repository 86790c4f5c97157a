#!/bin/bash
# Stop the daemons started by .ci/slurm-setup.sh (a copy of the shared recipe stop-slurm.sh), by PID file (slurmd, slurmctld, munged).
BASE=${BASE:-/tmp/slurm-ci}
for f in "$BASE/run/slurmd.pid" "$BASE/run/slurmctld.pid" /run/munge/munged.pid; do
  [ -s "$f" ] || continue
  pid=$(cat "$f"); kill -TERM "$pid" 2>/dev/null || continue
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && echo "still running: $f ($pid)" || echo "stopped $f ($pid)"
done
