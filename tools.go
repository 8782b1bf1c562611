//go:build tools

// Package tools pins the module's dependencies that no default build imports yet.
package tools

import (
	_ "github.com/dave/jennifer/jen"
	_ "github.com/klauspost/cpuid/v2"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/text/unicode/norm"
	_ "gonum.org/v1/gonum/blas/blas32"
	_ "gonum.org/v1/plot"
)
