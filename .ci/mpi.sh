#!/usr/bin/env bash
# CI for distributed training over MPI (issue 12): installs OpenMPI if missing, builds
# and vets the module with -tags mpi (the cgo layer in dist/), checks that the default
# build stays cgo-free, then runs the MPI tests: dist's collectives on 2 ranks, and the
# CLI's 2-rank tests (2 ranks = 1 process within 1e-5, kill -9 and --resume, a failed
# rank ends the job). Called by .ci/run; runs on its own too: .ci/mpi.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== mpi: %s\n' "$*"; }

step "install OpenMPI"
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq openmpi-bin libopenmpi-dev pkg-config >/dev/null
fi
mpirun --version | head -1

step "the default build does not link MPI (pure Go, cgo-free)"
if [[ $(go list -f '{{.CgoFiles}}' ./dist/) != "[]" ]]; then
  echo "dist/ has cgo files without -tags mpi: $(go list -f '{{.CgoFiles}}' ./dist/)"; exit 1
fi
if [[ $(go list -tags mpi -f '{{.CgoFiles}}' ./dist/) == "[]" ]]; then
  echo "dist/ has no cgo files with -tags mpi"; exit 1
fi
CGO_ENABLED=0 go build -o /dev/null ./cmd/hypergrid

step "build and vet with -tags mpi"
go build -tags mpi ./...
go vet -tags mpi ./dist/ ./train/ ./job/ ./cmd/hypergrid/

# mpirun refuses root without --allow-run-as-root, and more ranks than cores without
# --oversubscribe; CI machines have 2 cores.
MPIRUN=(mpirun --oversubscribe --allow-run-as-root --bind-to none)

step "dist: collectives on 2 and 3 ranks"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -tags mpi -c -o "$tmp/dist.test" ./dist/
for np in 2 3; do
  "${MPIRUN[@]}" -np $np "$tmp/dist.test" -test.run 'TestMPI' -test.count=1
done

step "cmd: 2-rank training tests"
go test -tags mpi -count=1 -run 'TestMPI|TestTrainCommand' ./cmd/hypergrid/
go test -tags mpi -count=1 -run 'TestDataParallel|TestGradAccum' ./train/

step "ok"
