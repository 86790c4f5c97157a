#!/bin/bash
# Single-node Slurm 22.05 (Debian 12 slurm-wlm) for CI. Run as root. No systemd needed.
# Usage: BASE=/tmp/slurm FAKE_GPUS=4 .ci/slurm-setup.sh ; then: export SLURM_CONF=$BASE/etc/slurm.conf
# Stop the daemons with BASE=/tmp/slurm .ci/slurm-stop.sh (by PID file).
# A copy of the shared recipe setup-slurm.sh; two changes: a fresh state folder at each start, and SlurmdParameters=config_overrides,
# without which slurmd 22.05 drains the node (state INVAL, "Low CPUs") when CPUS > nproc.
set -euo pipefail
BASE=${BASE:-/tmp/slurm-ci}
FAKE_GPUS=${FAKE_GPUS:-0}          # >0: fake gres/gpu via mknod char devices
CPUS=${CPUS:-$(nproc)}             # may be set > nproc to run more tasks at once
MEM=$(( $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) * 9 / 10 ))
export DEBIAN_FRONTEND=noninteractive

t0=$(date +%s.%N)
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
t1=$(date +%s.%N)

# A CI cluster starts empty: jobs recovered from an earlier run's state would
# hold the node (state "mixed", never "idle") and confuse the tests.
rm -rf "$BASE/state" "$BASE/spool"
mkdir -p "$BASE"/{etc,state,spool,log,run}
# --- munge (postinst normally creates the key; make sure) ---
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged            # forks; pid in /run/munge/munged.pid
fi
munge -n | unmunge >/dev/null

# --- slurm.conf ---
GRES_NODE=""; GRES_TYPES=""
if [ "$FAKE_GPUS" -gt 0 ]; then
  mkdir -p "$BASE/fakedev"
  for i in $(seq 0 $((FAKE_GPUS-1))); do
    [ -c "$BASE/fakedev/nvidia$i" ] || mknod "$BASE/fakedev/nvidia$i" c 195 "$i"
  done
  GRES_NODE="Gres=gpu:$FAKE_GPUS"; GRES_TYPES="GresTypes=gpu"
  printf 'AutoDetect=off\nName=gpu File=%s/fakedev/nvidia[0-%d]\n' "$BASE" $((FAKE_GPUS-1)) > "$BASE/etc/gres.conf"
fi
cat > "$BASE/etc/slurm.conf" <<EOF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=3600
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
$GRES_TYPES
NodeName=localhost CPUs=$CPUS RealMemory=$MEM $GRES_NODE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$BASE/etc/slurm.conf

# --- daemons (both fork and write pid files) ---
slurmctld
slurmd
timeout 60 bash -c 'until sinfo -h -o %T 2>/dev/null | grep -qx idle; do sleep 0.2; done'
t2=$(date +%s.%N)
sinfo -o '%P %N %T %c %G'
printf 'install=%.1fs start=%.1fs\nexport SLURM_CONF=%s\n' "$(echo "$t1-$t0"|bc)" "$(echo "$t2-$t1"|bc)" "$SLURM_CONF"
