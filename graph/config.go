package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
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
	c, err := decodeAny(Node{Type: n.Type, Config: raw})
	if err != nil { // the schema allowed what Go cannot hold, such as 1.5e3 for an integer
		return []Problem{{NodeID: n.ID, Field: "config", Message: fmt.Sprintf("node %q: %v", n.ID, err)}}
	}
	var out []Problem
	c.Check(func(field string, err error) {
		out = append(out, Problem{NodeID: n.ID, Field: "config." + field, Message: fmt.Sprintf("node %q: config.%s %v", n.ID, field, err)})
	})
	return out
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

// checkDuration reports the duration s of field unless it is longer than
// zero and at most limit.
func checkDuration(s string, limit time.Duration, field string, bad func(string, error)) {
	d, err := ParseDuration(s)
	switch {
	case err != nil && !durationPattern.MatchString(s):
		bad(field, err)
	case err != nil || d > limit: // well formed, so too long
		most := maxDurationText
		if limit != MaxDuration {
			most = formatDuration(limit)
		}
		bad(field, fmt.Errorf("%q is longer than the maximum, %s", s, most))
	case d <= 0:
		bad(field, errors.New("must be longer than zero"))
	}
}

// cronHorizon is how soon a schedule must next fire. A 5-field cron that
// matches any date at all matches one within 8 years (29 February), so
// one that waits longer than this, like 0 0 31 2 *, practically never fires.
const cronHorizon = 5 * 365 * 24 * time.Hour

func checkCron(expr string) error {
	if !gronx.New().IsValid(expr) || len(strings.Fields(expr)) != 5 {
		return fmt.Errorf("%q is not a 5-field cron expression such as 0 9 * * 1", expr)
	}
	now := time.Now().UTC()
	if next, err := gronx.NextTickAfter(expr, now, false); err != nil || next.Sub(now) > cronHorizon {
		return fmt.Errorf("%q never fires: no time matches it within the next 5 years (does the month have that day?)", expr)
	}
	return nil
}

// Limits on the work of one CEL expression. An expression is evaluated while
// an event is routed, so one that runs for seconds stalls routing for every
// tenant: a 252-character condition of 8 nested .all() macros took 12.8 s.
//
// Cost is cel-go's unit: about one per operation, per step of a macro, per
// 10 characters of a string compared or searched. A condition of the usual
// kind (a few comparisons, "vip" in customer.tags, an exists or all over a
// list of a few hundred items) costs in the tens to thousands; a million
// took about 50 ms on one core (an exists over 100,000 items fits).
const (
	// ExprCostLimit is the most an expression may cost. Evaluation stops
	// there with an error, which fails the instance that ran it (exit
	// criteria that cannot be evaluated count as not met); validation
	// refuses an expression whose estimated worst case is above it.
	ExprCostLimit = 1_000_000

	// ExprAssumedSize is the size validation assumes for each list, map
	// and string the expression reads from customer, event or journey
	// (their real sizes are known only when it runs, where the limit
	// above holds whatever they are). At this size a macro over an
	// attribute costs about a thousand and two nested ones (orders, then
	// each order's items) about 70,000; three nested over attributes, or
	// the reported 8 over lists of ten (10^8 steps), are refused.
	ExprAssumedSize = 100
)

// exprLimits puts the limits on every program made from CELEnv, wherever it
// is compiled.
type exprLimits struct{}

func (exprLimits) CompileOptions() []cel.EnvOption { return nil }

func (exprLimits) ProgramOptions() []cel.ProgramOption {
	return []cel.ProgramOption{cel.CostLimit(ExprCostLimit)}
}

// assumedSizes sizes what an expression reads for cost estimation: every
// list, map and string whose size the expression itself does not fix is
// taken to hold up to ExprAssumedSize items.
type assumedSizes struct{}

func (assumedSizes) EstimateSize(cost.AstNode) *cost.SizeEstimate {
	s := cost.RangedSizeEstimate(0, ExprAssumedSize)
	return &s
}

func (assumedSizes) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
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
			cel.Lib(exprLimits{}),
		)
	})
	return celEnv, celErr
}

// CheckExpression reports whether expr compiles in CELEnv, can give a
// boolean and, with inputs of ExprAssumedSize, costs at most ExprCostLimit.
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
	est, err := env.EstimateCost(ast, assumedSizes{})
	if err != nil {
		return fmt.Errorf("%q: cannot estimate its cost: %w", expr, err)
	}
	if est.Max > ExprCostLimit {
		return fmt.Errorf("%q is too costly to evaluate: its estimated cost, with lists of %d items, is %s; the limit is %d (nest fewer macros such as all, exists, map, filter)",
			expr, ExprAssumedSize, costString(est.Max), ExprCostLimit)
	}
	return nil
}

// costString writes an estimated cost, which saturates at the largest
// uint64, for a person.
func costString(c uint64) string {
	if c == math.MaxUint64 {
		return "unbounded"
	}
	return strconv.FormatUint(c, 10)
}
