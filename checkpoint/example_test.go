package checkpoint_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/hypergrid-go/hypergrid/checkpoint"
)

// A checkpoint holds named tensors, named JSON state sections and extra files; Load
// verifies every file against the manifest before it returns anything.
func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	c := &checkpoint.Checkpoint{
		Step:      100,
		Model:     []checkpoint.Tensor{{Name: "ffn.wo", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}},
		Optimizer: []checkpoint.Tensor{{Name: "ffn.wo.m", Shape: []int{4}, Data: []float32{0, 0, 0, 0}}},
		Files:     map[string][]byte{"tokenizer.model": []byte("...")},
	}
	if err := c.SetState("sampler", map[string]int{"position": 3200}); err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "ckpt-000100")
	if err := checkpoint.Save(path, c); err != nil {
		log.Fatal(err)
	}

	loaded, err := checkpoint.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	var sampler struct{ Position int }
	if err := loaded.GetState("sampler", &sampler); err != nil {
		log.Fatal(err)
	}
	fmt.Println("step", loaded.Step, loaded.Model[0].Name, loaded.Model[0].Shape, loaded.Model[0].Data)
	fmt.Println("sampler position", sampler.Position)

	// A changed byte is caught.
	weights := filepath.Join(path, checkpoint.ModelFile)
	b, _ := os.ReadFile(weights)
	b[len(b)-1] ^= 1
	os.WriteFile(weights, b, 0o644)
	_, err = checkpoint.Load(path)
	var ce *checkpoint.CorruptError
	if errors.As(err, &ce) {
		fmt.Println("refused:", ce.File, "corrupted")
	}
	// Output:
	// step 100 ffn.wo [2 2] [1 2 3 4]
	// sampler position 3200
	// refused: model.safetensors corrupted
}

// A run directory keeps one checkpoint per saved step, a "latest" file naming the
// newest, and only the newest few checkpoints.
func ExampleSaveRun() {
	run, err := os.MkdirTemp("", "run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(run)

	for step := 100; step <= 400; step += 100 {
		c := &checkpoint.Checkpoint{Step: step, Model: []checkpoint.Tensor{{Name: "w", Shape: []int{1}, Data: []float32{float32(step)}}}}
		if _, err := checkpoint.SaveRun(run, c, 2); err != nil {
			log.Fatal(err)
		}
	}
	list, _ := checkpoint.List(run)
	for _, c := range list {
		fmt.Println(filepath.Base(c.Dir))
	}
	c, dir, err := checkpoint.LoadLatest(run)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("latest:", filepath.Base(dir), "step", c.Step)
	// Output:
	// ckpt-000300
	// ckpt-000400
	// latest: ckpt-000400 step 400
}
