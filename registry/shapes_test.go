package registry

import "reflect"

// The test slot: shapes, with two registered components and one of another kind.

type testShape interface{ Area() float64 }

type squareConfig struct {
	Side  int    `yaml:"side"`
	Color string `yaml:"color"`
}

func (c *squareConfig) Area() float64 { return float64(c.Side * c.Side) }

type circleConfig struct {
	Radius float64 `yaml:"radius"`
}

func (c *circleConfig) Area() float64 { return 3.14159 * c.Radius * c.Radius }

// notAShape is registered but fills no testShape slot.
type notAShape struct {
	X int `yaml:"x"`
}

func init() {
	Register("test.square", func() any { return &squareConfig{Side: 1, Color: "red"} })
	Register("test.circle", func() any { return &circleConfig{Radius: 1} })
	Register("testother.thing", func() any { return &notAShape{} })
	SetNoun(reflect.TypeFor[testShape](), "shape")
}
