package recipe

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/registry"
)

// The test slot: shapes, with two registered components.

type testShape interface{ Area() float64 }

type squareConfig struct {
	Side  int    `yaml:"side"`
	Color string `yaml:"color"`
}

func (c *squareConfig) Area() float64 { return float64(c.Side * c.Side) }

func (c *squareConfig) Validate() []error {
	if c.Side <= 0 {
		return []error{registry.FieldErrorf("side", "must be positive, got %d", c.Side)}
	}
	return nil
}

type circleConfig struct {
	Radius float64 `yaml:"radius"`
}

func (c *circleConfig) Area() float64 { return 3.14159 * c.Radius * c.Radius }

// notAShape is registered but fills no testShape slot.
type notAShape struct {
	X int `yaml:"x"`
}

func init() {
	registry.Register("test.square", func() any { return &squareConfig{Side: 1, Color: "red"} })
	registry.Register("test.circle", func() any { return &circleConfig{Radius: 1} })
	registry.Register("testother.thing", func() any { return &notAShape{} })
	registry.SetNoun(reflect.TypeFor[testShape](), "shape")
}

type testGrid struct {
	Rows int `yaml:"rows"`
	Cols int `yaml:"cols"`
}

type testCommon struct {
	Seed int64 `yaml:"seed"`
}

// testMode is a scalar with its own text decoding.
type testMode int

func (m *testMode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "fast":
		*m = 1
	case "slow":
		*m = 2
	default:
		return fmt.Errorf("mode %q is neither fast nor slow", b)
	}
	return nil
}

type testConfig struct {
	Mode       testMode       `yaml:"mode"`
	Name       string         `yaml:"name" recipe:"required"`
	Size       int            `yaml:"size"`
	Ratio      float32        `yaml:"ratio"`
	Enabled    bool           `yaml:"enabled"`
	Tags       []string       `yaml:"tags"`
	Grid       testGrid       `yaml:"grid"`
	Shape      testShape      `yaml:"shape"`
	Shapes     []testShape    `yaml:"shapes"`
	Limits     map[string]int `yaml:"limits"`
	Timeout    time.Duration  `yaml:"timeout"`
	Level      *uint8         `yaml:"level"`
	Pair       [2]int         `yaml:"pair"`
	Small      int8           `yaml:"small"`
	Hidden     int            `yaml:"-"`
	testCommon `yaml:",inline"`
}

// Validate checks the cross-field rule of the test config: grid.rows divides size.
func (c *testConfig) Validate() []error {
	var errs []error
	if c.Grid.Rows <= 0 || c.Size%c.Grid.Rows != 0 {
		errs = append(errs, registry.FieldErrorf("grid.rows", "%d does not divide size %d", c.Grid.Rows, c.Size))
	}
	if c.Ratio > 1 {
		errs = append(errs, registry.FieldErrorf("ratio", "must be at most 1"))
	}
	if len(c.Tags) > 3 {
		errs = append(errs, errors.New("at most 3 tags"))
	}
	return errs
}

func defaultTestConfig() *testConfig {
	return &testConfig{Size: 64, Ratio: 0.5, Grid: testGrid{Rows: 8, Cols: 8}}
}

func TestDecodeGolden(t *testing.T) {
	runGolden(t, "testdata/decode", func(t *testing.T, path string, sets []string) string {
		cfg := defaultTestConfig()
		info, err := Loader{Sets: sets}.DecodeFile(path, cfg)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			return "error:\n" + err.Error() + "\n"
		}
		out, jerr := json.MarshalIndent(cfg, "", "  ")
		if jerr != nil {
			t.Fatal(jerr)
		}
		return fmt.Sprintf("files: %s\ncomponents: %v\n%s\n", strings.Join(info.Files, ", "), info.Components, out)
	})
}
