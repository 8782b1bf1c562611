# Sourced by the peer benchmarks: stops them when the BLAS that numpy and torch load
# (libblas.so.3, chosen by Debian's alternatives) is not OpenBLAS. python3-torch pulls in
# only the reference BLAS, about 5 GFLOP/s on a 1024³ product where OpenBLAS gives
# 140-200: a peer measured on it makes every ratio meaningless.
require_openblas() {
  local lib
  lib=$(/sbin/ldconfig -p | awk '/libblas\.so\.3 /{print $NF; exit}')
  lib=$(readlink -f "${lib:-/nonexistent}")
  if [[ $lib != *openblas* ]]; then
    echo "the peer's BLAS (libblas.so.3) is ${lib:-missing}, not OpenBLAS: its figures would be" >&2
    echo "the reference BLAS's. Install it first: apt-get install -y libopenblas0-pthread" >&2
    return 1
  fi
}
