package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kalcifer/kalcifer"
)

// plainState is State without its JSON methods: encoding/json's reflection
// over the same tags, the way every row before the codec was written.
type plainState State

// failer is what testing.TB and *rapid.T share.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

func reflectJSON(t failer, s State) []byte {
	t.Helper()
	b, err := json.Marshal(plainState(s))
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return b
}

func encoded(t failer, s State) []byte {
	t.Helper()
	b, err := encodeState(&s)
	if err != nil {
		t.Fatalf("encodeState: %v", err)
	}
	return b
}

// genericJSON decodes b keeping numbers as written.
func genericJSON(t failer, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

// genString draws strings with what JSON must escape: quotes, control and
// HTML characters, U+2028, non-ASCII and invalid UTF-8.
func genString() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.StringMatching(`[a-z_0-9]{0,12}`),
		rapid.Custom(func(t *rapid.T) string {
			parts := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "\"", "\\", "\n", "\t", "\x01", "\x1f", "<", ">", "&", "\u2028", "\u2029", "é", "日本", "\xff", "\xe2\x82", "/", " "}), 0, 8).Draw(t, "parts")
			return strings.Join(parts, "")
		}),
	)
}

func genTime(t *rapid.T, label string) time.Time {
	zone := rapid.SampledFrom([]*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -(5*3600 + 30*60))}).Draw(t, label+"_zone")
	return time.Unix(rapid.Int64Range(-1e10, 1e11).Draw(t, label), rapid.Int64Range(0, 999999999).Draw(t, label+"_ns")).In(zone)
}

// genJSONValue draws what encoding/json gives back for any JSON: maps,
// slices, strings, float64, bools and nil.
func genJSONValue(depth int) *rapid.Generator[any] {
	leaves := []*rapid.Generator[any]{
		rapid.Map(genString(), func(s string) any { return s }),
		rapid.Map(rapid.Float64Range(-1e6, 1e6), func(f float64) any { return f }),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Just[any](nil),
	}
	if depth == 0 {
		return rapid.OneOf(leaves...)
	}
	return rapid.OneOf(append(leaves,
		rapid.Map(rapid.MapOfN(genString(), genJSONValue(depth-1), 0, 3), func(m map[string]any) any { return m }),
		rapid.Map(rapid.SliceOfN(genJSONValue(depth-1), 0, 3), func(s []any) any { return s }),
	)...)
}

func genState(t *rapid.T) State {
	var s State
	if rapid.Bool().Draw(t, "has_paths") {
		s.Paths = []Path{}
	}
	for range rapid.IntRange(0, 3).Draw(t, "paths") {
		p := Path{ID: rapid.IntRange(0, 1<<40).Draw(t, "id"), Node: genString().Draw(t, "node"), Visit: rapid.Int().Draw(t, "visit"),
			Enter: rapid.Bool().Draw(t, "enter")}
		if rapid.Bool().Draw(t, "since") {
			p.Since = genTime(t, "since")
		}
		if rapid.Bool().Draw(t, "wait") {
			w := &kalcifer.Wait{Kind: kalcifer.WaitKind(genString().Draw(t, "kind")), EventType: genString().Draw(t, "event_type"),
				SendKey: genString().Draw(t, "send_key")}
			if rapid.Bool().Draw(t, "due") {
				due := genTime(t, "due")
				w.DueAt = &due
			}
			if rapid.Bool().Draw(t, "filter") {
				w.Filter = rapid.MapOfN(genString(), genJSONValue(1), 1, 3).Draw(t, "filter")
			}
			p.Wait = w
		}
		s.Paths = append(s.Paths, p)
	}
	s.NextPath = rapid.Int().Draw(t, "next_path")
	s.Visits = rapid.MapOfN(genString(), rapid.Int(), 0, 4).Draw(t, "visits")
	s.Vars = rapid.MapOfN(genString(), genString(), 0, 3).Draw(t, "vars")
	s.Data = rapid.MapOfN(genString(), genJSONValue(2), 0, 3).Draw(t, "data")
	if rapid.Bool().Draw(t, "event") {
		e := &kalcifer.Event{ID: genString().Draw(t, "event_id"), ClientID: genString().Draw(t, "client_id"),
			CustomerID: genString().Draw(t, "customer_id"), Type: genString().Draw(t, "type"), JourneyID: genString().Draw(t, "journey_id"),
			OccurredAt: genTime(t, "occurred"), ReceivedAt: genTime(t, "received")}
		if rapid.Bool().Draw(t, "event_data") {
			raw, err := json.Marshal(rapid.MapOfN(genString(), genJSONValue(2), 0, 4).Draw(t, "payload"))
			if err != nil {
				t.Fatal(err)
			}
			e.Data = raw
		}
		s.Event = e
	}
	s.FailedSends = rapid.IntRange(-3, 3).Draw(t, "failed_sends")
	s.LastFailure = genString().Draw(t, "last_failure")
	return s
}

// The codec writes byte for byte what encoding/json wrote, and reads back
// every row either wrote, also as PostgreSQL's jsonb gives it back (spaces,
// keys reordered), to a state that writes the same bytes again.
func TestStateCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genState(t)
		want := reflectJSON(t, s)
		got := encoded(t, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("codec wrote\n%s\nencoding/json wrote\n%s", got, want)
		}
		generic := genericJSON(t, want)
		reordered, err := json.MarshalIndent(generic, " ", "  ") // keys sorted, as jsonb reorders them
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range [][]byte{want, reordered} {
			back, err := parseState(row)
			if err != nil {
				t.Fatalf("parse %s: %v", row, err)
			}
			again := encoded(t, back)
			g := genericJSON(t, again)
			if !reflect.DeepEqual(g, generic) {
				t.Fatalf("read back and written again\n%s\nwant\n%s", again, want)
			}
			if back.Data != nil {
				t.Fatalf("instance.data was decoded while reading the state")
			}
			data, err := back.instanceData()
			if err != nil {
				t.Fatal(err)
			}
			var ref plainState
			if err := json.Unmarshal(want, &ref); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(data, ref.Data) {
				t.Fatalf("instance.data = %v, want %v", data, ref.Data)
			}
			var old plainState // encoding/json reading the codec's row: the same state
			if err := json.Unmarshal(got, &old); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(genericJSON(t, reflectJSON(t, State(old))), generic) {
				t.Fatalf("encoding/json read the codec's row differently")
			}
		}
	})
}

// A state read from a row and changed by a run keeps its payloads' bytes as
// they were, and a new instance.data replaces the old.
func TestStateCodecKeepsPayloads(t *testing.T) {
	row := []byte(`{"event": {"id": "evt_1", "data": {"items": [{"sku": "A-1", "qty": 2}], "total": 12.50}, "timestamp": "2026-12-07T22:40:39.401484Z",
		"event_type": "order", "customer_id": "c1", "received_at": "2026-12-07T22:40:39.401484Z"}, "data": {"score": 1e2, "tier": "gold"},
		"paths": [{"id": 0, "node": "wait", "wait": {"kind": "timer", "due_at": "2027-01-06T22:40:39.469144Z"}, "since": "2026-12-07T22:40:39.469144Z", "visit": 1}],
		"visits": {"wait": 1, "entry": 1}, "next_path": 1, "unknown": [1, {"a": null}]}`)
	s, err := parseState(row)
	if err != nil {
		t.Fatal(err)
	}
	s.Paths[0].Node, s.Paths[0].Wait = "send", nil
	s.Visits["send"]++
	got := string(encoded(t, s))
	want := `{"paths":[{"id":0,"node":"send","visit":1,"since":"2026-12-07T22:40:39.469144Z"}],"next_path":1,"visits":{"entry":1,"send":1,"wait":1},` +
		`"data":{"score": 1e2, "tier": "gold"},"event":{"id":"evt_1","customer_id":"c1","event_type":"order",` +
		`"data":{"items": [{"sku": "A-1", "qty": 2}], "total": 12.50},"timestamp":"2026-12-07T22:40:39.401484Z","received_at":"2026-12-07T22:40:39.401484Z"}}`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	data, err := s.instanceData()
	if err != nil || data["tier"] != "gold" || data["score"] != 100.0 {
		t.Fatalf("instance data = %v, %v", data, err)
	}
	s.setData(map[string]any{"tier": "silver"})
	if got := string(encoded(t, s)); !strings.Contains(got, `"data":{"tier":"silver"},"event"`) {
		t.Fatalf("new instance data not written: %s", got)
	}
	scrubbed, err := scrubState(row)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"paths":[{"id":0,"node":"wait","visit":1,"wait":{"kind":"timer","due_at":"2027-01-06T22:40:39.469144Z"},"since":"2026-12-07T22:40:39.469144Z"}],"next_path":1,"visits":{"entry":1,"wait":1}}`; string(scrubbed) != want {
		t.Fatalf("scrubbed\n%s\nwant\n%s", scrubbed, want)
	}
}

// Malformed rows are errors, never a panic or a half-read state.
func TestStateCodecRejects(t *testing.T) {
	for _, row := range []string{
		``, `{`, `[]`, `null x`, `{"paths":[{"id":1.5}]}`, `{"paths":{}}`, `{"next_path":"1"}`, `{"visits":{"a":"b"}}`,
		`{"event":{"data":{"a":01}}}`, `{"event":{"data":{"a":"\x"}}}`, `{"data":[1]}`, `{"paths":[{"since":"yesterday"}]}`,
		`{"paths":[]}{}`, `{"last_failure":"a` + "\x01" + `"}`, `{"event":{"data":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`,
		`{"paths":[{"enter":tru}]}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a" 1}`, `{"a":1,}`, `{"a":"\u12G4"}`,
	} {
		if _, err := parseState([]byte(row)); err == nil {
			t.Errorf("parseState(%.60q) accepted it", row)
		}
	}
}

// FuzzParseState: on any bytes the decoder returns an error or a state; it
// accepts only valid JSON, and what it accepts it writes as a state it
// reads back to the same bytes.
func FuzzParseState(f *testing.F) {
	for _, s := range []State{benchStates()["w1m"], benchStates()["j1"], benchStates()["rich"]} {
		f.Add(reflectJSON(f, s))
	}
	f.Add([]byte(`{"event": {"id": "e", "data": {}, "timestamp": "2026-12-07T22:40:39Z"}, "paths": [{"id": 0, "node": "wait", "visit": 1}], "next_path": 1}`))
	f.Add([]byte(`{"paths":null,"data":{"a":[1,2,{"b":"\u00e9\n"}]},"vars":{"ab":"x"}}`))
	f.Fuzz(func(t *testing.T, row []byte) {
		s, err := parseState(row)
		if err != nil {
			return
		}
		if !json.Valid(row) {
			t.Fatalf("accepted invalid JSON %q", row)
		}
		enc, err := encodeState(&s)
		if err != nil {
			return // e.g. a filter that does not encode (NaN cannot come from JSON, so rare)
		}
		if !json.Valid(enc) {
			t.Fatalf("wrote invalid JSON %q from %q", enc, row)
		}
		back, err := parseState(enc)
		if err != nil {
			t.Fatalf("cannot read what it wrote %q: %v", enc, err)
		}
		if again := encoded(t, back); !bytes.Equal(again, enc) {
			t.Fatalf("wrote %q, then %q", enc, again)
		}
	})
}

// benchStates are typical states: W1M's instance in its 30-day wait, J1's
// in its wait_for_event after the welcome webhook, and a richer one with an
// order event and instance.data from custom_code.
func benchStates() map[string]State {
	at := time.Date(2026, 12, 7, 22, 40, 39, 401484000, time.UTC)
	due := at.Add(30 * 24 * time.Hour)
	w1m := State{Paths: []Path{{ID: 0, Node: "wait", Visit: 1, Wait: &kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &due}, Since: at}},
		NextPath: 1, Visits: map[string]int{"entry": 1, "wait": 1},
		Event: &kalcifer.Event{ID: "evt_01m99an3z96bx0pcmy2trahxpp", CustomerID: "c502", Type: "enrol", Data: json.RawMessage(`{}`), OccurredAt: at, ReceivedAt: at}}
	timeout := at.Add(time.Hour)
	j1 := State{Paths: []Path{{ID: 0, Node: "wait", Visit: 1, Wait: &kalcifer.Wait{Kind: kalcifer.WaitEvent, DueAt: &timeout, EventType: "email_opened"}, Since: at}},
		NextPath: 1, Visits: map[string]int{"entry": 1, "welcome": 1, "wait": 1},
		Event: &kalcifer.Event{ID: "evt_01m99an3z96bx0pcmy2trahxpq", CustomerID: "j1-c-004211", Type: "signed_up", Data: json.RawMessage(`{}`), OccurredAt: at, ReceivedAt: at}}
	var items []any
	for i := range 12 {
		items = append(items, map[string]any{"sku": fmt.Sprintf("SKU-%04d", i), "name": "Organic cotton t-shirt, navy", "qty": float64(i%3 + 1), "price": 19.9})
	}
	payload, _ := json.Marshal(map[string]any{"order_id": "ord_8812", "currency": "EUR", "total": 238.8, "items": items,
		"shipping": map[string]any{"country": "DE", "city": "Berlin", "method": "express"}})
	rich := State{Paths: []Path{{ID: 0, Node: "wait_review", Visit: 1, Wait: &kalcifer.Wait{Kind: kalcifer.WaitTimer, DueAt: &due}, Since: at},
		{ID: 1, Node: "wait_open", Visit: 1, Wait: &kalcifer.Wait{Kind: kalcifer.WaitEvent, DueAt: &timeout, EventType: "email_opened"}, Since: at}},
		NextPath: 2, Visits: map[string]int{"entry": 1, "score": 1, "split": 1, "thanks": 1, "wait_review": 1, "wait_open": 1},
		Vars:  map[string]string{"split": "b"},
		Data:  map[string]any{"score": 87.0, "segment": "loyal", "recommendations": []any{"SKU-0101", "SKU-0202", "SKU-0303"}},
		Event: &kalcifer.Event{ID: "evt_01m99an3z96bx0pcmy2trahxpr", CustomerID: "c-77", Type: "order_completed", Data: payload, OccurredAt: at, ReceivedAt: at}}
	return map[string]State{"w1m": w1m, "j1": j1, "rich": rich}
}

// BenchmarkStateCodec compares encoding/json (the codec's predecessor, as
// plainState) with the codec, on reading a row, writing it, and the step
// every wake does: read, move one path to the next node, count the visit,
// write.
func BenchmarkStateCodec(b *testing.B) {
	for _, name := range []string{"w1m", "j1", "rich"} {
		s := benchStates()[name]
		row := reflectJSON(b, s)
		b.Run(name+"/decode/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var p plainState
				if err := json.Unmarshal(row, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/decode/codec", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseState(row); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/encode/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(plainState(s)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/encode/codec", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeState(&s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/step/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var p plainState
				if err := json.Unmarshal(row, &p); err != nil {
					b.Fatal(err)
				}
				st := State(p).clone()
				st.Paths[0].Node, st.Paths[0].Wait = "next", nil
				st.Visits["next"]++
				if _, err := json.Marshal(plainState(st)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/step/codec", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := parseState(row)
				if err != nil {
					b.Fatal(err)
				}
				st := p.clone()
				st.Paths[0].Node, st.Paths[0].Wait = "next", nil
				st.Visits["next"]++
				if _, err := encodeState(&st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
