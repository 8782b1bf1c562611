package protowire

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	fields := []Field{
		Varint(1, 0),
		Varint(2, math.MaxUint64),
		Int32(3, -1),
		Bool(4, true),
		Float(5, -2.5),
		String(6, "piece ▁"),
		Bytes(MaxFieldNum, []byte{0, 1, 2}),
		{Num: 7, Type: Fixed64Type, Value: 1 << 60},
	}
	b := Append(nil, fields)
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fields) {
		t.Fatalf("Parse(Append(x)) = %+v, want %+v", got, fields)
	}
	if got[2].AsInt32() != -1 || !got[3].AsBool() || got[4].AsFloat() != -2.5 {
		t.Errorf("typed accessors: %d %v %g", got[2].AsInt32(), got[3].AsBool(), got[4].AsFloat())
	}
	if n := len(Append(nil, []Field{Int32(1, -1)})); n != 11 {
		t.Errorf("negative int32 takes %d bytes, want 11 (sign-extended)", n)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated tag", []byte{0x80}, "end of data"},
		{"field zero", []byte{0x00, 0x01}, "invalid field number 0"},
		{"truncated varint", []byte{0x08, 0xff}, "end of data"},
		{"long varint", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "longer than 10"},
		{"short fixed32", []byte{0x0d, 1, 2}, "end of data"},
		{"short fixed64", []byte{0x09, 1, 2, 3}, "end of data"},
		{"length past end", []byte{0x0a, 0x05, 'a'}, "exceeds"},
		{"group", []byte{0x0b}, "unsupported wire type 3"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in)
		var pe *Error
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want an *Error containing %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts re-encodes to fields it parses
// back identically.
func FuzzParse(f *testing.F) {
	f.Add(Append(nil, []Field{Varint(1, 150), String(2, "testing"), Float(3, 1)}))
	f.Add([]byte{0x0a, 0x05, 'a'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, err := Parse(b)
		if (err == nil) != (Validate(b) == nil) {
			t.Fatalf("Parse error %v, Validate error %v", err, Validate(b))
		}
		if err != nil {
			return
		}
		var raw []byte
		Walk(b, func(_ Field, r []byte) error { raw = append(raw, r...); return nil })
		if string(raw) != string(b) {
			t.Fatal("the raw bytes Walk hands out do not spell the message")
		}
		again, err := Parse(Append(nil, fields))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(again) != len(fields) {
			t.Fatalf("%d fields, then %d", len(fields), len(again))
		}
		for i := range fields {
			if again[i].Num != fields[i].Num || again[i].Type != fields[i].Type ||
				again[i].Value != fields[i].Value || string(again[i].Data) != string(fields[i].Data) {
				t.Fatalf("field %d changed: %+v -> %+v", i, fields[i], again[i])
			}
		}
	})
}

func TestWalk(t *testing.T) {
	b := Append(nil, []Field{Varint(1, 150), String(2, "testing"), Float(3, 1), Varint(1, 2)})
	var raw []byte
	var nums []int32
	err := Walk(b, func(f Field, r []byte) error {
		nums = append(nums, f.Num)
		raw = append(raw, r...)
		return nil
	})
	if err != nil || string(raw) != string(b) || !reflect.DeepEqual(nums, []int32{1, 2, 3, 1}) {
		t.Fatalf("Walk: err %v, fields %v, raw bytes equal: %v", err, nums, string(raw) == string(b))
	}
	stop := errors.New("stop")
	calls := 0
	if err := Walk(b, func(Field, []byte) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Walk returned %v after %d calls, want fn's error after 1", err, calls)
	}
	if err := Validate(b[:len(b)-1]); err == nil {
		t.Error("Validate accepted a truncated message")
	}
	if allocs := testing.AllocsPerRun(10, func() { Validate(b) }); allocs != 0 {
		t.Errorf("Validate allocates %v times, want 0", allocs)
	}
}
