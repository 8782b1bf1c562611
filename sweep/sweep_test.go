package sweep

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/monitor"
)

func TestParseAxis(t *testing.T) {
	tests := []struct {
		in   string
		want Axis
		err  string
	}{
		{"model.ffn.composition=LG,GL", Axis{"model.ffn.composition", []string{"LG", "GL"}}, ""},
		{" model.ffn.grid.rows = 8 , 32 ", Axis{"model.ffn.grid.rows", []string{"8", "32"}}, ""},
		{"train.lr=0.001", Axis{"train.lr", []string{"0.001"}}, ""},
		{"model.ffn.composition", Axis{}, "want KEY=V1,V2"},
		{"=LG", Axis{}, "want KEY=V1,V2"},
		{"a b=1", Axis{}, "has a space"},
		{"k=1,,2", Axis{}, "an empty value"},
		{"k=", Axis{}, "an empty value"},
		{"k=1,1", Axis{}, `"1" is given twice`},
		{"data.tasks=[sst2, mrpc],[rte]", Axis{"data.tasks", []string{"[sst2, mrpc]", "[rte]"}}, ""},
		{"model.ffn.grid={rows: 8, cols: 8},{rows: 16, cols: 4}", Axis{"model.ffn.grid", []string{"{rows: 8, cols: 8}", "{rows: 16, cols: 4}"}}, ""},
		{`k="a,b",c`, Axis{"k", []string{`"a,b"`, "c"}}, ""},
		{"data.tasks[1].dir=a,b", Axis{"data.tasks[1].dir", []string{"a", "b"}}, ""},
		{"k=[a, b", Axis{}, "not closed"},
		{"k=a],b", Axis{}, "an unmatched ']'"},
		{"k={a: [1}]", Axis{}, "an unmatched '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAxis(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Key != tt.want.Key || strings.Join(got.Values, "|") != strings.Join(tt.want.Values, "|") {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseAxis(f *testing.F) {
	for _, s := range []string{"model.ffn.composition=LG,GL", "k=", "=", "a=b=c", "k=1,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAxis(s)
		if err != nil {
			return
		}
		if a.Key == "" || len(a.Values) == 0 || len(a.Values) > MaxValues {
			t.Fatalf("%q parsed to %+v", s, a)
		}
		if _, err := Points([]Axis{a}, []uint64{1}); err != nil && !strings.Contains(err.Error(), "share the folder") {
			t.Fatalf("%q: %v", s, err)
		}
	})
}

func TestPoints(t *testing.T) {
	axes := []Axis{{"model.ffn.composition", []string{"LG", "GL"}}, {"model.ffn.grid.rows", []string{"8", "32"}}}
	pts, err := Points(axes, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pts {
		names = append(names, p.Name)
	}
	want := "composition-LG_rows-8_seed-1 composition-LG_rows-8_seed-2 composition-LG_rows-32_seed-1 composition-LG_rows-32_seed-2 " +
		"composition-GL_rows-8_seed-1 composition-GL_rows-8_seed-2 composition-GL_rows-32_seed-1 composition-GL_rows-32_seed-2"
	if strings.Join(names, " ") != want {
		t.Errorf("names\n%s\nwant\n%s", strings.Join(names, " "), want)
	}
	if g := pts[2].Group(axes); g != "composition=LG rows=32" {
		t.Errorf("group %q", g)
	}
	if s := strings.Join(pts[2].Sets, " "); s != "model.ffn.composition=LG model.ffn.grid.rows=32" {
		t.Errorf("sets %q", s)
	}

	errTests := []struct {
		name  string
		axes  []Axis
		seeds []uint64
		want  string
	}{
		{"same key twice", []Axis{{"a.b", []string{"1"}}, {"a.b", []string{"2"}}}, []uint64{1}, "names a.b twice"},
		{"names clash", []Axis{{"k", []string{"a/b", "a:b"}}}, []uint64{1}, "share the folder"},
		{"no seeds", axes, nil, "no seeds"},
		{"too many runs", []Axis{{"a", manyValues(200)}, {"b", manyValues(200)}}, []uint64{1}, "more than"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Points(tt.axes, tt.seeds); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

func manyValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat("x", i+1)
	}
	return out
}

func TestShortKeys(t *testing.T) {
	axes := []Axis{{Key: "model.ffn.grid.rows"}, {Key: "model.attention.rows"}, {Key: "train.lr"}}
	got := strings.Join(shortKeys(axes), " ")
	if got != "grid.rows attention.rows lr" {
		t.Errorf("short keys %q", got)
	}
}

// writeLog writes a run's metrics log.
func writeLog(t *testing.T, dir string, recs []monitor.Record) {
	t.Helper()
	var b []byte
	for _, r := range recs {
		if r.Time.IsZero() {
			r.Time = time.Unix(1, 0)
		}
		b = r.AppendJSON(b)
		b = append(b, '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.jsonl"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func evalRec(step int, task string, m map[string]float64) monitor.Record {
	return monitor.Record{Kind: monitor.KindEval, Step: step, Task: task, Metrics: m}
}

func trainRec(step int, tps float64) monitor.Record {
	return monitor.Record{Kind: monitor.KindTrain, Step: step, Loss: 1, LR: 1e-3, TokensPerS: tps}
}

func TestReadRunAndSummarize(t *testing.T) {
	axes := []Axis{{"model.ffn.composition", []string{"LG", "GL"}}}
	pts, err := Points(axes, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	scores := map[string][2]float64{ // sentiment accuracy, similarity pearson (spearman = pearson)
		pts[0].Name: {60, 40}, pts[1].Name: {70, 50}, pts[2].Name: {80, 20},
	}
	results := map[string]*Result{}
	for _, p := range pts[:3] {
		dir := filepath.Join(root, p.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := scores[p.Name]
		writeLog(t, dir, []monitor.Record{
			trainRec(1, 100), trainRec(2, 300), trainRec(3, 200),
			evalRec(2, "sentiment", map[string]float64{"accuracy": 10}),
			evalRec(3, "sentiment", map[string]float64{"accuracy": s[0]}),
			evalRec(3, "similarity", map[string]float64{"pearson": s[1], "spearman": s[1]}),
		})
		r, err := ReadRun(dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.Step != 3 || len(r.Tasks) != 2 || r.Scores["sentiment"] != s[0] || r.Average != (s[0]+s[1])/2 || r.TokensPerS != 200 {
			t.Fatalf("result %+v", r)
		}
		r.Params = 1234
		if err := WriteResult(dir, r); err != nil {
			t.Fatal(err)
		}
		if results[p.Name], err = LoadResult(dir); err != nil {
			t.Fatal(err)
		}
	}
	sum := Summarize(axes, pts, results)
	if len(sum.Rows) != 2 || strings.Join(sum.Tasks, ",") != "sentiment,similarity" || strings.Join(sum.Missing, ",") != pts[3].Name {
		t.Fatalf("summary %+v", sum)
	}
	lg := sum.Rows[0]
	if lg.Group != "composition=LG" || lg.Tasks["sentiment"].Mean != 65 || math.Abs(lg.Tasks["sentiment"].Std-math.Sqrt(50)) > 1e-9 || lg.Average.N != 2 || lg.Params != 1234 {
		t.Errorf("LG row %+v", lg)
	}
	md := sum.Markdown()
	for _, want := range []string{
		"| grid point | sentiment | similarity | average | params | tokens/s | seeds |",
		"| composition=LG | 65.00 ± 7.07 | 45.00 ± 7.07 | 55.00 ± 7.07 | 1234 | 200 ± 0 | 2 |",
		"| composition=GL | 80.00 | 20.00 | 50.00 | 1234 | 200 | 1 |",
		"Runs without a result (failed or not run yet): " + pts[3].Name,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	// A run without an evaluation has no result.
	empty := filepath.Join(root, "empty")
	os.MkdirAll(empty, 0o755)
	writeLog(t, empty, []monitor.Record{trainRec(1, 1)})
	if _, err := ReadRun(empty); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Errorf("a log without evaluation: %v", err)
	}
	if _, err := LoadResult(empty); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a run without a result file: %v", err)
	}
}

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadManifest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no manifest: %v", err)
	}
	axes := []Axis{{"model.ffn.composition", []string{"LG", "GL"}}}
	pts, _ := Points(axes, []uint64{1})
	m := &Manifest{Format: ManifestFormat, Recipe: "r.yaml", Sets: []string{"train.lr=0.1"}, Grid: axes, Seeds: []uint64{1}, Steps: 5, Runs: pts}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Same(got); d != "" {
		t.Errorf("read back differs: %s", d)
	}
	other := *got
	other.Grid = []Axis{{"model.ffn.composition", []string{"LG"}}}
	if d := m.Same(&other); !strings.Contains(d, "grid") {
		t.Errorf("a different grid: %q", d)
	}
	other = *got
	other.Steps = 6
	if d := m.Same(&other); !strings.Contains(d, "--steps 6") {
		t.Errorf("different steps: %q", d)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format": 1, "extra": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("a bad manifest: %v", err)
	}
}

func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"format":1,"recipe":"r","grid":[{"key":"k","values":["a"]}],"seeds":[1],"runs":[]}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(dir)
		if err != nil {
			return
		}
		if m.Format != ManifestFormat || len(m.Runs) > MaxRuns {
			t.Fatalf("accepted %+v", m)
		}
		_ = m.Same(m)
	})
}

func FuzzLoadResult(f *testing.F) {
	f.Add([]byte(`{"run":"r","sets":["k=v"],"seed":1,"step":3,"tasks":[{"Task":"t","Metrics":{"accuracy":50}}],"scores":{"t":50},"average":50,"params":10,"tokens_per_s":5}`))
	f.Add([]byte(`{"extra":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ResultFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := LoadResult(dir)
		if err != nil {
			return
		}
		// An accepted result can be tabulated.
		axes := []Axis{{"k", []string{"v"}}}
		pts, _ := Points(axes, []uint64{1})
		_ = Summarize(axes, pts, map[string]*Result{pts[0].Name: r}).Markdown()
	})
}
