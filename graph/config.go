package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/adhocore/gronx"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// checkConfig validates a node's config against its type's schema, then the
// rules a schema cannot say (URLs, times, CEL, cron, unique variant keys).
func checkConfig(n Node) []Problem {
	all, err := compiledSchemas()
	if err != nil { // the schemas are ours: a failure here is a bug
		return []Problem{{NodeID: n.ID, Field: "config", Message: "internal error: " + err.Error()}}
	}
	raw := n.Config
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []Problem{{NodeID: n.ID, Field: "config", Message: fmt.Sprintf("node %q: config is not valid JSON", n.ID)}}
	}
	if err := all[n.Type].Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return []Problem{{NodeID: n.ID, Field: "config", Message: fmt.Sprintf("node %q: %v", n.ID, err)}}
		}
		return schemaProblems(n.ID, ve)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return []Problem{{NodeID: n.ID, Field: "config", Message: fmt.Sprintf("node %q: config must be a JSON object", n.ID)}}
	}
	if check := semantic[n.Type]; check != nil {
		if field, err := check(c); err != nil {
			return []Problem{{NodeID: n.ID, Field: "config." + field, Message: fmt.Sprintf("node %q: config.%s %v", n.ID, field, err)}}
		}
	}
	return nil
}

// schemaProblems turns a schema validation error into one problem per failed
// leaf, located by its JSON path under config.
func schemaProblems(nodeID string, ve *jsonschema.ValidationError) []Problem {
	var out []Problem
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		field := strings.Join(append([]string{"config"}, e.InstanceLocation...), ".")
		msg := leafMessage(e)
		if seen[field+msg] {
			return
		}
		seen[field+msg] = true
		out = append(out, Problem{NodeID: nodeID, Field: field, Message: fmt.Sprintf("node %q: %s: %s", nodeID, field, msg)})
	}
	walk(ve)
	// The validator's order of causes varies from run to run; ours must not.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Message < out[j].Message
	})
	return out
}

// leafMessage is the validator's own sentence for one failure, with the
// property names it lists sorted (it lists them in map order).
func leafMessage(e *jsonschema.ValidationError) string {
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		sort.Strings(k.Properties)
	case *kind.Required:
		sort.Strings(k.Missing)
	}
	unit := e.BasicOutput()
	if unit.Error != nil {
		return unit.Error.String()
	}
	for _, u := range unit.Errors {
		if u.Error != nil {
			return u.Error.String()
		}
	}
	return "is invalid"
}

var customerAttr = regexp.MustCompile(`^customer\.[A-Za-z_][A-Za-z0-9_.]*$`)

// semantic holds per-type checks beyond the schema. Each returns the field
// at fault and what is wrong with it.
var semantic = map[string]func(c map[string]any) (string, error){
	"segment_entry": func(c map[string]any) (string, error) {
		if s, ok := c["schedule"].(string); ok {
			return "schedule", checkCron(s)
		}
		return "", nil
	},
	"scheduled_entry": func(c map[string]any) (string, error) {
		if err := checkCron(c["cron"].(string)); err != nil {
			return "cron", err
		}
		if tz, ok := c["timezone"].(string); ok {
			if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
				return "timezone", fmt.Errorf("%q is not an IANA time zone such as Europe/Paris", tz)
			}
		}
		return "", nil
	},
	"call_webhook": func(c map[string]any) (string, error) {
		raw := c["url"].(string)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "url", fmt.Errorf("%q is not an absolute http or https URL", raw)
		}
		return "", nil
	},
	"wait": func(c map[string]any) (string, error) {
		if d, err := ParseDuration(c["duration"].(string)); err != nil || d <= 0 {
			return "duration", fmt.Errorf("must be longer than zero")
		}
		return "", nil
	},
	"wait_until": func(c map[string]any) (string, error) {
		s := c["until"].(string)
		if _, err := time.Parse(time.RFC3339, s); err == nil || customerAttr.MatchString(s) {
			return "", nil
		}
		return "until", fmt.Errorf("%q is neither an RFC 3339 time (2026-12-24T09:00:00Z) nor a customer attribute (customer.trial_ends_at)", s)
	},
	"wait_for_event": func(c map[string]any) (string, error) {
		if d, err := ParseDuration(c["timeout"].(string)); err != nil || d <= 0 {
			return "timeout", fmt.Errorf("must be longer than zero")
		}
		eb, _ := c["event_branch"].(string)
		tb, _ := c["timeout_branch"].(string)
		if eb == "" {
			eb = "event_received"
		}
		if tb == "" {
			tb = "timed_out"
		}
		if eb == tb {
			return "timeout_branch", fmt.Errorf("must differ from event_branch (both are %q)", eb)
		}
		return "", nil
	},
	"condition": func(c map[string]any) (string, error) {
		return "expression", CheckExpression(c["expression"].(string))
	},
	"ab_split": func(c map[string]any) (string, error) {
		seen := map[string]bool{}
		for _, v := range c["variants"].([]any) {
			k := v.(map[string]any)["key"].(string)
			if seen[k] {
				return "variants", fmt.Errorf("has the key %q twice; variant keys must be unique", k)
			}
			seen[k] = true
		}
		return "", nil
	},
}

func checkCron(expr string) error {
	if !gronx.New().IsValid(expr) || len(strings.Fields(expr)) != 5 {
		return fmt.Errorf("%q is not a 5-field cron expression such as 0 9 * * 1", expr)
	}
	return nil
}

var (
	celOnce sync.Once
	celEnv  *cel.Env
	celErr  error
)

// CELEnv is the environment of every Kalcifer expression: conditions, exit
// criteria and (later) segments see customer, event and journey as maps.
func CELEnv() (*cel.Env, error) {
	celOnce.Do(func() {
		celEnv, celErr = cel.NewEnv(
			cel.Variable("customer", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
			cel.Variable("journey", cel.MapType(cel.StringType, cel.DynType)),
		)
	})
	return celEnv, celErr
}

// CheckExpression reports whether expr compiles in CELEnv and can give a
// boolean.
func CheckExpression(expr string) error {
	env, err := CELEnv()
	if err != nil {
		return err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return fmt.Errorf("%q is not a valid CEL expression: %v", expr, iss.Err())
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return fmt.Errorf("%q gives a %v, not true or false", expr, t)
	}
	return nil
}
