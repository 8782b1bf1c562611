package data

// The GLUE and SuperGLUE task definitions follow T5's preprocessors: the prefix is the
// benchmark name (the MNLI family and AX use "mnli"; the SuperGLUE diagnostics use
// "rte"), the input fields are the TFDS feature names in sorted order (WiC: sentence1,
// sentence2, word), and the label words are the TFDS label class names. Metric names
// are those of the GLUE and SuperGLUE leaderboards.

func init() {
	RegisterTransform("wsc_spans", wscSpans)
	for _, def := range glueTasks() {
		Register(def)
	}
	for _, def := range superGLUETasks() {
		Register(def)
	}
}

// pair returns two input fields named a and b read from columns ca and cb.
func pair(a, ca, b, cb string) []Field {
	return []Field{{Name: a, Column: ca}, {Name: b, Column: cb}}
}

// mnli returns an MNLI definition. The train, dev and test files have different
// numbers of annotator label columns; columns are found by header name.
func mnli(name string, splits map[string]string) TaskDef {
	return TaskDef{
		Name: name, Prefix: "mnli", Format: FormatTSV, Dir: "MNLI", Splits: splits,
		ID:          "index",
		Inputs:      pair("hypothesis", "sentence2", "premise", "sentence1"),
		Label:       "gold_label",
		LabelWords:  []string{"entailment", "neutral", "contradiction"},
		LabelValues: []string{"entailment", "neutral", "contradiction"},
		Metrics:     []string{MetricAccuracy},
	}
}

func glueTasks() []TaskDef {
	return []TaskDef{
		{
			// CoLA train and dev have no header: source, label, original mark, sentence.
			// The test file has the header "index	sentence".
			Name: "cola", Prefix: "cola", Format: FormatTSV, Dir: "CoLA",
			TSV:        TSVLayout{Header: HeaderAuto, Columns: []string{"source", "label", "original_label", "sentence"}},
			Inputs:     []Field{{Name: "sentence"}},
			Label:      "label",
			LabelWords: []string{"unacceptable", "acceptable"},
			Metrics:    []string{MetricMatthewsCorr},
		},
		{
			Name: "sst2", Prefix: "sst2", Format: FormatTSV, Dir: "SST-2",
			Inputs:     []Field{{Name: "sentence"}},
			Label:      "label",
			LabelWords: []string{"negative", "positive"},
			Metrics:    []string{MetricAccuracy},
		},
		{
			// Train and dev: "Quality	#1 ID	#2 ID	#1 String	#2 String"; test has
			// "index" instead of "Quality".
			Name: "mrpc", Prefix: "mrpc", Format: FormatTSV, Dir: "MRPC",
			Inputs:     pair("sentence1", "#1 String", "sentence2", "#2 String"),
			Label:      "Quality",
			LabelWords: []string{"not_equivalent", "equivalent"},
			Metrics:    []string{MetricF1, MetricAccuracy},
		},
		{
			Name: "qqp", Prefix: "qqp", Format: FormatTSV, Dir: "QQP",
			ID:         "id",
			Inputs:     pair("question1", "question1", "question2", "question2"),
			Label:      "is_duplicate",
			LabelWords: []string{"not_duplicate", "duplicate"},
			Metrics:    []string{MetricF1, MetricAccuracy},
		},
		{
			// Ten columns, the score last; T5 rounds the target to 0.2.
			Name: "stsb", Prefix: "stsb", Format: FormatTSV, Dir: "STS-B",
			ID:      "index",
			Inputs:  pair("sentence1", "sentence1", "sentence2", "sentence2"),
			Label:   "score",
			Type:    Regression,
			Round:   0.2,
			Range:   []float64{0, 5},
			Metrics: []string{MetricPearson, MetricSpearman},
		},
		mnli("mnli", nil),
		mnli("mnli_matched", map[string]string{"dev": "dev_matched.tsv", "test": "test_matched.tsv"}),
		mnli("mnli_mismatched", map[string]string{"dev": "dev_mismatched.tsv", "test": "test_mismatched.tsv"}),
		{
			Name: "qnli", Prefix: "qnli", Format: FormatTSV, Dir: "QNLI",
			ID:          "index",
			Inputs:      pair("question", "question", "sentence", "sentence"),
			Label:       "label",
			LabelWords:  []string{"entailment", "not_entailment"},
			LabelValues: []string{"entailment", "not_entailment"},
			Metrics:     []string{MetricAccuracy},
		},
		{
			Name: "rte", Prefix: "rte", Format: FormatTSV, Dir: "RTE",
			ID:          "index",
			Inputs:      pair("sentence1", "sentence1", "sentence2", "sentence2"),
			Label:       "label",
			LabelWords:  []string{"entailment", "not_entailment"},
			LabelValues: []string{"entailment", "not_entailment"},
			Metrics:     []string{MetricAccuracy},
		},
		{
			// WNLI writes labels as 0/1, with 1 meaning entailment.
			Name: "wnli", Prefix: "wnli", Format: FormatTSV, Dir: "WNLI",
			ID:         "index",
			Inputs:     pair("sentence1", "sentence1", "sentence2", "sentence2"),
			Label:      "label",
			LabelWords: []string{"not_entailment", "entailment"},
			Metrics:    []string{MetricAccuracy},
		},
		{
			// The diagnostic set, cast as MNLI; GLUE ships it without labels
			// ("index	sentence1	sentence2") and scores it with Matthews correlation.
			Name: "ax", Prefix: "mnli", Format: FormatTSV, Dir: "diagnostic",
			Splits:      map[string]string{"test": "diagnostic.tsv"},
			ID:          "index",
			Inputs:      pair("hypothesis", "sentence2", "premise", "sentence1"),
			Label:       "label",
			LabelWords:  []string{"entailment", "neutral", "contradiction"},
			LabelValues: []string{"entailment", "neutral", "contradiction"},
			Metrics:     []string{MetricMatthewsCorr},
		},
	}
}

// superGLUESplits maps the split names to the SuperGLUE file names (dev is val.jsonl).
func superGLUESplits() map[string]string {
	return map[string]string{"train": "train.jsonl", "dev": "val.jsonl", "test": "test.jsonl"}
}

func superGLUETasks() []TaskDef {
	rteWords := []string{"entailment", "not_entailment"}
	falseTrue := []string{"False", "True"}
	boolValues := []string{"false", "true"}
	return []TaskDef{
		{
			Name: "boolq", Prefix: "boolq", Format: FormatJSONL, Dir: "BoolQ", Splits: superGLUESplits(),
			ID:          "idx",
			Inputs:      pair("passage", "passage", "question", "question"),
			Label:       "label",
			LabelWords:  falseTrue,
			LabelValues: boolValues,
			Metrics:     []string{MetricAccuracy},
		},
		{
			Name: "cb", Prefix: "cb", Format: FormatJSONL, Dir: "CB", Splits: superGLUESplits(),
			ID:          "idx",
			Inputs:      pair("hypothesis", "hypothesis", "premise", "premise"),
			Label:       "label",
			LabelWords:  []string{"entailment", "contradiction", "neutral"},
			LabelValues: []string{"entailment", "contradiction", "neutral"},
			Metrics:     []string{MetricF1Macro, MetricAccuracy},
		},
		{
			// The label is 0 or 1: which choice is the cause or effect.
			Name: "copa", Prefix: "copa", Format: FormatJSONL, Dir: "COPA", Splits: superGLUESplits(),
			ID: "idx",
			Inputs: []Field{
				{Name: "choice1"}, {Name: "choice2"}, {Name: "premise"}, {Name: "question"},
			},
			Label:       "label",
			LabelWords:  []string{"choice1", "choice2"},
			LabelValues: []string{"0", "1"},
			Metrics:     []string{MetricAccuracy},
		},
		{
			// SuperGLUE's RTE has premise/hypothesis keys; T5 gives it the prefix "rte".
			Name: "superglue_rte", Prefix: "rte", Format: FormatJSONL, Dir: "RTE", Splits: superGLUESplits(),
			ID:          "idx",
			Inputs:      pair("hypothesis", "hypothesis", "premise", "premise"),
			Label:       "label",
			LabelWords:  rteWords,
			LabelValues: rteWords,
			Metrics:     []string{MetricAccuracy},
		},
		{
			// T5 ignores the word's character offsets.
			Name: "wic", Prefix: "wic", Format: FormatJSONL, Dir: "WiC", Splits: superGLUESplits(),
			ID: "idx",
			Inputs: []Field{
				{Name: "sentence1"}, {Name: "sentence2"}, {Name: "word"},
			},
			Label:       "label",
			LabelWords:  falseTrue,
			LabelValues: boolValues,
			Metrics:     []string{MetricAccuracy},
		},
		{
			// The noun span is marked "* … *" and the pronoun span "# … #".
			Name: "wsc", Prefix: "wsc", Format: FormatJSONL, Dir: "WSC", Splits: superGLUESplits(),
			ID:     "idx",
			Inputs: []Field{{Name: "text"}},
			Extra: []Field{
				{Name: "span1_text", Column: "target.span1_text"},
				{Name: "span1_index", Column: "target.span1_index"},
				{Name: "span2_text", Column: "target.span2_text"},
				{Name: "span2_index", Column: "target.span2_index"},
			},
			Transform:   "wsc_spans",
			Label:       "label",
			LabelWords:  falseTrue,
			LabelValues: boolValues,
			Metrics:     []string{MetricAccuracy},
		},
		{
			// Broad-coverage diagnostic, cast as RTE.
			Name: "axb", Prefix: "rte", Format: FormatJSONL, Dir: "AX-b",
			Splits:      map[string]string{"test": "AX-b.jsonl"},
			ID:          "idx",
			Inputs:      pair("sentence1", "sentence1", "sentence2", "sentence2"),
			Label:       "label",
			LabelWords:  rteWords,
			LabelValues: rteWords,
			Metrics:     []string{MetricMatthewsCorr},
		},
		{
			// Winogender diagnostic, cast as RTE.
			Name: "axg", Prefix: "rte", Format: FormatJSONL, Dir: "AX-g",
			Splits:      map[string]string{"test": "AX-g.jsonl"},
			ID:          "idx",
			Inputs:      pair("hypothesis", "hypothesis", "premise", "premise"),
			Label:       "label",
			LabelWords:  rteWords,
			LabelValues: rteWords,
			Metrics:     []string{MetricAccuracy},
		},
	}
}
