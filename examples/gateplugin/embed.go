package gateplugin

import _ "embed"

// Recipe is the example's recipe.yaml: a small encoder-decoder using gateplugin.grid.
//
//go:embed recipe.yaml
var Recipe []byte
