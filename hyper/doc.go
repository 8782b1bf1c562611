// Package hyper implements the HyperGrid feed-forward layer (Tay et al., "HyperGrid
// Transformers", ICLR 2021): a GLU feed-forward layer whose weights are gated, block
// by block, by a per-example grid σ(r cᵀ) built from a task-conditioned local vector
// and/or a task-agnostic global vector.
//
// Every option of the layer is a setting of GridConfig ("ffn.hypergrid" in recipes; "hyper.grid" is its older alias): the
// composition (LG, GL, LL, GG), the grid's rows×cols (a block grid; cols 1 gives a
// row-only grid, rows 1 a column-only grid), the conditioning source (the first
// token's normalised input, the mean over real tokens, or a learned per-task
// embedding), which weights are gated (wo, wi or both), which stacks use it, and the
// gates' initial level. Gates are per example, so a batch may mix tasks; the gated
// products run on ops.GridGatedGemm and its backward kernels, at about the cost of
// the ungated layer.
package hyper
