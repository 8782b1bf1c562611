package tokenizer

import (
	"os"
	"strings"
	"sync"
	"testing"
)

// Small models trained on testdata/corpus.txt, shared by the tests of this package.
var testModels struct {
	once sync.Once
	m    map[string]*Model
	err  error
}

// testModelConfigs are the models the tests train: name -> options.
var testModelConfigs = map[string]TrainOptions{
	"unigram": {VocabSize: 400, Type: Unigram},
	"bpe":     {VocabSize: 400, Type: BPE},
	// Byte fallback, user-defined symbols and spm's ID layout.
	"unigram-bytes": {VocabSize: 700, Type: Unigram, ByteFallback: true,
		UserDefinedSymbols: []string{"sst2:", "<sep>"}, Special: &SPMSpecialIDs},
	"bpe-bytes": {VocabSize: 700, Type: BPE, ByteFallback: true,
		UserDefinedSymbols: []string{"sst2:", "<sep>"}, ControlSymbols: []string{"<cls>"}},
}

func testModel(t testing.TB, name string) *Model {
	t.Helper()
	testModels.once.Do(func() {
		testModels.m = map[string]*Model{}
		for n, o := range testModelConfigs {
			o.Inputs = []string{"testdata/corpus.txt"}
			m, err := Train(o)
			if err != nil {
				testModels.err = err
				return
			}
			testModels.m[n] = m
		}
	})
	if testModels.err != nil {
		t.Fatal(testModels.err)
	}
	m, ok := testModels.m[name]
	if !ok {
		t.Fatalf("no test model %q", name)
	}
	return m
}

func corpusLines(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// trickyLines exercise whitespace, normalization, unknown characters and special
// pieces.
var trickyLines = []string{
	"",
	"   ",
	"Hello world",
	"  leading and trailing  ",
	"Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ and ﬁne ligatures",
	"tabs\tand\u3000ideographic spaces",
	"control\x01\x1f chars",
	"bad utf8 \xff\xfe here",
	"unknown ☃☃ snowmen and 𝔸 math",
	"emoji 🙂🚲 and 東京",
	"sst2: a <sep> b</s><unk><cls>",
	"▁already escaped ▁ bars",
	"numbers 12345 and 3.14159",
	"carriage return\r",
}
