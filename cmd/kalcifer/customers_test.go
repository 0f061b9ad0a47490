package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
)

// The real command imports a file into a real server, on each backend, and
// draws its progress on stderr: a bar, rows and their rate.
func TestCustomersImportCommand(t *testing.T) {
	t.Parallel()
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := envFor(t)
			env["KALCIFER_ADMIN_API_KEY"] = adminKey
			m := start(t, env, io.Discard)
			defer m.Close()
			base := "http://" + m.Addr().String()
			dir := t.TempDir()
			var csv strings.Builder
			csv.WriteString("id,plan,address.city,tags\n")
			for i := range 2500 {
				fmt.Fprintf(&csv, "cus_%05d,pro,Lyon,vip;imported\n", i)
			}
			csv.WriteString(",free,,\n") // line 2502: no id
			file := filepath.Join(dir, "people.csv")
			if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := cli(map[string]string{"KALCIFER_API_KEY": adminKey}, "customers", "import", file, "--url", base)
			if code != 1 || !strings.Contains(errOut, "1 of 2501 rows failed") {
				t.Fatalf("code %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, `"imported": 2500`) || !strings.Contains(out, `"line": 2502`) {
				t.Fatalf("report: %s", out)
			}
			if !strings.Contains(errOut, "[==============================] 100%") || !strings.Contains(errOut, "2,501 rows") ||
				!strings.Contains(errOut, "rows/s") {
				t.Fatalf("progress: %q", errOut)
			}
			c := client{t: t, base: base}
			var got kalcifer.Customer
			c.do("GET", "/api/v1/customers/cus_02499/profile", adminKey, "", 200, &got)
			if got.Attributes["plan"] != "pro" || len(got.Tags) != 2 {
				t.Fatalf("imported profile = %+v", got)
			}

			// NDJSON from standard input is not possible in-process; a
			// .jsonl file without failures exits 0.
			nd := filepath.Join(dir, "more.jsonl")
			if err := os.WriteFile(nd, []byte(`{"id":"cus_00001","attributes":{"plan":"gold"}}`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, out, errOut := cli(nil, "customers", "import", "--key", adminKey, "--url", base, nd); code != 0 || !strings.Contains(out, `"imported": 1`) {
				t.Fatalf("ndjson: code %d, out %s, stderr %q", code, out, errOut)
			}
			c.do("GET", "/api/v1/customers/cus_00001/profile", adminKey, "", 200, &got)
			if got.Attributes["plan"] != "gold" || got.Attributes["address"] == nil {
				t.Fatalf("merged profile = %+v", got)
			}

			// Mistakes are told apart: usage (2), refused by the server (1).
			for _, tc := range []struct {
				args []string
				code int
				want string
			}{
				{[]string{"customers", "import", file}, 2, "needs an API key"},
				{[]string{"customers", "import", "--key", adminKey, filepath.Join(dir, "x.txt")}, 2, "--format"},
				{[]string{"customers", "import", "--key", adminKey}, 2, "one FILE"},
				{[]string{"customers", "import", file, "--key", "kal_wrong", "--url", base}, 1, "401"},
				{[]string{"customers", "import", filepath.Join(dir, "missing.csv"), "--key", adminKey, "--url", base}, 1, "no such file"},
			} {
				if code, _, errOut := cli(nil, tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
					t.Errorf("%v: code %d, stderr %q; want %d saying %q", tc.args, code, errOut, tc.code, tc.want)
				}
			}
		})
	}
}
