package darts

import (
	"math/rand"
	"sort"
	"strings"
	"testing"
)

func randomKeys(r *rand.Rand, n int, alphabet string) []string {
	set := map[string]bool{}
	for len(set) < n {
		l := 1 + r.Intn(6)
		var sb strings.Builder
		for i := 0; i < l; i++ {
			sb.WriteByte(alphabet[r.Intn(len(alphabet))])
		}
		set[sb.String()] = true
	}
	keys := make([]string, 0, n)
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestBuildAndSearch(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	tests := []struct {
		name     string
		n        int
		alphabet string
	}{
		{"small", 5, "ab"},
		{"ascii", 500, "abcdefghij"},
		{"bytes", 3000, "a\x01\x7f\x80\xe2\x96\x81\xff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := randomKeys(r, tc.n, tc.alphabet)
			vals := make([]int32, len(keys))
			want := map[string]int32{}
			for i := range keys {
				vals[i] = int32(r.Intn(1 << 30))
				want[keys[i]] = vals[i]
			}
			tr, err := Build(keys, vals)
			if err != nil {
				t.Fatal(err)
			}
			// Round trip through bytes.
			tr2, err := FromBytes(tr.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range keys {
				v, ok := tr2.ExactMatch(k)
				if !ok || v != vals[i] {
					t.Fatalf("ExactMatch(%q) = %d,%v want %d", k, v, ok, vals[i])
				}
			}
			// Probe random strings against a brute-force prefix search.
			for i := 0; i < 2000; i++ {
				probe := randomKeys(r, 1, tc.alphabet+"z")[0] + randomKeys(r, 1, tc.alphabet)[0]
				var exp []Match
				for l := 1; l <= len(probe); l++ {
					if v, ok := want[probe[:l]]; ok {
						exp = append(exp, Match{v, l})
					}
				}
				got := tr2.CommonPrefixSearch(probe, nil)
				if len(got) != len(exp) {
					t.Fatalf("CommonPrefixSearch(%q) = %v want %v", probe, got, exp)
				}
				for j := range got {
					if got[j] != exp[j] {
						t.Fatalf("CommonPrefixSearch(%q) = %v want %v", probe, got, exp)
					}
				}
				v, ok := tr2.ExactMatch(probe)
				wv, wok := want[probe]
				if ok != wok || v != wv {
					t.Fatalf("ExactMatch(%q) = %d,%v want %d,%v", probe, v, ok, wv, wok)
				}
				// Traverse byte by byte agrees with ExactMatch on every prefix.
				var node uint32
				pos := 0
				for l := 1; l <= len(probe); l++ {
					res := tr2.Traverse(probe, &node, &pos, l)
					wv, wok := want[probe[:l]]
					if res == NoNode {
						if wok {
							t.Fatalf("Traverse lost %q", probe[:l])
						}
						break
					}
					if wok != (res >= 0) || (wok && res != wv) {
						t.Fatalf("Traverse(%q) = %d want %d,%v", probe[:l], res, wv, wok)
					}
				}
			}
			n := 0
			if err := tr2.Visit(64, func(k []byte, v int32) error {
				if want[string(k)] != v {
					t.Errorf("Visit %q=%d want %d", k, v, want[string(k)])
				}
				n++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if n != len(keys) {
				t.Errorf("Visit saw %d keys, want %d", n, len(keys))
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{"unsorted", []string{"b", "a"}},
		{"duplicate", []string{"a", "a"}},
		{"empty", []string{""}},
		{"zero byte", []string{"a\x00b"}},
	}
	for _, tc := range tests {
		if _, err := Build(tc.keys, make([]int32, len(tc.keys))); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestCorruptTrieDoesNotPanic(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 200; i++ {
		u := make([]uint32, r.Intn(20))
		for j := range u {
			u[j] = r.Uint32()
		}
		tr := FromUnits(u)
		tr.CommonPrefixSearch("abc\xff", nil)
		tr.ExactMatch("ab")
		var node uint32
		pos := 0
		tr.Traverse("abc", &node, &pos, 3)
		_ = tr.Visit(8, func([]byte, int32) error { return nil })
	}
}

// FuzzTrie reads arbitrary bytes as a double array: lookups must not panic.
func FuzzTrie(f *testing.F) {
	tr, _ := Build([]string{"a", "ab", "b\xe2\x96\x81"}, []int32{1, 2, 3})
	f.Add(tr.Bytes(), "ab")
	f.Add([]byte{1, 2, 3, 4}, "\x00a")
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		tr, err := FromBytes(b[:len(b)/4*4])
		if err != nil {
			t.Fatal(err)
		}
		tr.CommonPrefixSearch(key, nil)
		tr.ExactMatch(key)
		var node uint32
		pos := 0
		tr.Traverse(key, &node, &pos, len(key))
		_ = tr.Visit(16, func([]byte, int32) error { return nil })
	})
}
