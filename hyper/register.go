package hyper

import "github.com/hypergrid-go/hypergrid/registry"

const (
	// ID is the recipe type of the HyperGrid feed-forward layer, *GridConfig.
	ID = "ffn.hypergrid"
	// LegacyID is the layer's first ID, kept as an alias so that recipes and
	// checkpoints written with it still load.
	LegacyID = "hyper.grid"
	// ParamGroup is the autograd.Param Group of the gates' parameters (local
	// projections, global vectors, task embeddings), for reports.
	ParamGroup = "hypergrid"
)

func init() {
	registry.Register(ID, func() any { return DefaultGridConfig() })
	registry.Alias(LegacyID, ID)
}
