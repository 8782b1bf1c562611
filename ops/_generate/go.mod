module github.com/hypergrid-go/hypergrid/ops/_generate

go 1.26.0

require github.com/dave/jennifer v1.7.1
