package monitor

import (
	"bytes"
	"testing"
)

// FuzzRead checks that Read never panics, and that whatever it accepts survives being
// written with Log and read again unchanged.
func FuzzRead(f *testing.F) {
	f.Add([]byte(trainLine + "\n" + evalLine + "\n"))
	f.Add([]byte(trainLine + "\n" + evalLine[:25]))
	f.Add([]byte(`{"step":3,"kind":"train","loss":"NaN","lr":"+Inf","tokens_per_s":"-Inf","metrics":{"g":1e300}}` + "\n"))
	f.Add([]byte(`{"step":0,"time":"2025-03-01T12:00:00.123456789+02:00","kind":"eval","task":"\u00fc\"","metrics":{"f1":-0}}`))
	f.Add([]byte(`{"step":0,"time":"0000-01-01T00:00:00+01:00","kind":"train","loss":1}`))
	f.Add([]byte(`{"step":0,"time":"9999-12-31T23:30:00-01:00","kind":"train","loss":1}`))
	f.Add([]byte("\r\n\n[1]\n"))
	f.Add([]byte(`{"step":1,"kind":"train","loss":1,"loss":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		records, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		l := NewLog(&buf)
		for _, r := range records {
			if err := l.Write(r); err != nil {
				t.Fatalf("Write(%+v) of a record Read accepted: %v", r, err)
			}
		}
		again, err := Read(&buf, "rewritten")
		if err != nil {
			t.Fatalf("reading back what Log wrote: %v\n%s", err, buf.Bytes())
		}
		// Read fills nothing in, so zero times stay zero only if Log kept them; Log
		// stamps zero times, so compare those records without their time.
		for i := range records {
			if records[i].Time.IsZero() && i < len(again) {
				again[i].Time = records[i].Time
			}
		}
		if !sameRecords(records, again) {
			t.Fatalf("round trip changed the records\nbefore %+v\nafter  %+v", records, again)
		}
	})
}
