package golden_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/golden"
)

// printTB stands in for a test's *testing.T so that the example can run Check outside
// a test: it prints what Check reports instead of failing a test.
type printTB struct {
	testing.TB
	name string
}

func (p printTB) Helper()      {}
func (p printTB) Name() string { return p.name }
func (p printTB) Errorf(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
}
func (p printTB) Logf(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
}

// A test renders its output and checks it against testdata/example.golden: equal
// output passes silently. When the output changes, Check fails the test with the
// report Diff writes (and the go test command that accepts the change, here
// "go test ./internal/golden -run '^TestEvalTable$' -update"). In a real test, pass
// the test's t.
func ExampleCheck() {
	var t testing.TB = printTB{name: "TestEvalTable"}
	out := []byte("eval at step 1000\ntask  accuracy  score\nmrpc     85.00  85.00\nsst2     91.20  91.20\n")
	golden.Check(t, "testdata/example.golden", out)

	// What a failing Check would report if mrpc's accuracy changed:
	want, err := os.ReadFile("testdata/example.golden")
	if err != nil {
		fmt.Println(err)
		return
	}
	changed := []byte("eval at step 1000\ntask  accuracy  score\nmrpc     86.00  86.00\nsst2     91.20  91.20\n")
	fmt.Println(golden.Diff(changed, want))
	// Output:
	// first difference at line 3 (got 4 lines, want 4):
	//     line 1: "eval at step 1000\n"
	//     line 2: "task  accuracy  score\n"
	//   - want 3: "mrpc     85.00  85.00\n"
	//   + got  3: "mrpc     86.00  86.00\n"
}
