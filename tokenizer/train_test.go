package tokenizer

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func TestTrainOptionErrors(t *testing.T) {
	in := []string{"testdata/corpus.txt"}
	tests := []struct {
		name string
		opts TrainOptions
		want string
	}{
		{"no input", TrainOptions{}, "no training text"},
		{"missing file", TrainOptions{Inputs: []string{"testdata/none.txt"}}, "none.txt"},
		{"bad type", TrainOptions{Inputs: in, Type: Word}, "cannot be trained"},
		{"coverage", TrainOptions{Inputs: in, CharacterCoverage: 0.5}, "character coverage"},
		{"vocab too small", TrainOptions{Inputs: in, VocabSize: 20}, "smaller than the"},
		{"vocab too large", TrainOptions{Inputs: in, VocabSize: 50000, Type: BPE}, "too large for this text"},
		{"id outside vocab", TrainOptions{Inputs: in, VocabSize: 300, Special: &SpecialIDs{Unk: 400, Pad: -1, EOS: -1, BOS: -1}}, "outside the vocabulary"},
		{"id clash", TrainOptions{Inputs: in, Special: &SpecialIDs{Unk: 1, Pad: 1, EOS: -1, BOS: -1}}, "already taken"},
		{"no unk", TrainOptions{Inputs: in, Special: &SpecialIDs{Unk: -1, Pad: 0, EOS: 1, BOS: -1}}, "unknown piece needs an ID"},
		{"duplicate symbol", TrainOptions{Inputs: in, UserDefinedSymbols: []string{"x", "x"}}, "defined twice"},
		{"bad normalization", TrainOptions{Inputs: in, Normalization: "nfd"}, "unknown normalization"},
		{"empty after normalization", TrainOptions{Sentences: []string{"\x01\x02", "   "}}, "empty after normalization"},
	}
	for _, tc := range tests {
		_, err := Train(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestTrainedVocabulary(t *testing.T) {
	for _, name := range []string{"unigram", "bpe", "unigram-bytes", "bpe-bytes"} {
		m := testModel(t, name)
		opts := testModelConfigs[name]
		if m.VocabSize() != opts.VocabSize {
			t.Errorf("%s: vocabulary %d, want %d", name, m.VocabSize(), opts.VocabSize)
		}
		var normal, bytes int
		prev := float32(1)
		for id := 0; id < m.VocabSize(); id++ {
			switch m.PieceType(id) {
			case Normal:
				normal++
				if s := m.Score(id); s > prev {
					t.Errorf("%s: scores rise at %d (%g > %g)", name, id, s, prev)
				} else {
					prev = s
				}
				p := m.IDToPiece(id)
				if strings.Contains(p[1:], spaceSymbol) || strings.ContainsAny(p, " \t") {
					t.Errorf("%s: piece %q has an inner space", name, p)
				}
			case Byte:
				bytes++
			}
		}
		if opts.ByteFallback && bytes != 256 {
			t.Errorf("%s: %d byte pieces", name, bytes)
		}
		for _, s := range opts.UserDefinedSymbols {
			if id := m.PieceToID(s); m.PieceType(id) != UserDefined {
				t.Errorf("%s: %q is not a user-defined piece", name, s)
			}
		}
		if m.PieceToID("▁the") == m.UnkID() {
			t.Errorf("%s: the frequent word ▁the is not a piece", name)
		}
	}
}

// TestTrainIsDeterministic: the thread count does not change the model.
func TestTrainIsDeterministic(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda")
	var text []string
	for i := 0; i < 300; i++ {
		var s []string
		for j := 0; j < 3+r.Intn(8); j++ {
			s = append(s, words[r.Intn(len(words))]+words[r.Intn(len(words))][:2])
		}
		text = append(text, strings.Join(s, " "))
	}
	for _, typ := range []ModelType{Unigram, BPE} {
		a, err := Train(TrainOptions{Sentences: text, VocabSize: 150, Type: typ, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Train(TrainOptions{Sentences: text, VocabSize: 150, Type: typ, Threads: 4})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Marshal(), b.Marshal()) {
			t.Errorf("%v: models trained with 1 and 4 threads differ", typ)
		}
	}
}

func TestSuffixArray(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for trial := 0; trial < 50; trial++ {
		n := r.Intn(200)
		s := make([]int32, n)
		for i := range s {
			s[i] = int32(r.Intn(1 + trial%4))
		}
		sa := suffixArray(s, 4)
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortFunc(want, func(a, b int32) int { return slices.Compare(s[a:], s[b:]) })
		if !slices.Equal(sa, want) {
			t.Fatalf("suffixArray(%v) = %v, want %v", s, sa, want)
		}
		lcp := lcpArray(s, sa)
		for i := 1; i < n; i++ {
			a, b := s[sa[i-1]:], s[sa[i]:]
			l := 0
			for l < len(a) && l < len(b) && a[l] == b[l] {
				l++
			}
			if int(lcp[i]) != l {
				t.Fatalf("lcp[%d] = %d, want %d", i, lcp[i], l)
			}
		}
		// Every reported interval is a repeat of its depth.
		lcpIntervals(lcp, func(depth, lo, hi int) {
			if hi-lo < 2 {
				t.Fatalf("interval [%d,%d) too small", lo, hi)
			}
			first := s[sa[lo] : int(sa[lo])+depth]
			for k := lo + 1; k < hi; k++ {
				if !slices.Equal(s[sa[k]:int(sa[k])+depth], first) {
					t.Fatalf("interval [%d,%d) depth %d is not a repeat", lo, hi, depth)
				}
			}
		})
	}
}

func TestTrainSoftVocabLimit(t *testing.T) {
	text := []string{"a small text", "with few pieces", "a small text again"}
	if _, err := Train(TrainOptions{Sentences: text, VocabSize: 5000}); err == nil {
		t.Fatal("an exact vocabulary larger than the text allows was accepted")
	}
	m, err := Train(TrainOptions{Sentences: text, VocabSize: 5000, SoftVocabLimit: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := m.VocabSize(); n >= 5000 || n < 10 {
		t.Fatalf("vocabulary of %d pieces, want the pieces the text yields (fewer than 5000)", n)
	}
	if got := m.Decode(m.Encode("a small text")); got != "a small text" {
		t.Fatalf("round trip gave %q", got)
	}
}
