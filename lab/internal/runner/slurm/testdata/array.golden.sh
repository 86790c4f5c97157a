#!/bin/bash
# schedlab: array 2 of Slurm run R. Task SLURM_ARRAY_TASK_ID runs one cell
# (manifest.json in this folder) and leaves exit/<job>_<task>.json when lab exits.
set -u
case "${SLURM_ARRAY_TASK_ID:-}" in
0) cell=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ;;
1) cell=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb ;;
*) echo "schedlab: task '${SLURM_ARRAY_TASK_ID:-}' is not in array 2 of run R" >&2; exit 2 ;;
esac
'/opt/lab bin/lab' cell run '/home/u/exp'\''s.yaml' --cell "$cell" --store /shared/store --executor slurm --timeout 2h0m0s --retries 0
rc=$?
f=/shared/store/slurm/R/exit/"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.json"
host=$(hostname); host=${host//[\"\\]/}
gpus=${CUDA_VISIBLE_DEVICES:-}; gpus=${gpus//[\"\\]/}
printf '{"job_id":"%s","task":%d,"cell":"%s","exit_code":%d,"host":"%s","cuda_visible_devices":"%s","end":"%s"}\n' \
  "$SLURM_ARRAY_JOB_ID" "$SLURM_ARRAY_TASK_ID" "$cell" "$rc" "$host" "$gpus" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$f.tmp" && mv -f "$f.tmp" "$f"
exit $rc
