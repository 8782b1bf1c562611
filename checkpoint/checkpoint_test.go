package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/golden"
)

func sample() *Checkpoint {
	return &Checkpoint{
		Step: 42,
		Model: []Tensor{
			{Name: "encoder.block.0.ffn.wo", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-8, -7}},
			{Name: "embed", Shape: []int{3}, Data: []float32{0.25, 0.5, 0.75}},
		},
		Optimizer: []Tensor{{Name: "embed.m", Shape: []int{3}, Data: []float32{1, 2, 3}}},
		State: map[string]json.RawMessage{
			"sampler": json.RawMessage(`{"step":7}`),
			"rng":     json.RawMessage(`[1,2,3]`),
			"recipe":  json.RawMessage(`"model:\n  d_model: 8\n"`),
		},
		Files:    map[string][]byte{"tokenizer.model": []byte("pieces")},
		Metadata: map[string]string{"program": "hypergrid test"},
	}
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// compact returns raw JSON without insignificant whitespace.
func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkSame(t *testing.T, got, want *Checkpoint) {
	t.Helper()
	if got.Step != want.Step || !reflect.DeepEqual(got.Model, want.Model) || !reflect.DeepEqual(got.Optimizer, want.Optimizer) ||
		!reflect.DeepEqual(got.Files, want.Files) || !reflect.DeepEqual(got.Metadata, want.Metadata) || len(got.State) != len(want.State) {
		t.Fatalf("loaded checkpoint differs:\n got %+v\nwant %+v", got, want)
	}
	for name, raw := range want.State {
		if compact(t, got.State[name]) != compact(t, raw) {
			t.Errorf("state %s = %s, want %s", name, got.State[name], raw)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "ckpt-000042")
	c := sample()
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, c)
	if err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	s, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range s.Files {
		names = append(names, f.Name)
	}
	if s.Step != 42 || s.Format != FormatVersion || strings.Join(names, " ") != "model.safetensors optimizer.safetensors tokenizer.model" ||
		strings.Join(s.State, " ") != "recipe rng sampler" || s.Metadata["program"] != "hypergrid test" {
		t.Errorf("Inspect: %+v", s)
	}
	// Saving again replaces it; nothing else is left in the parent.
	c.Step = 43
	c.Model[0].Data[0] = 9
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	if got, err = Load(dir); err != nil || got.Step != 43 || got.Model[0].Data[0] != 9 {
		t.Fatalf("after the second save: step %v, %v", got, err)
	}
	if names := entries(t, parent); len(names) != 1 {
		t.Errorf("the parent holds %v after two saves, want only the checkpoint", names)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o755 {
		t.Errorf("checkpoint directory mode %v, want 0755", st.Mode().Perm())
	}
}

func TestStateHelpers(t *testing.T) {
	c := &Checkpoint{}
	if err := c.SetState("sampler", map[string]int{"pos": 3}); err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := c.GetState("sampler", &got); err != nil || got["pos"] != 3 {
		t.Fatalf("GetState: %v %v", got, err)
	}
	if err := c.GetState("rng", &got); err == nil || !strings.Contains(err.Error(), `no state section "rng" (it has sampler)`) {
		t.Errorf("missing section: %v", err)
	}
	var wrong string
	if err := c.GetState("sampler", &wrong); err == nil || !strings.Contains(err.Error(), `state section "sampler"`) {
		t.Errorf("wrong type: %v", err)
	}
	if err := c.SetState("bad", func() {}); err == nil {
		t.Error("SetState of a func succeeded")
	}
}

func TestSaveRejectsBadCheckpoints(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Checkpoint)
		want   string
	}{
		{"negative step", func(c *Checkpoint) { c.Step = -1 }, "step -1 is negative"},
		{"bad model tensor", func(c *Checkpoint) { c.Model[0].Shape = []int{5} }, "model: safetensors: tensor encoder.block.0.ffn.wo: shape [5] holds 5 values, the data has 6"},
		{"repeated optimizer tensor", func(c *Checkpoint) { c.Optimizer = append(c.Optimizer, c.Optimizer[0]) }, `optimizer: safetensors: tensor name "embed.m" appears twice`},
		{"reserved file", func(c *Checkpoint) { c.Files[ModelFile] = nil }, `"model.safetensors" is reserved`},
		{"path as file name", func(c *Checkpoint) { c.Files["../x"] = nil }, "not a plain file name"},
		{"hidden file", func(c *Checkpoint) { c.Files[".x"] = nil }, "starts with a dot"},
		{"invalid state JSON", func(c *Checkpoint) { c.State["rng"] = json.RawMessage(`{`) }, `state section "rng" is not valid JSON`},
		{"invalid metadata", func(c *Checkpoint) { c.Metadata["k"] = "\xff" }, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "ckpt")
			if err := Save(dir, sample()); err != nil {
				t.Fatal(err)
			}
			c := sample()
			tt.change(c)
			err := Save(dir, c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, dir, tt.want)
			}
			// The old checkpoint is untouched and nothing is left behind.
			if got, err := Load(dir); err != nil || got.Step != 42 {
				t.Fatalf("the old checkpoint after a refused save: %v", err)
			}
			if names := entries(t, parent); len(names) != 1 {
				t.Errorf("the parent holds %v", names)
			}
		})
	}
}

func TestSaveRefusesToReplaceOtherDirectories(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "notes")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "important.txt"), []byte("keep me"), 0o644)
	if err := Save(dir, sample()); err == nil || !strings.Contains(err.Error(), "not a checkpoint; refusing to replace it") {
		t.Fatalf("saving over a non-checkpoint directory: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "important.txt")); string(b) != "keep me" {
		t.Fatal("the directory was touched")
	}
	file := filepath.Join(parent, "file")
	os.WriteFile(file, nil, 0o644)
	if err := Save(file, sample()); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("saving over a file: %v", err)
	}
	empty := filepath.Join(parent, "empty")
	os.Mkdir(empty, 0o755)
	if err := Save(empty, sample()); err != nil {
		t.Fatalf("saving into an empty directory: %v", err)
	}
}

// TestCrashDuringSave stops Save at each stage as if the process died there: the
// checkpoint must stay loadable (old or new), and the next Save must recover and
// leave nothing behind.
func TestCrashDuringSave(t *testing.T) {
	for _, stage := range []string{stageWritten, stageOldMoved, stageNewMoved} {
		t.Run(stage, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "ckpt")
			old := sample()
			if err := Save(dir, old); err != nil {
				t.Fatal(err)
			}
			next := sample()
			next.Step = 50
			crashAt = stage
			err := Save(dir, next)
			crashAt = ""
			if !errors.Is(err, errSimulatedCrash) {
				t.Fatalf("Save: %v, want the simulated crash", err)
			}
			got, err := Load(dir)
			if err != nil {
				t.Fatalf("after a crash at %s: %v (parent holds %v)", stage, err, entries(t, parent))
			}
			if got.Step != 42 && got.Step != 50 {
				t.Fatalf("loaded step %d", got.Step)
			}
			if err := Verify(dir); err != nil {
				t.Fatal(err)
			}
			if len(entries(t, parent)) < 2 {
				t.Errorf("a crash at %s left %v: the test did not simulate it", stage, entries(t, parent))
			}
			third := sample()
			third.Step = 60
			if err := Save(dir, third); err != nil {
				t.Fatal(err)
			}
			if got, err := Load(dir); err != nil || got.Step != 60 {
				t.Fatalf("after recovery: %v", err)
			}
			if names := entries(t, parent); len(names) != 1 {
				t.Errorf("after recovery the parent holds %v", names)
			}
		})
	}
}

// damage names one way to break a file of a saved checkpoint.
type damage struct {
	name string
	do   func(path string) error
}

func flipAt(frac float64) func(string) error {
	return func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		i := int(frac * float64(len(b)-1))
		b[i] ^= 0x10
		return os.WriteFile(path, b, 0o644)
	}
}

func truncateBy(n int) func(string) error {
	return func(path string) error {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		return os.Truncate(path, max(0, st.Size()-int64(n)))
	}
}

var damages = []damage{
	{"flip first byte", flipAt(0)},
	{"flip middle byte", flipAt(0.5)},
	{"flip last byte", flipAt(1)},
	{"truncate by 1", truncateBy(1)},
	{"truncate to 0", truncateBy(1 << 30)},
	{"append a byte", func(p string) error {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		f.Write([]byte{0})
		return f.Close()
	}},
	{"delete", os.Remove},
	{"replace by a directory", func(p string) error {
		if err := os.Remove(p); err != nil {
			return err
		}
		return os.Mkdir(p, 0o755)
	}},
}

func TestCorruptionIsDetected(t *testing.T) {
	for _, file := range []string{ModelFile, OptimizerFile, "tokenizer.model", ManifestFile} {
		for _, d := range damages {
			t.Run(file+"/"+d.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "ckpt-000042")
				if err := Save(dir, sample()); err != nil {
					t.Fatal(err)
				}
				if err := d.do(filepath.Join(dir, file)); err != nil {
					t.Fatal(err)
				}
				for _, check := range []struct {
					name string
					run  func() error
				}{
					{"Load", func() error { _, err := Load(dir); return err }},
					{"Verify", func() error { return Verify(dir) }},
				} {
					err := check.run()
					var ce *CorruptError
					if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
						t.Fatalf("%s: error %v, want a *CorruptError", check.name, err)
					}
					msg := err.Error()
					if ce.Dir != dir || ce.File != file || !strings.HasPrefix(msg, "checkpoint "+dir+": "+file) ||
						!strings.HasSuffix(msg, "; restore it or resume from an earlier checkpoint") {
						t.Errorf("%s: error %q does not name %s in %s", check.name, msg, file, dir)
					}
				}
			})
		}
	}
}

func TestCorruptionMessages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := Save(dir, sample()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ModelFile)
	b, _ := os.ReadFile(path)
	want := sha256.Sum256(b)
	b[len(b)-1] ^= 1
	got := sha256.Sum256(b)
	os.WriteFile(path, b, 0o644)
	msg := fmt.Sprintf("checkpoint %s: model.safetensors: SHA-256 mismatch (manifest %s…, file %s…): the file was changed or corrupted after saving; restore it or resume from an earlier checkpoint",
		dir, hex.EncodeToString(want[:])[:12], hex.EncodeToString(got[:])[:12])
	if _, err := Load(dir); err == nil || err.Error() != msg {
		t.Errorf("error\n%v\nwant\n%s", err, msg)
	}
	os.WriteFile(path, b[:len(b)-2], 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("model.safetensors: has %d bytes, the manifest says %d: the file was truncated", len(b)-2, len(b))) {
		t.Errorf("truncation: %v", err)
	}
	os.Remove(path)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("model.safetensors: missing (the manifest lists it with %d bytes)", len(b))) {
		t.Errorf("deletion: %v", err)
	}
	os.Remove(filepath.Join(dir, ManifestFile))
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "manifest.json: missing: the directory is not a complete checkpoint") {
		t.Errorf("no manifest: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil || errors.Is(err, ErrCorrupt) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing directory: %v, want a not-exist error", err)
	}
}

// TestBadSafetensorsWithMatchingManifest: a weights file that is not valid
// safetensors is refused even when the manifest was rewritten to match it.
func TestBadSafetensorsWithMatchingManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := Save(dir, sample()); err != nil {
		t.Fatal(err)
	}
	bad := stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, f32bytes(1))
	os.WriteFile(filepath.Join(dir, OptimizerFile), bad, 0o644)
	mb, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	m, err := parseManifest(mb)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bad)
	m.Files[OptimizerFile] = fileEntry{Size: int64(len(bad)), SHA256: hex.EncodeToString(sum[:])}
	mb, _ = encodeManifest(m)
	os.WriteFile(filepath.Join(dir, ManifestFile), mb, 0o644)
	if err := Verify(dir); err != nil {
		t.Fatalf("Verify checks sizes and hashes only: %v", err)
	}
	_, err = Load(dir)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "optimizer.safetensors: not a valid safetensors file: tensor \"a\": data_offsets [0, 4] span 4 bytes") {
		t.Errorf("error %v", err)
	}
}

// seal turns a manifest body (the JSON object without its closing brace) into a
// manifest with a valid checksum, as encodeManifest does.
func seal(body string) []byte {
	b := []byte(body + ",\n  ")
	sum := sha256.Sum256(b)
	return append(b, `"manifest_sha256": "`+hex.EncodeToString(sum[:])+"\"\n}\n"...)
}

const hashA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestManifestParserRejects(t *testing.T) {
	files := `"files": {"model.safetensors": {"size": 1, "sha256": "` + hashA + `"}}`
	tests := []struct {
		name string
		text []byte
		want string // the error, with its line:col
	}{
		{"not JSON", []byte("{\n  \"format\": 2,\n  oops\n}"), "3:3: invalid character 'o'"},
		{"not an object", []byte("[1]"), "1:1: want a JSON object"},
		{"empty", []byte(""), "unexpected end"},
		{"no format", seal("{\n  \"step\": 1,\n  " + files), `no "format" key`},
		{"future format", seal("{\n  \"format\": 3,\n  \"step\": 1,\n  " + files), "2:3: format 3; this program reads formats 1 to 2"},
		{"format a string", seal("{\n  \"format\": \"2\",\n  \"step\": 1,\n  " + files), "2:13: want int, found string"},
		{"unknown key", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  \"steps\": 1,\n  " + files), `4:3: unknown key "steps"`},
		{"duplicate key", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  \"step\": 2,\n  " + files), `4:3: key "step" appears twice`},
		{"no checksum", []byte("{\n  \"format\": 2,\n  \"step\": 1,\n  " + files + "\n}\n"), `no "manifest_sha256" key`},
		{"checksum not last", []byte("{\"format\": 2, \"manifest_sha256\": \"" + hashA + "\", \"step\": 1, " + files + "}"), `must be the last key`},
		{"checksum mismatch", bytes.Replace(seal("{\n  \"format\": 2,\n  \"step\": 1,\n  "+files), []byte(`"step": 1`), []byte(`"step": 2`), 1),
			"checksum mismatch (recorded"},
		{"checksum in format 1", seal("{\n  \"format\": 1,\n  \"step\": 1,\n  " + files), "format 1 manifests have no"},
		{"negative step", seal("{\n  \"format\": 2,\n  \"step\": -1,\n  " + files), "3:3: step -1 is negative"},
		{"no files", seal("{\n  \"format\": 2,\n  \"step\": 1"), `no "files" key`},
		{"file path", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  \"files\": {\"../x\": {\"size\": 1, \"sha256\": \"" + hashA + "\"}}"), "not a plain file name"},
		{"bad hash", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  \"files\": {\"x\": {\"size\": 1, \"sha256\": \"ABC\"}}"), "is not 64 lowercase hex digits"},
		{"negative size", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  \"files\": {\"x\": {\"size\": -1, \"sha256\": \"" + hashA + "\"}}"), "size -1 is negative"},
		{"missing sha", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  \"files\": {\"x\": {\"size\": 1}}"), "needs both size and sha256"},
		{"unknown file key", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  \"files\": {\"x\": {\"size\": 1, \"SHA256\": \"\"}}"), `unknown key "SHA256"`},
		{"metadata not strings", seal("{\n  \"format\": 2,\n  \"step\": 1,\n  " + files + ",\n  \"metadata\": {\"k\": 1}"), "metadata: k: the value must be a string"},
		{"text after", append(seal("{\n  \"format\": 2,\n  \"step\": 1,\n  "+files), "x"...), "7:1: text after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ckpt")
			if err := Save(dir, sample()); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, ManifestFile), tt.text, 0o644)
			_, err := Load(dir)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != ManifestFile {
				t.Fatalf("error %v, want a *CorruptError for manifest.json", err)
			}
			if !strings.Contains(err.Error(), "manifest.json"+map[bool]string{true: ":", false: ": "}[ce.Line > 0]) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestEveryManifestByteIsProtected flips each byte of a manifest in turn: every
// change must be refused.
func TestEveryManifestByteIsProtected(t *testing.T) {
	c := sample()
	m := &manifest{Format: FormatVersion, Step: c.Step, State: c.State, Metadata: c.Metadata,
		Files: map[string]fileEntry{ModelFile: {Size: 1, SHA256: hashA}}}
	b, err := encodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseManifest(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		for _, bit := range []byte{0x01, 0x20, 0x80} {
			changed := bytes.Clone(b)
			changed[i] ^= bit
			if _, err := parseManifest(changed); err == nil {
				t.Errorf("byte %d (%q) xor %#x: accepted", i, b[i], bit)
			}
		}
	}
}

// TestFormat1ManifestIsRead: manifests of format 1 (no checksum of their own, no
// metadata) still load.
func TestFormat1ManifestIsRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	c := sample()
	c.Metadata = nil
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	mb, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	m, err := parseManifest(mb)
	if err != nil {
		t.Fatal(err)
	}
	m.Format = 1
	old, _ := json.MarshalIndent(m, "", "  ")
	os.WriteFile(filepath.Join(dir, ManifestFile), old, 0o644)
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, got, c)
}

func TestManifestGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := Save(dir, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "manifest.golden.json"), got)
}

func FuzzParseManifest(f *testing.F) {
	c := sample()
	m := &manifest{Format: FormatVersion, Step: c.Step, State: c.State, Metadata: c.Metadata,
		Files: map[string]fileEntry{ModelFile: {Size: 1, SHA256: hashA}, OptimizerFile: {Size: 0, SHA256: hashA}}}
	good, _ := encodeManifest(m)
	f.Add(good)
	f.Add([]byte(`{"format":1,"step":0,"files":{}}`))
	f.Add([]byte(`{"format":1,"step":3,"files":{"a":{"size":2,"sha256":"` + hashA + `"}},"state":{"x":[1,{"y":null}]}}`))
	f.Add([]byte(`{"format": 2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest(b)
		if err != nil {
			var me *manifestError
			if !errors.As(err, &me) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if me.offset > int64(len(b)) {
				t.Fatalf("error offset %d past the end (%d bytes)", me.offset, len(b))
			}
			return
		}
		// An accepted manifest is well formed, and re-encoding it gives a manifest
		// that parses to the same content.
		names := sortedKeys(m.Files)
		for _, n := range names {
			if checkFileName(n) != nil || !isHexSHA256(m.Files[n].SHA256) || m.Files[n].Size < 0 {
				t.Fatalf("accepted a bad file entry %q %+v", n, m.Files[n])
			}
		}
		m.Format = FormatVersion
		again, err := encodeManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := parseManifest(again)
		if err != nil {
			t.Fatalf("re-encoded manifest: %v\n%s", err, again)
		}
		if m2.Step != m.Step || !reflect.DeepEqual(m2.Files, m.Files) || len(m2.State) != len(m.State) || len(m2.Metadata) != len(m.Metadata) {
			t.Fatalf("round trip changed the manifest: %+v -> %+v", m, m2)
		}
	})
}
