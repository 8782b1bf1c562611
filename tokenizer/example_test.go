package tokenizer_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/hypergrid-go/hypergrid/tokenizer"
)

func ExampleTrain() {
	m, err := tokenizer.Train(tokenizer.TrainOptions{
		Inputs:    []string{"testdata/corpus.txt"},
		VocabSize: 300,
		Type:      tokenizer.Unigram,
	})
	if err != nil {
		log.Fatal(err)
	}
	// T5's layout of the special pieces is the default.
	fmt.Println(m.VocabSize(), m.PadID(), m.EOSID(), m.UnkID())
	fmt.Println(m.EncodePieces("the tea"))
	// Output:
	// 300 0 1 2
	// [▁the ▁ te a]
}

func ExampleModel_Encode() {
	m, err := tokenizer.Train(tokenizer.TrainOptions{
		Inputs: []string{"testdata/corpus.txt"}, VocabSize: 300, Type: tokenizer.BPE,
	})
	if err != nil {
		log.Fatal(err)
	}
	ids := append(m.Encode("The tea is warm."), m.EOSID())
	fmt.Println(m.Decode(ids))
	// Output:
	// The tea is warm.
}

func ExampleLoad() {
	m, err := tokenizer.Train(tokenizer.TrainOptions{Inputs: []string{"testdata/corpus.txt"}, VocabSize: 300})
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "example-tokenizer.model")
	defer os.Remove(path)
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}
	loaded, err := tokenizer.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.VocabSize(), loaded.PieceToID("</s>"))
	// Output:
	// 300 1
}
