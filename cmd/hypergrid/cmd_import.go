package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/hf"
	"github.com/hypergrid-go/hypergrid/internal/fileio"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

func init() {
	register(&command{
		name:    "import",
		summary: "import a Hugging Face T5 folder as a checkpoint: import hf SRC_DIR --out CKPT",
		run:     runImport,
	})
}

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", "hf SRC_DIR --out CKPT [--tokenizer FILE.model] [--force]", stderr)
	out := fs.String("out", "", "the checkpoint folder to write (required)")
	tokFile := fs.String("tokenizer", "", "a SentencePiece .model to store as the checkpoint's tokenizer when SRC_DIR has no spiece.model")
	force := fs.Bool("force", false, "replace the checkpoint at --out")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 || rest[0] != "hf" {
		return usageError("import takes a format and a folder: import hf SRC_DIR --out CKPT (the only format is hf, a Hugging Face T5 folder)")
	}
	if *out == "" {
		return usageError("import needs --out CKPT, the checkpoint folder to write")
	}
	if err := checkImportOut(*out, *force); err != nil {
		return err
	}
	start := time.Now()
	m, err := hf.Read(rest[1])
	if err != nil {
		return err
	}
	tok := m.Tokenizer
	if *tokFile != "" {
		if tok, err = fileio.ReadRegular(*tokFile, "tokenizer", tokenizer.MaxModelSize); err != nil {
			return err
		}
		if _, err := tokenizer.Parse(tok); err != nil {
			return fmt.Errorf("--tokenizer %s: %w", *tokFile, err)
		}
	}
	c, err := m.Checkpoint(rest[1], tok)
	if err != nil {
		return err
	}
	if err := checkpoint.Save(*out, c); err != nil {
		return err
	}
	params := 0
	for _, t := range m.Tensors {
		params += len(t.Data)
	}
	s := m.Spec
	fmt.Fprintf(stdout, "imported %s (%s, feed_forward_proj %s, tied %v): vocab %d, d_model %d, %d heads × %d, %d+%d layers, d_ff %d; %d tensors, %d parameters in %.2fs\n",
		rest[1], m.Config.ModelType, m.Config.FeedForwardProj, s.TieEmbeddings, s.Vocab, s.DModel, s.Heads, s.DKV,
		s.EncoderLayers, s.DecoderLayers, m.GLU.DFF, len(m.Tensors), params, time.Since(start).Seconds())
	if len(m.Ignored) > 0 {
		fmt.Fprintf(stdout, "left out (copies of shared.weight, or unused by transformers): %v\n", m.Ignored)
	}
	fmt.Fprintf(stdout, "checkpoint %s (recipe %s, tokenizer with %d extra ids); try: hypergrid generate %s --input \"translate English to German: Hello\"\n",
		*out, hf.RecipeFile, m.ExtraIDs, *out)
	return nil
}

// checkImportOut refuses an --out that holds something, unless force and it is a
// checkpoint (which Save replaces).
func checkImportOut(out string, force bool) error {
	entries, err := os.ReadDir(out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(out, checkpoint.ManifestFile)); err != nil {
		return usageError("--out %s is a folder that is not a checkpoint; name a new folder", out)
	}
	if !force {
		return usageError("--out %s holds a checkpoint already; add --force to replace it", out)
	}
	return nil
}
