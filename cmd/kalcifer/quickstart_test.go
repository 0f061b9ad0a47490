package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
)

// quickStart returns the shell block of README.md's "Quick start" section:
// the one fenced ```sh block there that uses $KALCIFER_URL.
func quickStart(readme string) (string, error) {
	_, section, ok := strings.Cut(readme, "\n## Quick start\n")
	if !ok {
		return "", errors.New(`README.md has no "## Quick start" section`)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []string
	for rest := section; ; {
		_, after, ok := strings.Cut(rest, "\n```sh\n")
		if !ok {
			break
		}
		block, tail, ok := strings.Cut(after, "\n```")
		if !ok {
			return "", errors.New("the quick start has an unclosed ```sh block")
		}
		if strings.Contains(block, "KALCIFER_URL") {
			blocks = append(blocks, block+"\n")
		}
		rest = tail
	}
	if len(blocks) != 1 {
		return "", errors.New("the quick start needs exactly one ```sh block using $KALCIFER_URL")
	}
	return blocks[0], nil
}

// TestReadmeQuickStart runs README.md's quick start, as written, with sh
// against a real server, and checks that it succeeds and that the customer
// it signs up is in the example journey, waiting where the README says.
func TestReadmeQuickStart(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := quickStart(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"sh", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("the quick start needs %s: %v", tool, err)
			}
			t.Skipf("the quick start needs %s: %v", tool, err)
		}
	}

	env := map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey}
	m := start(t, env, io.Discard)
	defer m.Close()
	base := "http://" + m.Addr().String()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// -e: a failing command fails the run, as a reader would notice it.
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KALCIFER_URL="+base, "KEY="+adminKey)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's quick start failed: %v\n--- script\n%s--- output\n%s", err, script, out.String())
	}

	c := client{t: t, base: base}
	var journeys kalcifer.Page[kalcifer.Journey]
	c.do("GET", "/api/v1/journeys", adminKey, "", 200, &journeys)
	if len(journeys.Data) != 1 || journeys.Data[0].Status != kalcifer.JourneyActive {
		t.Fatalf("journeys after the quick start = %+v\n--- output\n%s", journeys.Data, out.String())
	}
	j := journeys.Data[0]
	// The script's last step: Alice opened the email and waits a week.
	var instances kalcifer.Page[kalcifer.Instance]
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.do("GET", "/api/v1/journeys/"+j.ID+"/instances", adminKey, "", 200, &instances)
		if len(instances.Data) == 1 && instances.Data[0].CustomerID == "alice" &&
			strings.Join(instances.Data[0].Nodes, ",") == "wait_a_week" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances of %s = %+v, want alice at wait_a_week\n--- output\n%s", j.ID, instances.Data, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), `"customer_id":"alice"`) {
		t.Fatalf("the quick start did not show the instance:\n%s", out.String())
	}
}
