package liquid

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var sample = map[string]any{
	"customer": map[string]any{"id": "c1", "first_name": "Ada", "tags": []string{"vip"}, "cart": []any{
		map[string]any{"name": "Tea", "price": 3.5}, map[string]any{"name": "Cake"}}},
	"event":    map[string]any{"type": "order", "data": map[string]any{"total": 12}},
	"journey":  map[string]any{"id": "jrn_1", "version": 2},
	"instance": map[string]any{"id": "ins_1", "data": map[string]any{}},
}

func renderString(t *testing.T, e *Engine, src string, strict bool) (string, []Warning, error) {
	t.Helper()
	tpl, err := e.Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return tpl.Render(context.Background(), sample, strict)
}

func TestRender(t *testing.T) {
	e := NewEngine(DefaultLimits)
	tests := []struct{ src, want string }{
		{"Hi {{ customer.first_name }}!", "Hi Ada!"},
		{"{{ customer.first_name | upcase | append: '!' }}", "ADA!"},
		{"{{ customer.nickname | default: 'friend' }}", "friend"},
		{"{% for item in customer.cart %}{{ item.name }}{% unless forloop.last %}, {% endunless %}{% endfor %}", "Tea, Cake"},
		{"{% capture x %}{{ event.type }}-{{ journey.version }}{% endcapture %}{{ x }}", "order-2"},
		{"{% if customer.tags contains 'vip' %}VIP{% else %}no{% endif %}", "VIP"},
		{"{{ customer.tags | join: ', ' }} {{ customer.tags.size }}", "vip 1"},
		{"{{ event.data.total | plus: 1 }} {{ 10 | divided_by: 4.0 }}", "13 2.5"},
		{"{% for i in (1..3) %}{{ i }}{% else %}none{% endfor %}", "123"},
		{"{{ 'a,b' | split: ',' | reverse | join: '' }}", "ba"},
		{"{% raw %}{{ x | nope }}{% endraw %}", "{{ x | nope }}"},
		{"{% comment %}{{ x | nope }}{% endcomment %}ok", "ok"},
	}
	for _, tt := range tests {
		got, warnings, err := renderString(t, e, tt.src, true)
		if err != nil || got != tt.want || len(warnings) > 0 {
			t.Errorf("%q: got %q, %v, %v; want %q", tt.src, got, warnings, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	e := NewEngine(DefaultLimits)
	tests := []struct {
		src          string
		line, column int
		msg          string
	}{
		{"Hi\n  there {{ customer.name | }}", 2, 9, "syntax error"},
		{"{{ customer.name | shout }}", 1, 20, `unknown filter "shout"`},
		{"a\nb {% assign x = 'é' | upcase |\n  nope %}", 3, 3, `unknown filter "nope"`},
		{"{% for x in y %}", 1, 1, `unterminated "for" block`},
		{"x {% bogus %}", 1, 3, `undefined tag "bogus"`},
		{"{% include 'x' %}", 1, 1, `undefined tag "include"`},
		{"{% kalcifer_tick %}", 1, 1, `undefined tag "kalcifer_tick"`},
		{"ééé {{ 'abc }}", 1, 5, "syntax error"},
	}
	for _, tt := range tests {
		_, err := e.Parse(tt.src)
		var le *Error
		if !errors.As(err, &le) || le.Kind != KindSyntax || le.Line != tt.line || le.Column != tt.column || !strings.Contains(le.Message, tt.msg) {
			t.Errorf("%q: got %#v, want line %d column %d %q", tt.src, err, tt.line, tt.column, tt.msg)
		}
	}
}

func TestRequiredVariables(t *testing.T) {
	e := NewEngine(DefaultLimits)
	src := "Hi {{ customer.nickname }}{% if customer.missing %}{{ customer.missing }}{% endif %}\n{% for i in customer.cart %}{{ i.price }}{% endfor %}{{ customer.other | default: 'x' }}"
	_, err := e.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = renderString(t, e, src, true)
	var le *Error
	if !errors.As(err, &le) || le.Kind != KindMissing || le.Variable != "customer.nickname" || le.Line != 1 || le.Column != 4 {
		t.Fatalf("strict: got %#v", err)
	}
	out, warnings, err := renderString(t, e, src, false)
	if err != nil {
		t.Fatal(err)
	}
	if out != "Hi \n3.5x" {
		t.Errorf("lenient output %q", out)
	}
	var names []string
	for _, w := range warnings {
		names = append(names, w.Variable)
	}
	// customer.missing is guarded by its if; Cake has no price.
	if strings.Join(names, ",") != "customer.nickname,i.price" {
		t.Errorf("warnings %v", warnings)
	}
}

// Each hostile template breaks exactly one limit: the others are set out
// of its reach, so the error shows which limit stopped it.
func TestHostileTemplates(t *testing.T) {
	loose := Limits{MaxOutputBytes: 1 << 30, MaxIterations: 1 << 40, MaxItems: 1 << 40, Timeout: time.Hour}
	tests := []struct {
		name   string
		limits func(*Limits)
		src    string
		msg    string
	}{
		{"iterations", func(l *Limits) { l.MaxIterations = 10_000 },
			"{% for a in (1..100000) %}{% for b in (1..100000) %}{% for c in (1..100000) %}{% endfor %}{% endfor %}{% endfor %}",
			"more than 10000 iterations"},
		{"output", func(l *Limits) { l.MaxOutputBytes = 64 << 10 },
			"{% for a in (1..1000000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}", "output is longer than 65536 bytes"},
		{"string doubling", func(l *Limits) { l.MaxOutputBytes = 64 << 10 },
			"{% assign s = 'xxxxxxxx' %}{% for i in (1..100) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}", `filter "append" would build`},
		{"replace blow-up", func(l *Limits) { l.MaxOutputBytes = 64 << 10 },
			"{% assign s = 'xxxxxxxxxxxxxxxx' %}{% assign t = s | append: s | append: s | append: s %}{{ t | replace: 'x', t | replace: 'x', t }}", `filter "replace" would build`},
		{"capture", func(l *Limits) { l.MaxOutputBytes = 64 << 10 },
			"{% capture s %}{% for i in (1..1000000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endcapture %}{{ s | size }}", "output is longer than 65536 bytes"},
		{"huge range", func(l *Limits) { l.MaxItems = 10_000 },
			"{{ (1..1000000000) | join: ',' | size }}", "more than 10000 items"},
		{"deadline", func(l *Limits) { l.Timeout = 50 * time.Millisecond },
			"{% for a in (1..100000) %}{% for b in (1..100000) %}{% endfor %}{% endfor %}", "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := loose
			tt.limits(&l)
			e := NewEngine(l)
			tpl, err := e.Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			start := time.Now()
			go func() { _, _, err := tpl.Render(context.Background(), sample, true); done <- err }()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second): // a hang guard, far above the milliseconds measured
				t.Fatal("the hostile template was not stopped")
			}
			var le *Error
			if !errors.As(err, &le) || le.Kind != KindLimit || !strings.Contains(le.Message, tt.msg) {
				t.Fatalf("got %v, want a limit error %q", err, tt.msg)
			}
			t.Logf("stopped after %v: %v", time.Since(start), err)
		})
	}
}

func TestCancelledRender(t *testing.T) {
	tpl, err := NewEngine(DefaultLimits).Parse("x")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := tpl.Render(ctx, nil, true); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("got %v", err)
	}
}

const benchTemplate = `<h1>Hi {{ customer.first_name | default: "there" }}</h1>
{% for item in customer.cart %}<p>{{ item.name | upcase }}: {{ item.price | default: 0 | times: 1.2 | round: 2 }}</p>{% endfor %}
{% if customer.tags contains "vip" %}<p>Thanks for being a VIP.</p>{% endif %}<p>Order {{ event.data.total }}</p>`

func BenchmarkParse(b *testing.B) {
	e := NewEngine(DefaultLimits)
	for b.Loop() {
		if _, err := e.Parse(benchTemplate); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	tpl, err := NewEngine(DefaultLimits).Parse(benchTemplate)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := tpl.Render(context.Background(), sample, true); err != nil {
			b.Fatal(err)
		}
	}
}
