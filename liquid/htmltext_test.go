package liquid

import "testing"

func TestHTMLToText(t *testing.T) {
	tests := []struct{ html, want string }{
		{"<p>Hello <b>Ada</b>,</p><p>your   order\n shipped.</p>", "Hello Ada,\n\nyour order shipped."},
		{"<html><head><title>T</title><style>p{color:red}</style></head><body><h1>Hi</h1>line one<br>line two</body></html>", "Hi\n\nline one\nline two"},
		{`<p>Track it <a href="https://x.example/t/1">here</a>.</p>`, "Track it here (https://x.example/t/1)."},
		{`<a href="https://x.example">https://x.example</a>`, "https://x.example"},
		{"<ul><li>Tea</li><li>Cake</li></ul><p>Fish &amp; chips &lt;3</p>", "- Tea\n- Cake\n\nFish & chips <3"},
		{"<script>alert(1)</script>plain", "plain"},
		{"<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr></table>", "A B\n\nC"},
	}
	for _, tt := range tests {
		if got := HTMLToText(tt.html); got != tt.want {
			t.Errorf("HTMLToText(%q)\n got %q\nwant %q", tt.html, got, tt.want)
		}
	}
}
