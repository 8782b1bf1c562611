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
