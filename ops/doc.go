// Package ops holds the float32 numerical kernels of HyperGrid behind one Go API.
//
// Every operation is an ordinary Go function (Gemm, GridGatedGemm, Axpy, SoftmaxRows, ...).
// Each has a generic implementation written as the plainest loop, which doubles as the
// test oracle, and SIMD variants in zkernels_amd64.s / zkernels_arm64.s (declared in
// zkernels_*.go; the packers are in zpack_generated.go). Those files are written by the
// generator in ops/_generate, a module of its own that "go generate ./..." runs.
// The variant used by each operation is chosen once at start-up from the CPU's features
// (github.com/klauspost/cpuid/v2); the environment variable HYPERGRID_ISA
// (generic, avx2, avx512 or neon) overrides the choice. A value that is unknown, or that
// this CPU cannot run, is not used: the automatic choice stands and ISAError reports the
// problem, for programs that would rather stop. Describe reports what was chosen.
//
// Matrices are row-major with explicit leading dimensions: element (i, j) of a matrix
// with leading dimension ld is at index i*ld + j. Row kernels (softmax, norms) take
// rows × cols matrices stored contiguously (leading dimension cols).
//
// Nothing in this package knows about layers, models or recipes.
package ops

//go:generate go run -C _generate . -out ..
