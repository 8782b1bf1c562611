package layers

import (
	"reflect"

	"github.com/hypergrid-go/hypergrid/registry"
)

// The package's components, usable from recipes by these IDs wherever package layers
// is linked (it always is: every model is built from it).
const (
	// GLUID is the plain feed-forward layer, *GLUConfig.
	GLUID = "ffn.glu"
	// T5AttentionID is T5's attention, *T5AttentionConfig.
	T5AttentionID = "attn.t5"
)

func init() {
	registry.SetNoun(reflect.TypeFor[FFNBuilder](), "layer")
	registry.SetNoun(reflect.TypeFor[AttentionBuilder](), "layer")
	registry.Register(GLUID, func() any { return DefaultGLUConfig() })
	registry.Register(T5AttentionID, func() any { return DefaultT5AttentionConfig() })
}
