package data_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hypergrid-go/hypergrid/data"
)

func ExampleRead() {
	def, _ := data.Lookup("stsb")
	tsv := "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n" +
		"0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane is taking off.\t4.750\n"
	exs, stats, err := data.Read(def, strings.NewReader(tsv), "dev.tsv", data.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(exs[0].Inputs)
	fmt.Println(exs[0].Targets, exs[0].Score, stats.Examples)
	// Output:
	// stsb sentence1: A plane is taking off. sentence2: An air plane is taking off.
	// 4.8 4.75 1
}

func ExampleRead_malformed() {
	def, _ := data.Lookup("sst2")
	tsv := "sentence\tlabel\na fine film .\t1\na cut line\n"
	_, _, err := data.Read(def, strings.NewReader(tsv), "train.tsv", data.ReadOptions{})
	fmt.Println(err)
	exs, stats, _ := data.Read(def, strings.NewReader(tsv), "train.tsv", data.ReadOptions{SkipMalformed: true})
	fmt.Println(len(exs), "read,", stats.Skipped, "skipped")
	// Output:
	// train.tsv:3: row has 1 tab-separated cells but the header has 2 (sentence, label): look for a tab inside a text or a cut line
	// 1 read, 1 skipped
}

func ExampleDecodeTaskDefs() {
	yaml := `tasks:
  - name: reviews
    prefix: reviews
    format: tsv
    tsv: {header: absent, columns: [stars, text]}
    inputs: [{name: review, column: text}]
    label: stars
    label_words: [bad, good]
    label_values: ["1", "5"]
    metrics: [accuracy]
`
	defs, err := data.DecodeTaskDefs([]byte(yaml), "recipe.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	exs, _, _ := data.Read(defs[0], strings.NewReader("5\tLoved it.\n"), "reviews.tsv", data.ReadOptions{})
	fmt.Printf("%s -> %s\n", exs[0].Inputs, exs[0].Targets)
	// Output:
	// reviews review: Loved it. -> good
}

func ExampleMixtureSpec_Rates() {
	spec := data.MixtureSpec{Kind: data.MixProportional, Cap: 1000}
	rates, _ := spec.Rates([]int{500, 1000, 50000})
	fmt.Printf("%.2f %.2f %.2f\n", rates[0], rates[1], rates[2])
	// Output:
	// 0.20 0.40 0.40
}

func ExampleSampler() {
	mk := func(task string, n int) data.TaskData {
		td := data.TaskData{Name: task}
		for i := range n {
			td.Examples = append(td.Examples, data.Example{Task: task, Inputs: fmt.Sprintf("%s %d", task, i)})
		}
		return td
	}
	tasks := []data.TaskData{mk("sst2", 100), mk("rte", 10)}
	s, _ := data.NewMixtureSampler(tasks, data.MixtureSpec{Kind: data.MixEqual}, 1)
	s.NextBatch(4)
	saved, _ := json.Marshal(s.State()) // store with the checkpoint

	next := s.NextBatch(4)
	resumed, _ := data.NewMixtureSampler(tasks, data.MixtureSpec{Kind: data.MixEqual}, 1)
	var st data.SamplerState
	_ = json.Unmarshal(saved, &st)
	if err := resumed.Restore(st); err != nil {
		fmt.Println(err)
		return
	}
	again := resumed.NextBatch(4)
	fmt.Println(next[0].Inputs == again[0].Inputs && next[3].Inputs == again[3].Inputs)
	// Output:
	// true
}
