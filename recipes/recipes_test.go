package recipes

import (
	"os"
	"reflect"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"default", "encoder-classifier", "glue-mini", "glue-mini-hypergrid", "t5-mini", "t5-mini-hypergrid"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestLookupAndReadFile(t *testing.T) {
	tests := []struct {
		name, file string
		ok         bool
	}{
		{"t5-mini", "t5-mini.yaml", true},
		{"t5-mini.yaml", "t5-mini.yaml", true},
		{"t5-maxi", "", false},
		{"../recipes/t5-mini", "", false},
		{"sub/t5-mini", "", false},
	}
	for _, tc := range tests {
		file, ok := Lookup(tc.name)
		if file != tc.file || ok != tc.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.name, file, ok, tc.file, tc.ok)
		}
	}
	// The embedded copy is the file on disk.
	for _, n := range Names() {
		emb, err := ReadFile(n + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		disk, err := os.ReadFile(n + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		if string(emb) != string(disk) {
			t.Errorf("embedded %s differs from the file", n)
		}
	}
	if _, err := ReadFile("missing.yaml"); err == nil {
		t.Error("ReadFile of a missing recipe succeeded")
	}
}
