// Command _generate generates the SIMD kernels of package ops: assembly for amd64
// (AVX2+FMA, AVX-512) and arm64 (NEON), and the Go files that declare them and register
// them with the dispatcher. It is a module of its own, so that its dependencies (jennifer)
// are not dependencies of the library, and the leading underscore keeps it out of the
// library's ./... patterns.
//
// Run it through "go generate ./..." from the repository root: ops/doc.go holds the
// directive "go run -C _generate . -out ..", which writes into the ops directory. Its
// output is committed, and running it again must change nothing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"

	"github.com/dave/jennifer/jen"
)

// target is one architecture's generated pair of files.
type target struct {
	arch     string     // GOARCH
	fns      []*fn      // assembly functions
	register []jen.Code // Go statements that hand the kernels to the dispatcher
}

func main() {
	out := flag.String("out", "..", "directory of package ops to write the generated files into")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	for _, t := range []target{amd64Target(), arm64Target()} {
		if err := write(*out, t); err != nil {
			log.Fatal(err)
		}
	}
	if err := writeGo(filepath.Join(*out, "zpack_generated.go"), packFile()); err != nil {
		log.Fatal(err)
	}
}

func amd64Target() target {
	t := target{arch: "amd64"}
	for _, x := range []x86{avx2, avx512} {
		xg := x.gradShape()
		k, ks, gka, gk, g, gr, sr := x.gemmKernel(false), x.gemmKernel(true), xg.gemmKernel(false), xg.gemmKernel(true), xg.gatedGradKernel(), x.gateRowsKernel(), x.scaleRowsKernel()
		kd, kds := x.gemmKernelDirect(false), x.gemmKernelDirect(true)
		t.fns = append(t.fns, k, ks, kd, kds, gka, gk, g, gr, sr)
		copiers := map[int]*fn{}
		for _, w := range []int{x.mr, x.nr(), xg.mr} {
			if copiers[w] == nil {
				copiers[w] = x.copyGroupsKernel(w)
				t.fns = append(t.fns, copiers[w])
			}
		}
		interleaves := map[int]*fn{}
		if x.reg == "Z" {
			for _, w := range []int{x.mr, xg.mr, x.nr()} {
				if interleaves[w] == nil && w%4 == 0 {
					interleaves[w] = x.interleaveKernel(w)
					t.fns = append(t.fns, interleaves[w])
				}
			}
		}
		gv, gg, ex := x.gemvKernel(false), x.gemvKernel(true), x.expandRunsKernel()
		t.fns = append(t.fns, gv, gg, ex)
		t.register = append(t.register, registerGemm(x.name, x.mr, x.nr(), xg.mr, k, ks, kd, kds, gka, gk, g, gr, sr, gv, gg, ex, gemvRegs*x.lanes, copiers, interleaves))
		pk := x.peakKernel()
		t.fns = append(t.fns, pk)
		t.register = append(t.register, registerPeak(x.name, pk, peakAccs(x.nregs), x.lanes))
		t.fns = append(t.fns, x.dropoutMasksKernel()) // registered by ops/dropout_mask_amd64.go
	}
	t.fns = append(t.fns, prefetchKernelX86()) // used by ops/prefetch_amd64.go
	fns, reg := vecAMD64()
	t.fns = append(t.fns, fns...)
	t.register = append(t.register, reg...)
	return t
}

func arm64Target() target {
	t := target{arch: "arm64"}
	k, ks, g, gr, sr := neon.gemmKernel(false), neon.gemmKernel(true), neon.gatedGradKernel(), neon.gateRowsKernel(), neon.scaleRowsKernel()
	t.fns = append(t.fns, k, ks, g, gr, sr)
	copiers := map[int]*fn{}
	for _, w := range []int{neon.mr, neon.nr()} {
		if copiers[w] == nil {
			copiers[w] = neon.copyGroupsKernel(w)
			t.fns = append(t.fns, copiers[w])
		}
	}
	gv, gg, ex := neon.gemvKernel(false), neon.gemvKernel(true), neon.expandRunsKernel()
	t.fns = append(t.fns, gv, gg, ex)
	t.register = append(t.register, registerGemm("NEON", neon.mr, neon.nr(), neon.gradShape().mr, k, ks, nil, nil, k, ks, g, gr, sr, gv, gg, ex, gemvRegs*4, copiers, nil))
	pk := neon.peakKernel()
	t.fns = append(t.fns, pk)
	t.register = append(t.register, registerPeak("NEON", pk, peakAccs(32), 4))
	t.fns = append(t.fns, neon.dropoutMasksKernel()) // registered by ops/dropout_mask_arm64.go
	t.fns = append(t.fns, neon.prefetchKernel())     // used by ops/prefetch_arm64.go
	fns, reg := vecARM64()
	t.fns = append(t.fns, fns...)
	t.register = append(t.register, reg...)
	return t
}

// registerGemm hands one ISA's matmul kernels to the blocked Gemm driver (direct and
// directSet, the kernels that read A in place, may be nil).
func registerGemm(isa string, mr, nr, gradMR int, kernel, kernelSet, direct, directSet, gradKernelAdd, gradKernel, grad, gate, scale, gemv, gemvGated, expand *fn, gemvWidth int, copiers, interleaves map[int]*fn) jen.Code {
	sc := jen.Dict{}
	for w, f := range copiers {
		sc[jen.Lit(w)] = jen.Id(f.name)
	}
	il := jen.Dict{}
	for w, f := range interleaves {
		il[jen.Lit(w)] = jen.Id(f.name)
	}
	d := jen.Dict{
		jen.Id("isa"):            jen.Id(isa),
		jen.Id("mr"):             jen.Lit(mr),
		jen.Id("nr"):             jen.Lit(nr),
		jen.Id("kernel"):         jen.Id(kernel.name),
		jen.Id("kernelSet"):      jen.Id(kernelSet.name),
		jen.Id("gradMR"):         jen.Lit(gradMR),
		jen.Id("gradKernelSet"):  jen.Id(gradKernel.name),
		jen.Id("gradKernel"):     jen.Id(gradKernelAdd.name),
		jen.Id("gradTile"):       jen.Id(grad.name),
		jen.Id("gateRows"):       jen.Id(gate.name),
		jen.Id("scaleRows"):      jen.Id(scale.name),
		jen.Id("gemvStrip"):      jen.Id(gemv.name),
		jen.Id("gemvGatedStrip"): jen.Id(gemvGated.name),
		jen.Id("expandRuns"):     jen.Id(expand.name),
		jen.Id("gemvWidth"):      jen.Lit(gemvWidth),
		jen.Id("copyGroups"):     jen.Map(jen.Int()).Func().Params(jen.Id("n").Int(), jen.Id("dst"), jen.Id("src").Op("*").Float32(), jen.Id("dstStride"), jen.Id("srcStride").Int()).Values(sc),
		jen.Id("interleave"):     jen.Map(jen.Int()).Func().Params(jen.Id("blocks").Int(), jen.Id("dst"), jen.Id("src").Op("*").Float32(), jen.Id("ld").Int(), jen.Id("alpha").Float32()).Values(il),
	}
	if direct != nil {
		d[jen.Id("kernelDirect")] = jen.Id(direct.name)
		d[jen.Id("kernelDirectSet")] = jen.Id(directSet.name)
	}
	return jen.Var().Id("_").Op("=").Id("registerGemmKernels").Call(jen.Op("&").Id("gemmKernels").Values(d))
}

func write(dir string, t target) error {
	tag := t.arch + " && !purego"
	s := asmFile(tag, t.fns)
	if err := writeFile(filepath.Join(dir, "zkernels_"+t.arch+".s"), []byte(s)); err != nil {
		return err
	}
	f := jen.NewFile("ops")
	f.HeaderComment("Code generated by go run ./gen; DO NOT EDIT.")
	f.HeaderComment("//go:build " + tag)
	for _, k := range t.fns {
		var ps, rs []jen.Code
		for _, p := range k.params {
			ps = append(ps, jen.Id(p.name).Op(p.typ))
		}
		for _, r := range k.results {
			rs = append(rs, jen.Id(r.name).Op(r.typ))
		}
		f.Comment(k.name + " " + k.doc)
		f.Comment("//go:noescape")
		decl := jen.Func().Id(k.name).Params(ps...)
		if len(rs) > 0 {
			decl = decl.Params(rs...)
		}
		f.Add(decl)
		f.Line()
	}
	for _, r := range t.register {
		f.Add(r)
	}
	return writeGo(filepath.Join(dir, "zkernels_"+t.arch+".go"), f)
}

// writeGo renders, formats and writes a generated Go file.
func writeGo(path string, f *jen.File) error {
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return fmt.Errorf("formatting %s: %w", path, err)
	}
	return writeFile(path, src)
}

// writeFile replaces path atomically, and leaves it untouched when the content is equal.
func writeFile(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
