package autograd

// SetFFNBlockRows makes GatedFFN run blocks of rows rows (0: its own choice) and
// returns the previous setting, so tests cover several blocks on small shapes.
func SetFFNBlockRows(rows int) int {
	prev := ffnRowsOverride
	ffnRowsOverride = rows
	return prev
}

// SetLinearCrossEntropyRows makes LinearCrossEntropy run blocks of rows rows (0: its
// own choice) and returns the previous setting.
func SetLinearCrossEntropyRows(rows int) int {
	prev := linearCERowsOverride
	linearCERowsOverride = rows
	return prev
}

// SetFFNGateCopies makes GridGatedFFN gate one copy of its output weight per example for
// all of the example's blocks (true, its way) or leave the gating to each block's
// grid-gated product, and returns the previous setting.
func SetFFNGateCopies(on bool) bool {
	prev := ffnGateCopies
	ffnGateCopies = on
	return prev
}
