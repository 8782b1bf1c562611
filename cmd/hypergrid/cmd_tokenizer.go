package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/tokenizer"
)

func init() {
	register(&command{
		name:    "tokenizer",
		summary: "train, encode and decode SentencePiece-compatible tokenizer models",
		run:     runTokenizer,
	})
}

// tokenizerStdin is where encode and decode read; tests replace it.
var tokenizerStdin io.Reader = os.Stdin

const tokenizerUsage = `<train|encode|decode> [flags]

  train  --input FILE... --vocab N [--type unigram|bpe] --out FILE.model
  encode --model FILE.model [--pieces]   lines on stdin -> ids (or pieces) per line
  decode --model FILE.model [--pieces]   ids (or pieces) per line on stdin -> text`

func runTokenizer(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fs := newFlags("tokenizer", tokenizerUsage, stderr)
		fs.Usage()
		return usageError("tokenizer needs a subcommand: train, encode or decode")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		newFlags("tokenizer", tokenizerUsage, stderr).Usage()
		return errHelp
	case "train":
		return tokenizerTrain(args[1:], stdout, stderr)
	case "encode":
		return tokenizerEncode(args[1:], stdout, stderr)
	case "decode":
		return tokenizerDecode(args[1:], stdout, stderr)
	}
	return usageError("unknown tokenizer subcommand %q: want train, encode or decode", args[0])
}

// tokStringList is a repeatable flag; each value may also hold several comma-separated
// items.
type tokStringList []string

func (s *tokStringList) String() string { return strings.Join(*s, ",") }
func (s *tokStringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

func tokenizerTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tokenizer train", "--input FILE... --vocab N [--type unigram|bpe] --out FILE.model", stderr)
	var inputs, userDefined, control tokStringList
	fs.Var(&inputs, "input", "training text, one sentence per line (repeatable, comma-separated; extra arguments are inputs too)")
	vocab := fs.Int("vocab", 8000, "vocabulary size, special pieces included")
	typ := fs.String("type", "unigram", "model type: unigram or bpe")
	out := fs.String("out", "", "the .model file to write (required)")
	normalization := fs.String("normalization", tokenizer.NmtNFKC, "normalization rules: nmt_nfkc, nfkc or identity")
	coverage := fs.Float64("character-coverage", 0.9995, "fraction of characters the vocabulary covers, in [0.98, 1]")
	byteFallback := fs.Bool("byte-fallback", false, "encode unknown characters as <0xNN> byte pieces")
	layout := fs.String("special", "t5", "special-piece layout: t5 (<pad>=0 </s>=1 <unk>=2) or spm (<unk>=0 <s>=1 </s>=2)")
	fs.Var(&userDefined, "user-defined", "pieces always kept whole (repeatable, comma-separated)")
	fs.Var(&control, "control", "extra control pieces (repeatable, comma-separated)")
	threads := fs.Int("threads", 0, "goroutines to use (0: all CPUs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	inputs = append(inputs, fs.Args()...)
	if len(inputs) == 0 {
		return usageError("tokenizer train: --input is required")
	}
	if *out == "" {
		return usageError("tokenizer train: --out is required")
	}
	mt, err := tokenizer.ParseModelType(*typ)
	if err != nil {
		return usageError("tokenizer train: --type: %v", err)
	}
	var special tokenizer.SpecialIDs
	switch *layout {
	case "t5":
		special = tokenizer.T5SpecialIDs
	case "spm":
		special = tokenizer.SPMSpecialIDs
	default:
		return usageError("tokenizer train: --special %q: want t5 or spm", *layout)
	}
	for _, in := range inputs {
		if _, err := os.Stat(in); err != nil {
			return fmt.Errorf("tokenizer train: input: %w", err)
		}
	}
	start := time.Now()
	m, err := tokenizer.Train(tokenizer.TrainOptions{
		Inputs:             inputs,
		VocabSize:          *vocab,
		Type:               mt,
		Normalization:      *normalization,
		CharacterCoverage:  *coverage,
		ByteFallback:       *byteFallback,
		Special:            &special,
		UserDefinedSymbols: userDefined,
		ControlSymbols:     control,
		Threads:            *threads,
	})
	if err != nil {
		return err
	}
	if err := m.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "tokenizer: trained a %s model of %d pieces in %.1fs: %s\n", mt, m.VocabSize(), time.Since(start).Seconds(), *out)
	return nil
}

func tokLoadModel(fs interface{ NArg() int }, name, path string) (*tokenizer.Model, error) {
	if path == "" {
		return nil, usageError("tokenizer %s: --model is required", name)
	}
	if fs.NArg() > 0 {
		return nil, usageError("tokenizer %s takes no arguments: it reads stdin", name)
	}
	return tokenizer.Load(path)
}

func tokenizerEncode(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tokenizer encode", "--model FILE.model [--pieces] < text", stderr)
	model := fs.String("model", "", "the .model file (required)")
	pieces := fs.Bool("pieces", false, "write pieces instead of ids")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := tokLoadModel(fs, "encode", *model)
	if err != nil {
		return err
	}
	if err := m.EncodeLines(tokenizerStdin, stdout, *pieces); err != nil {
		return fmt.Errorf("tokenizer encode: %w", err)
	}
	return nil
}

func tokenizerDecode(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tokenizer decode", "--model FILE.model [--pieces] < ids", stderr)
	model := fs.String("model", "", "the .model file (required)")
	pieces := fs.Bool("pieces", false, "read pieces instead of ids")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := tokLoadModel(fs, "decode", *model)
	if err != nil {
		return err
	}
	if err := m.DecodeLines(tokenizerStdin, stdout, *pieces); err != nil {
		return fmt.Errorf("tokenizer decode: stdin: %w", err)
	}
	return nil
}
