package data

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DecodeTaskDefs decodes a YAML document holding a list of task definitions under the
// key "tasks":
//
//	tasks:
//	  - name: reviews
//	    prefix: reviews
//	    format: tsv
//	    inputs: [{name: sentence}]
//	    label: label
//	    label_words: [negative, positive]
//	    metrics: [accuracy]
//
// Decoding is strict: an unknown key or a wrong type is an error. Every definition is
// validated. All problems are reported together, each prefixed with
// "filename:line:col" of the offending task. A name used twice in the document is an
// error; names are not checked against the registry.
func DecodeTaskDefs(src []byte, filename string) ([]TaskDef, error) {
	// Decode twice: strictly into the structs (yaml errors carry document line
	// numbers), and into nodes for the position of each task.
	var doc struct {
		Tasks []TaskDef `yaml:"tasks"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: empty document: write a \"tasks:\" list", filename)
		}
		return nil, yamlError(filename, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, fmt.Errorf("%s: more than one YAML document: keep the task list in one document", filename)
	}
	if len(doc.Tasks) == 0 {
		return nil, fmt.Errorf("%s: the \"tasks\" list is missing or empty", filename)
	}
	var nodes struct {
		Tasks []yaml.Node `yaml:"tasks"`
	}
	if err := yaml.Unmarshal(src, &nodes); err != nil || len(nodes.Tasks) != len(doc.Tasks) {
		return nil, fmt.Errorf("%s: cannot locate the tasks in the document", filename)
	}
	var errs []error
	seen := map[string]string{}
	for i := range doc.Tasks {
		def := &doc.Tasks[i]
		at := fmt.Sprintf("%s:%d:%d", filename, nodes.Tasks[i].Line, nodes.Tasks[i].Column)
		if err := def.Validate(); err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("%s: %w", at, e))
			}
		}
		if first, dup := seen[def.Name]; dup && def.Name != "" {
			errs = append(errs, fmt.Errorf("%s: task %q is already defined at %s: rename one", at, def.Name, first))
		}
		seen[def.Name] = at
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return doc.Tasks, nil
}

// yamlError rewrites a yaml error as one "file:line: problem" line per problem.
func yamlError(filename string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		var n int
		if k, _ := fmt.Sscanf(m, "line %d:", &n); k == 1 {
			_, rest, _ := strings.Cut(m, ":")
			errs[i] = fmt.Errorf("%s:%d:%s", filename, n, rest)
		} else {
			errs[i] = fmt.Errorf("%s: %s", filename, m)
		}
	}
	return errors.Join(errs...)
}

// unjoin splits an errors.Join result into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
