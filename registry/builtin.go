package registry

import (
	"reflect"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
)

// The framework's own components. A plugin registers its own the same way, from its
// package's init function.
func init() {
	SetNoun(reflect.TypeFor[layers.FFNBuilder](), "layer")
	SetNoun(reflect.TypeFor[layers.AttentionBuilder](), "layer")

	Register("ffn.glu", func() any { return layers.DefaultGLUConfig() })
	Register("attn.t5", func() any { return layers.DefaultT5AttentionConfig() })
	Register("hyper.grid", func() any { return hyper.DefaultGridConfig() })
}
