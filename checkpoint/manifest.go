package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// FormatVersion is the manifest format this package writes. Format 2 adds the
// manifest's own checksum ("manifest_sha256") and free-form metadata to format 1;
// both are read.
const FormatVersion = 2

// MaxManifestSize is the largest manifest.json, in bytes, that Load reads and Save
// writes (64 MiB): the manifest holds sizes, checksums, state sections and metadata,
// not weights, and a bound keeps a damaged or hostile file from exhausting memory.
const MaxManifestSize = 64 << 20

// oldestFormat is the oldest manifest format Load still reads.
const oldestFormat = 1

// checksumKey is the manifest's last key: the SHA-256 of every byte of the manifest
// before the key's opening quote.
const checksumKey = "manifest_sha256"

// manifest is what manifest.json holds.
type manifest struct {
	Format   int                        `json:"format"`
	Step     int                        `json:"step"`
	Files    map[string]fileEntry       `json:"files"`
	State    map[string]json.RawMessage `json:"state,omitempty"`
	Metadata map[string]string          `json:"metadata,omitempty"`
}

// fileEntry records one file of a checkpoint.
type fileEntry struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// encodeManifest returns the manifest.json text of m: indented JSON whose last key,
// manifest_sha256, is the SHA-256 of the bytes before it.
func encodeManifest(m *manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	// Replace the closing "\n}" by the checksum member and close again.
	b = bytes.TrimSuffix(b, []byte("\n}"))
	b = append(b, ",\n  "...)
	sum := sha256.Sum256(b)
	b = append(b, `"`+checksumKey+`": "`+hex.EncodeToString(sum[:])+"\"\n}\n"...)
	return b, nil
}

// manifestError is a problem in manifest.json at a byte offset (-1: none).
type manifestError struct {
	offset int64
	msg    string
}

func (e *manifestError) Error() string { return e.msg }

// parseManifest parses and checks the text of a manifest.json. Errors are
// *manifestError values.
func parseManifest(b []byte) (*manifest, error) {
	fail := func(off int64, format string, args ...any) (*manifest, error) {
		return nil, &manifestError{offset: off, msg: fmt.Sprintf(format, args...)}
	}
	failJSON := func(err error) (*manifest, error) {
		off, ok := jsonPos(err)
		if !ok {
			off = -1
		}
		return fail(off, "%v", err)
	}
	if !utf8.Valid(b) {
		return fail(-1, "not valid UTF-8 text")
	}
	members, err := objectMembers(b, 0)
	if err != nil {
		return failJSON(err)
	}
	byName := map[string]member{}
	for _, m := range members {
		switch m.name {
		case "format", "step", "files", "state", "metadata", checksumKey:
			byName[m.name] = m
		default:
			return fail(m.offset, "unknown key %q (want format, step, files, state, metadata, %s)", m.name, checksumKey)
		}
	}
	fm, ok := byName["format"]
	if !ok {
		return fail(-1, "no \"format\" key: not a checkpoint manifest")
	}
	m := &manifest{}
	if err := decodeStrict(fm.value, fm.valOff, &m.Format); err != nil {
		return failJSON(err)
	}
	if m.Format < oldestFormat || m.Format > FormatVersion {
		return fail(fm.offset, "format %d; this program reads formats %d to %d (a newer program wrote it?)", m.Format, oldestFormat, FormatVersion)
	}
	if m.Format >= 2 {
		cm, ok := byName[checksumKey]
		if !ok {
			return fail(-1, "no %q key (format %d manifests end with their checksum)", checksumKey, m.Format)
		}
		if members[len(members)-1].name != checksumKey {
			return fail(cm.offset, "%q must be the last key", checksumKey)
		}
		var want string
		if err := decodeStrict(cm.value, cm.valOff, &want); err != nil {
			return failJSON(err)
		}
		sum := sha256.Sum256(b[:cm.offset])
		if got := hex.EncodeToString(sum[:]); got != want {
			return fail(cm.offset, "checksum mismatch (recorded %s, content %s): the manifest was changed or corrupted after saving", short(want), short(got))
		}
		// The checksum covers what precedes it; what follows it is fixed.
		if tail := `"` + checksumKey + `": "` + want + "\"\n}\n"; string(b[cm.offset:]) != tail {
			return fail(cm.offset, "the manifest does not end with %q and its checksum, then a line with \"}\" (truncated or changed after saving?)", checksumKey)
		}
	} else if cm, ok := byName[checksumKey]; ok {
		return fail(cm.offset, "format 1 manifests have no %q key", checksumKey)
	}
	sm, ok := byName["step"]
	if !ok {
		return fail(-1, "no \"step\" key")
	}
	if err := decodeStrict(sm.value, sm.valOff, &m.Step); err != nil {
		return failJSON(err)
	}
	if m.Step < 0 {
		return fail(sm.offset, "step %d is negative", m.Step)
	}
	fl, ok := byName["files"]
	if !ok {
		return fail(-1, "no \"files\" key")
	}
	files, err := objectMembers(fl.value, fl.valOff)
	if err != nil {
		return failJSON(err)
	}
	m.Files = make(map[string]fileEntry, len(files))
	for _, f := range files {
		if err := checkFileName(f.name); err != nil {
			return fail(f.offset, "files: %v", err)
		}
		fields, err := objectMembers(f.value, f.valOff)
		if err != nil {
			return failJSON(err)
		}
		var e fileEntry
		has := map[string]bool{}
		for _, fd := range fields {
			var target any
			switch fd.name {
			case "size":
				target = &e.Size
			case "sha256":
				target = &e.SHA256
			default:
				return fail(fd.offset, "files: %s: unknown key %q (want size, sha256)", f.name, fd.name)
			}
			if err := decodeStrict(fd.value, fd.valOff, target); err != nil {
				return failJSON(err)
			}
			has[fd.name] = true
		}
		if !has["size"] || !has["sha256"] {
			return fail(f.offset, "files: %s needs both size and sha256", f.name)
		}
		if e.Size < 0 {
			return fail(f.offset, "files: %s: size %d is negative", f.name, e.Size)
		}
		if !isHexSHA256(e.SHA256) {
			return fail(f.offset, "files: %s: sha256 %q is not 64 lowercase hex digits", f.name, e.SHA256)
		}
		m.Files[f.name] = e
	}
	if st, ok := byName["state"]; ok {
		sections, err := objectMembers(st.value, st.valOff)
		if err != nil {
			return failJSON(err)
		}
		m.State = make(map[string]json.RawMessage, len(sections))
		for _, s := range sections {
			if s.name == "" {
				return fail(s.offset, "state: a section has an empty name")
			}
			m.State[s.name] = append(json.RawMessage(nil), s.value...)
		}
	}
	if md, ok := byName["metadata"]; ok {
		pairs, err := objectMembers(md.value, md.valOff)
		if err != nil {
			return failJSON(err)
		}
		m.Metadata = make(map[string]string, len(pairs))
		for _, p := range pairs {
			var v string
			if err := decodeStrict(p.value, p.valOff, &v); err != nil {
				return fail(p.valOff, "metadata: %s: the value must be a string", p.name)
			}
			m.Metadata[p.name] = v
		}
	}
	return m, nil
}

// checkFileName accepts the plain file names a checkpoint may hold: no path
// separators, not hidden (names starting with "." are this package's temporary
// files), valid UTF-8.
func checkFileName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a file has an empty name")
	case strings.ContainsAny(name, "/\\\x00") || !utf8.ValidString(name):
		return fmt.Errorf("file name %q is not a plain file name (no path separators)", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("file name %q starts with a dot (reserved for temporary files)", name)
	case len(name) > 255:
		return fmt.Errorf("file name %.20q… is longer than 255 bytes", name)
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// short abbreviates a hex digest for messages.
func short(h string) string {
	if len(h) <= 12 {
		return h
	}
	return h[:12] + "…"
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
