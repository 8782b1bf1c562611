package data

import (
	"math"
	"strings"
	"testing"
)

func TestMixtureRates(t *testing.T) {
	sizes := []int{100, 1000, 10000}
	tests := []struct {
		name string
		spec MixtureSpec
		want []float64
	}{
		// 100 / 11100, 1000 / 11100, 10000 / 11100
		{"proportional", MixtureSpec{Kind: MixProportional}, []float64{1.0 / 111, 10.0 / 111, 100.0 / 111}},
		// capped at 1000: 100, 1000, 1000 of 2100
		{"proportional cap", MixtureSpec{Kind: MixProportional, Cap: 1000}, []float64{1.0 / 21, 10.0 / 21, 10.0 / 21}},
		// sqrt: 10, 31.6227766, 100 of 141.6227766
		{"temperature 2", MixtureSpec{Kind: MixTemperature, Temperature: 2}, []float64{10 / 141.6227766016838, 31.622776601683793 / 141.6227766016838, 100 / 141.6227766016838}},
		// cap 1000 then cube root: 4.641588834, 10, 10 of 24.641588834
		{"temperature 3 cap", MixtureSpec{Kind: MixTemperature, Temperature: 3, Cap: 1000}, []float64{4.641588833612779 / 24.64158883361278, 10 / 24.64158883361278, 10 / 24.64158883361278}},
		{"temperature 1", MixtureSpec{Kind: MixTemperature, Temperature: 1}, []float64{1.0 / 111, 10.0 / 111, 100.0 / 111}},
		{"equal", MixtureSpec{Kind: MixEqual}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Rates(sizes)
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			for i := range got {
				sum += got[i]
				if math.Abs(got[i]-tt.want[i]) > 1e-12 {
					t.Errorf("rate %d = %.15f, want %.15f", i, got[i], tt.want[i])
				}
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("rates sum to %v", sum)
			}
		})
	}
}

func TestMixtureErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  MixtureSpec
		sizes []int
		want  string
	}{
		{"no kind", MixtureSpec{}, []int{1}, "mixture kind is empty"},
		{"unknown kind", MixtureSpec{Kind: "mixed"}, []int{1}, `mixture kind "mixed" is unknown`},
		{"negative cap", MixtureSpec{Kind: MixProportional, Cap: -1}, []int{1}, "mixture cap is -1"},
		{"cap on equal", MixtureSpec{Kind: MixEqual, Cap: 5}, []int{1}, "equal mixture, which ignores it"},
		{"low temperature", MixtureSpec{Kind: MixTemperature, Temperature: 0.5}, []int{1}, "temperature is 0.5"},
		{"missing temperature", MixtureSpec{Kind: MixTemperature}, []int{1}, "temperature is 0"},
		{"temperature on proportional", MixtureSpec{Kind: MixProportional, Temperature: 2}, []int{1}, `use kind "temperature"`},
		{"empty task", MixtureSpec{Kind: MixEqual}, []int{3, 0}, "mixture task 1 has 0 examples"},
		{"no tasks", MixtureSpec{Kind: MixEqual}, nil, "mixture has no tasks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.spec.Rates(tt.sizes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
