package graph

import (
	"fmt"
	"slices"
)

// Decision node types: each routes the path at once, by an outcome.
const (
	TypeCondition    = "condition"
	TypeABSplit      = "ab_split"
	TypeFrequencyCap = "frequency_cap"
)

// The branches out of decisions.
const (
	BranchTrue      = "true"       // condition: the expression holds
	BranchFalse     = "false"      // condition: it does not
	BranchWithinCap = "within_cap" // frequency_cap: fewer messages than max in the window
	BranchExceeded  = "exceeded"   // frequency_cap: max or more
)

var logicKinds = []Kind{
	{Type: TypeCondition, Group: GroupLogic, Branches: []string{BranchTrue, BranchFalse}, Config: ConditionConfig{},
		Description: "Routes the customer by a true/false CEL expression."},
	{Type: TypeABSplit, Group: GroupLogic, Config: ABSplitConfig{}, DynamicBranches: "one per variants[].key",
		Description: "Splits customers between 2 to 5 variants by weight; a customer always gets the same variant."},
	{Type: TypeFrequencyCap, Group: GroupLogic, Branches: []string{BranchWithinCap, BranchExceeded}, Config: FrequencyCapConfig{},
		Description: "Routes by whether the customer got too many messages on a channel recently."},
}

// ConditionConfig is a condition's config.
type ConditionConfig struct {
	Expression string `json:"expression" jsonschema:"minLength=1,maxLength=4000" jsonschema_description:"A CEL expression over customer, event and journey that gives true or false, e.g. customer.plan == \"premium\"."`
}

// Check refuses an expression that does not compile to a boolean.
func (c ConditionConfig) Check(bad func(string, error)) {
	if err := CheckExpression(c.Expression); err != nil {
		bad("expression", err)
	}
}

// ABSplitConfig is an ab_split's config.
type ABSplitConfig struct {
	Variants []Variant `json:"variants" jsonschema:"minItems=2,maxItems=5" jsonschema_description:"The variants; each is a branch out of the node."`
}

// Variant is one way out of an ab_split.
type Variant struct {
	Key    string `json:"key" jsonschema:"pattern=^[A-Za-z0-9_-]{1\\,64}$" jsonschema_description:"The variant's name and branch."`
	Weight uint32 `json:"weight" jsonschema:"minimum=1,maximum=100" jsonschema_description:"Relative share of customers."`
}

// Branches are the variant keys, each required.
func (c ABSplitConfig) Branches() (required, optional []string) {
	for _, v := range c.Variants {
		if v.Key != "" && !slices.Contains(required, v.Key) {
			required = append(required, v.Key)
		}
	}
	return required, nil
}

// Check refuses a key used twice.
func (c ABSplitConfig) Check(bad func(string, error)) {
	seen := map[string]bool{}
	for _, v := range c.Variants {
		if seen[v.Key] {
			bad("variants", fmt.Errorf("has the key %q twice; variant keys must be unique", v.Key))
			return
		}
		seen[v.Key] = true
	}
}

// FrequencyCapConfig is a frequency_cap's config.
type FrequencyCapConfig struct {
	Channel string   `json:"channel" jsonschema:"enum=email,enum=sms,enum=push,enum=whatsapp,enum=webhook,enum=any" jsonschema_description:"The channel counted; any counts every channel."`
	Max     int      `json:"max" jsonschema:"minimum=1,maximum=10000" jsonschema_description:"Most messages allowed in the window."`
	Window  Duration `json:"window"`
}

// Check refuses a window of zero or past MaxDuration.
func (c FrequencyCapConfig) Check(bad func(string, error)) {
	checkDuration(string(c.Window), MaxDuration, "window", bad)
}
