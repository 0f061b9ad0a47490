package graph

import (
	"time"

	"github.com/invopop/jsonschema"
)

// Data node types: each changes the customer's profile or instance data.
const (
	TypeUpdateProfile = "update_profile"
	TypeAddTag        = "add_tag"
	TypeRemoveTag     = "remove_tag"
	TypeCustomCode    = "custom_code"
)

var dataKinds = []Kind{
	{Type: TypeUpdateProfile, Group: GroupData, Branches: []string{DefaultBranch}, Config: UpdateProfileConfig{},
		Description: "Sets attributes on the customer's profile."},
	{Type: TypeAddTag, Group: GroupData, Branches: []string{DefaultBranch}, Config: TagConfig{},
		Description: "Adds a tag to the customer."},
	{Type: TypeRemoveTag, Group: GroupData, Branches: []string{DefaultBranch}, Config: TagConfig{},
		Description: "Removes a tag from the customer."},
	{Type: TypeCustomCode, Group: GroupData, Branches: []string{DefaultBranch}, Config: CustomCodeConfig{},
		Description: "Runs a Lua snippet in a sandboxed worker process; the table it returns is merged into the instance's data.",
		Off: "custom_code is off on this server: an operator turns it on with KALCIFER_ENABLE_CUSTOM_CODE=true (serve --enable-custom-code), " +
			"which runs its Lua in sandboxed worker processes"},
}

// UpdateProfileConfig is an update_profile's config.
type UpdateProfileConfig struct {
	nothingToCheck
	Set map[string]any `json:"set" jsonschema_description:"Attributes to set on the customer's profile."`
}

// JSONSchemaExtend asks for at least one attribute.
func (UpdateProfileConfig) JSONSchemaExtend(s *jsonschema.Schema) {
	one := uint64(1)
	if p, ok := s.Properties.Get("set"); ok {
		p.MinProperties = &one
	}
}

// TagConfig is the config of add_tag and remove_tag.
type TagConfig struct {
	nothingToCheck
	Tag string `json:"tag" jsonschema:"minLength=1,maxLength=100" jsonschema_description:"The tag."`
}

// CustomCodeConfig is a custom_code's config.
type CustomCodeConfig struct {
	Language string  `json:"language" jsonschema:"enum=lua" jsonschema_description:"The language of the code."`
	Code     string  `json:"code" jsonschema:"minLength=1,maxLength=65536" jsonschema_description:"Lua 5.1 with base, string, table and math. It reads customer, event and instance (id, journey, data) and returns a table of JSON values to merge into instance.data, or nothing."`
	Timeout  *string `json:"timeout,omitempty" jsonschema:"pattern=^[0-9]{1\\,9}(ms|s)$,default=1s" jsonschema_description:"How long the code may run (e.g. 200ms, 2s); at most 5s."`
}

// Check refuses a timeout of zero or past MaxCodeTimeout.
func (c CustomCodeConfig) Check(bad func(string, error)) {
	if c.Timeout != nil {
		checkDuration(*c.Timeout, MaxCodeTimeout, "timeout", bad)
	}
}

// TimeoutOrDefault is how long the code may run.
func (c CustomCodeConfig) TimeoutOrDefault() time.Duration {
	if c.Timeout == nil {
		return DefaultCodeTimeout
	}
	d, _ := ParseDuration(*c.Timeout) // checked by Validate
	return d
}
