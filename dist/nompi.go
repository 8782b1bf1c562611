//go:build !mpi

package dist

// mpiBuilt reports whether the binary has the MPI implementation (-tags mpi).
const mpiBuilt = false

func openMPI() (Comm, error) { panic("dist: openMPI without -tags mpi") }
