package graph

import "github.com/invopop/jsonschema"

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
		Description: "Runs a sandboxed Lua snippet.",
		NotRunnable: "custom_code cannot run yet: the Lua sandbox is not implemented, so every customer reaching the node would fail; " +
			"use update_profile, add_tag or remove_tag"},
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
	Language string    `json:"language" jsonschema:"enum=lua" jsonschema_description:"The language of the code."`
	Code     string    `json:"code" jsonschema:"minLength=1,maxLength=65536" jsonschema_description:"The code to run."`
	Timeout  *Duration `json:"timeout,omitempty"`
}

// Check refuses a timeout of zero or past MaxDuration.
func (c CustomCodeConfig) Check(bad func(string, error)) {
	if c.Timeout != nil {
		checkDuration(string(*c.Timeout), MaxDuration, "timeout", bad)
	}
}
