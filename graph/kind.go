package graph

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// Kind is one node type: everything Kalcifer knows about it outside the
// engine. Each kind lives in graph/kind_<family>.go as a typed config struct
// (json tags for the wire, jsonschema tags for the schema), its checks (the
// struct's Check method), its branch constants and one Kind value; the
// catalog, the validator, /node-types, the migration planner and the AI
// designer all read it from here.
type Kind struct {
	Type        string
	Group       string // entry, channel, logic, data or exit
	Description string
	// Holds says what a customer at a node of this kind waits for, if
	// anything: live migration moves a waiting customer only to a node that
	// holds the same.
	Holds Holds
	// Channel names the channel a channel kind sends on ("email",
	// "webhook"); providers are chosen by it.
	Channel string
	// Branches are the fixed branches out of the node; DefaultBranch for
	// plain nodes, none for nodes that end the journey.
	Branches []string
	// OptionalBranches may have an edge but need none (a channel's failed).
	OptionalBranches []string
	// DynamicBranches explains branches that come from the config; the
	// config says which by implementing Brancher.
	DynamicBranches string
	// NotRunnable, when set, says why the engine cannot run the kind yet and
	// what to use instead (see Unrunnable).
	NotRunnable string
	// Off, when set, marks a kind that a server runs only when its operator
	// turns it on, and says how; a server that has not is as if the kind
	// were NotRunnable with this message (see Unrunnable and Types).
	Off string
	// Config is the zero value of the kind's config struct, such as
	// WaitForEventConfig{}. Its JSON Schema is generated from it and
	// DecodeConfig decodes into it.
	Config Config
}

// Holds is what a customer at a node waits for.
type Holds string

// What a node may hold a customer for.
const (
	HoldsNothing Holds = ""     // the customer passes through at once
	HoldsWait    Holds = "wait" // a timer or an event
	HoldsSend    Holds = "send" // a message's outcome
)

// Config is a node kind's typed config.
type Config interface {
	// Check reports, through bad, each field that breaks a rule its JSON
	// Schema cannot say (URLs, times, CEL, cron, unique keys). It runs only
	// on a config that matches the schema.
	Check(bad func(field string, err error))
}

// Brancher is a config that decides the branches out of its node.
type Brancher interface {
	Branches() (required, optional []string)
}

// nothingToCheck is embedded by configs whose schema says everything.
type nothingToCheck struct{}

// Check reports nothing: the schema says it all.
func (nothingToCheck) Check(func(string, error)) {}

// families lists every kind, family by family, in the design's order; it is
// the catalog. A new kind goes in its family's list.
var families = [][]Kind{entryKinds, channelKinds, waitKinds, logicKinds, dataKinds, exitKinds}

var (
	kinds      []Kind
	kindByType map[string]Kind
	types      []NodeType
	byType     map[string]NodeType
)

func init() {
	kindByType = map[string]Kind{}
	byType = map[string]NodeType{}
	for _, f := range families {
		for _, k := range f {
			if _, dup := kindByType[k.Type]; dup {
				panic("graph: node type " + k.Type + " registered twice")
			}
			schema, err := configSchema(reflect.TypeOf(k.Config))
			if err != nil {
				panic(fmt.Sprintf("graph: schema of %s: %v", k.Type, err))
			}
			nt := NodeType{Type: k.Type, Group: k.Group, Description: k.Description,
				Branches: slices.Clone(k.Branches), OptionalBranches: slices.Clone(k.OptionalBranches),
				DynamicBranches: k.DynamicBranches, ConfigSchema: schema, NotRunnable: cmp.Or(k.NotRunnable, k.Off)}
			if nt.Branches == nil {
				nt.Branches = []string{}
			}
			kinds = append(kinds, k)
			kindByType[k.Type] = k
			types = append(types, nt)
			byType[k.Type] = nt
		}
	}
}

// Kinds returns every node kind, in catalog order.
func Kinds() []Kind { return slices.Clone(kinds) }

// LookupKind returns the kind named typ.
func LookupKind(typ string) (Kind, bool) {
	k, ok := kindByType[typ]
	return k, ok
}

// HoldsOf says what a node of type typ holds a customer for.
func HoldsOf(typ string) Holds { return kindByType[typ].Holds }

// TypesHolding lists the types that hold h, in catalog order.
func TypesHolding(h Holds) []string {
	var out []string
	for _, k := range kinds {
		if k.Holds == h {
			out = append(out, k.Type)
		}
	}
	return out
}

// DecodeConfig decodes n's config into its kind's config struct C; an
// absent config is C's zero value. It refuses a C that is not n's kind's.
func DecodeConfig[C Config](n Node) (C, error) {
	var c C
	k, ok := kindByType[n.Type]
	if !ok {
		return c, fmt.Errorf("unknown node type %q", n.Type)
	}
	if reflect.TypeOf(k.Config) != reflect.TypeOf(c) {
		return c, fmt.Errorf("node type %s has a %T config, not a %T", n.Type, k.Config, c)
	}
	if err := unmarshalConfig(n.Config, &c); err != nil {
		return c, err
	}
	return c, nil
}

// decodeAny decodes n's config into a new value of its kind's config type.
func decodeAny(n Node) (Config, error) {
	k, ok := kindByType[n.Type]
	if !ok {
		return nil, fmt.Errorf("unknown node type %q", n.Type)
	}
	p := reflect.New(reflect.TypeOf(k.Config))
	if err := unmarshalConfig(n.Config, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface().(Config), nil
}

func unmarshalConfig(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return nil
}

// Duration is a journey duration in config: a whole number and a unit, s,
// m, h or d ("30s", "15m", "12h", "3d"), at most MaxDuration.
type Duration string

// Value parses d.
func (d Duration) Value() (time.Duration, error) { return ParseDuration(string(d)) }

// JSONSchema is the schema of every Duration field.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: `^[0-9]{1,9}(s|m|h|d)$`}
}

// durationHelp describes a Duration field that says nothing more of its own.
const durationHelp = "A whole number and a unit: s, m, h or d (30s, 15m, 12h, 3d); at most 3650d (10 years)."

var durationType = reflect.TypeOf(Duration(""))

// configSchema generates the JSON Schema (draft 2020-12) of a config struct:
// every property from its field's json and jsonschema tags, inline (no $defs,
// no $schema or $id, as /node-types has always served them).
func configSchema(t reflect.Type) (json.RawMessage, error) {
	r := &jsonschema.Reflector{Anonymous: true, DoNotReference: true}
	s := r.ReflectFromType(t)
	s.Version, s.ID = "", ""
	// invopop reads a field's description from its tag only, so a Duration
	// field without one gets the shared help text here.
	for i := range t.NumField() {
		f := t.Field(i)
		if ft := f.Type; ft != durationType && (ft.Kind() != reflect.Pointer || ft.Elem() != durationType) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if p, ok := s.Properties.Get(name); ok && p.Description == "" {
			p.Description = durationHelp
		}
	}
	return json.Marshal(s)
}
