package registry

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"ffn.glu", true},
		{"hyper.grid", true},
		{"myorg.ffn.mixture_2", true},
		{"ffn", false},
		{"", false},
		{"FFN.glu", false},
		{"ffn..glu", false},
		{".glu", false},
		{"ffn.", false},
		{"ffn.2x", false},
		{"ffn.glu-v2", false},
		{"ffn glu", false},
	}
	for _, tc := range tests {
		if got := ValidID(tc.id); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestNamespace(t *testing.T) {
	for id, want := range map[string]string{"ffn.glu": "ffn", "myorg.ffn.mix": "myorg.ffn", "plain": ""} {
		if got := Namespace(id); got != want {
			t.Errorf("Namespace(%q) = %q, want %q", id, got, want)
		}
	}
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if !strings.Contains(r.(string), want) {
			t.Fatalf("panic %q does not mention %q", r, want)
		}
	}()
	f()
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		factory Factory
		want    string
	}{
		{"duplicate", "test.square", func() any { return &squareConfig{} }, "Register called twice"},
		{"malformed", "Square", func() any { return &squareConfig{} }, "malformed ID"},
		{"nil factory", "test.nilfactory", nil, "nil factory"},
		{"not a pointer", "test.value", func() any { return squareConfig{} }, "must return a non-nil pointer"},
		{"nil pointer", "test.nilptr", func() any { return (*squareConfig)(nil) }, "must return a non-nil pointer"},
		{"pointer to non-struct", "test.intptr", func() any { return new(int) }, "must return a non-nil pointer"},
		{"nil", "test.nil", func() any { return nil }, "must return a non-nil pointer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustPanic(t, tc.want, func() { Register(tc.id, tc.factory) })
			if tc.name != "duplicate" {
				if _, ok := Lookup(tc.id); ok {
					t.Errorf("%q was registered despite the panic", tc.id)
				}
			}
		})
	}
}

func TestLookupAndLists(t *testing.T) {
	if f, ok := Lookup("test.circle"); !ok || f().(*circleConfig).Radius != 1 {
		t.Error("Lookup(test.circle) does not return the registered factory")
	}
	if _, ok := Lookup("test.nope"); ok {
		t.Error("Lookup of an unregistered ID succeeded")
	}
	if got, want := IDsIn("test"), []string{"test.circle", "test.square"}; !reflect.DeepEqual(got, want) {
		t.Errorf("IDsIn(test) = %v, want %v", got, want)
	}
	if got, want := Implementing(reflect.TypeFor[testShape]()), []string{"test.circle", "test.square"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Implementing(testShape) = %v, want %v", got, want)
	}
	ids := IDs()
	for _, want := range []string{"test.circle", "test.square", "testother.thing"} {
		if !contains(ids, want) {
			t.Errorf("IDs() = %v, lacks %q", ids, want)
		}
	}
	// Factories return independent values.
	a, _ := NewAs[testShape]("test.square")
	b, _ := NewAs[testShape]("test.square")
	a.(*squareConfig).Side = 99
	if b.(*squareConfig).Side == 99 {
		t.Error("two New calls share one config value")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestNewUnknownID(t *testing.T) {
	tests := []struct {
		id   string
		want string
	}{
		{"test.squre", `unknown shape type "test.squre" (forgotten import?); known: test.circle, test.square; did you mean "test.square"?`},
		{"test.cirlce", `unknown shape type "test.cirlce" (forgotten import?); known: test.circle, test.square; did you mean "test.circle"?`},
		{"Test.Circle", `unknown shape type "Test.Circle" (forgotten import?); known: test.circle, test.square; did you mean "test.circle"?`},
		{"ffn.transformer_xl", `unknown shape type "ffn.transformer_xl" (forgotten import?); known: test.circle, test.square`},
		{"testother.thing", `shape type "testother.thing" cannot be used here: it is a *registry.notAShape, not a registry.testShape; known: test.circle, test.square`},
	}
	for _, tc := range tests {
		_, err := NewAs[testShape](tc.id)
		var u *UnknownIDError
		if !errors.As(err, &u) {
			t.Fatalf("NewAs(%q) error = %v, want an *UnknownIDError", tc.id, err)
		}
		if err.Error() != tc.want {
			t.Errorf("NewAs(%q) error\n got: %s\nwant: %s", tc.id, err, tc.want)
		}
	}
	type noImpl interface{ NeverImplemented() }
	_, err := NewAs[noImpl]("test.square")
	if err == nil || !strings.Contains(err.Error(), "no component types are registered") {
		t.Errorf("error for a slot nothing implements = %v", err)
	}
}

func TestClosest(t *testing.T) {
	cands := []string{"d_model", "d_kv", "heads", "vocab", "encoder_layers", "decoder_layers"}
	tests := []struct{ in, want string }{
		{"dmodel", "d_model"},
		{"d-model", "d_model"},
		{"dModel", "d_model"},
		{"head", "heads"},
		{"encoder_layer", "encoder_layers"},
		{"vocabulary", ""},
		{"xyz", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Closest(tc.in, cands); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"glu", "gluu", 1}, {"flaw", "lawn", 2},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestAlias(t *testing.T) {
	Alias("test.box", "test.square")
	if f, ok := Lookup("test.box"); !ok || f().(*squareConfig).Side != 1 {
		t.Fatal("Lookup of an alias does not find the aliased factory")
	}
	if got := Canonical("test.box"); got != "test.square" {
		t.Errorf("Canonical(test.box) = %q", got)
	}
	if contains(IDs(), "test.box") {
		t.Error("IDs lists an alias")
	}
	if _, err := NewAs[testShape]("test.box"); err != nil {
		t.Errorf("NewAs(alias): %v", err)
	}
	mustPanic(t, "called twice", func() { Alias("test.box", "test.circle") })
	mustPanic(t, "not registered", func() { Alias("test.other", "test.nothing") })
	mustPanic(t, "is a registered ID", func() { Alias("test.circle", "test.square") })
	mustPanic(t, "is an alias", func() { Register("test.box", func() any { return &squareConfig{} }) })
}

func TestFieldErrorPrefix(t *testing.T) {
	errs := Prefix("ffn", errors.Join(FieldErrorf("grid.rows", "is %d", 7), errors.New("broken")), FieldErrorf("", "whole"), nil)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{"ffn.grid.rows: is 7", "ffn: broken", "ffn: whole"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Prefix = %q, want %q", got, want)
	}
	if got := JoinPath("tasks", "[1].name"); got != "tasks[1].name" {
		t.Errorf("JoinPath = %q", got)
	}
}
