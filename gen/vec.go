package main

import "github.com/dave/jennifer/jen"

// vecAMD64 returns the amd64 elementwise, row and reduction kernels and their
// registrations with the dispatcher.
func vecAMD64() ([]*fn, []jen.Code) { return nil, nil }

// vecARM64 returns the arm64 elementwise, row and reduction kernels and their
// registrations with the dispatcher.
func vecARM64() ([]*fn, []jen.Code) { return nil, nil }
