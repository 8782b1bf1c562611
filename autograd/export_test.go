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

// SetFFNGateCopies makes GridGatedFFN gate one copy of its output weight per example
// for all of the example's blocks where examples span blocks (0, its way), always (1) or
// never (-1: each block's grid-gated product gates its own), and returns the previous
// setting.
func SetFFNGateCopies(mode int) int {
	prev := ffnGateCopies
	ffnGateCopies = mode
	return prev
}
