package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/liquid"
)

// validateGraph checks a graph (kalcifer.ValidateGraph) and the Liquid of
// its channel nodes' fields, which graph cannot parse itself (liquid
// imports the root package, which imports graph). Every save of a graph
// goes through it.
func validateGraph(g *graph.Graph) error {
	if err := kalcifer.ValidateGraph(g); err != nil {
		return err
	}
	var problems []kalcifer.Detail
	for _, n := range g.Nodes {
		for _, f := range graph.LiquidFields(n) {
			err := checker.Check(f.Source)
			if err == nil {
				continue
			}
			d := kalcifer.Detail{NodeID: n.ID, Field: "config." + f.Field}
			var le *liquid.Error
			if errors.As(err, &le) {
				d.Line, d.Column = le.Line, le.Column
			}
			d.Message = fmt.Sprintf("node %q: config.%s is not valid Liquid: %v", n.ID, f.Field, err)
			problems = append(problems, d)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	e := &kalcifer.Error{Code: kalcifer.EINVALIDGRAPH, Message: fmt.Sprintf("the journey graph is invalid (%d problems)", len(problems)), Details: problems}
	if len(problems) == 1 {
		e.Message = "the journey graph is invalid: " + problems[0].Message
	}
	return e
}

// CurrentTemplate returns the tenant's template that ref names — its id,
// or else its name — at its current version; ENOTFOUND when none does.
func (t *EngineTx) CurrentTemplate(tenantID, ref string) (*kalcifer.Template, error) {
	return currentTemplate(t.ctx, t.tx, tenantID, ref)
}

func currentTemplate(ctx context.Context, q Querier, tenantID, ref string) (*kalcifer.Template, error) {
	// Names never start with "tpl_" (checkTemplateName), so an id and a
	// name cannot both match.
	tpl, err := scanTemplate(q.QueryRow(ctx, `SELECT `+templateColumns+` FROM templates t
		JOIN template_versions v ON v.template_id = t.id AND v.version = t.current_version
		WHERE t.tenant_id = $1 AND (t.id = $2 OR t.name = $2)`, tenantID, ref))
	if err != nil {
		return nil, notFound(err, "no template has the id or name %q", ref)
	}
	return tpl, nil
}

// TemplateWarnings lists the channel nodes of g whose template_id names no
// template of the tenant, or a template of another channel: their sends
// would fail. Activation and publishing answer them as warnings.
func (s *Store) TemplateWarnings(ctx context.Context, tenantID string, g *graph.Graph) ([]kalcifer.Warning, error) {
	var out []kalcifer.Warning
	for _, n := range g.Nodes {
		ref := graph.TemplateRef(n)
		if ref == "" {
			continue
		}
		tpl, err := currentTemplate(ctx, s.b.Q(), tenantID, ref)
		var ke *kalcifer.Error
		switch {
		case errors.As(err, &ke) && ke.Code == kalcifer.ENOTFOUND:
			out = append(out, kalcifer.Warning{NodeID: n.ID,
				Message: fmt.Sprintf("its messages will fail: template_id %q names no template (create it with POST /api/v1/templates, or fix the node)", ref)})
		case err != nil:
			return nil, fmt.Errorf("check templates: %w", err)
		default:
			k, _ := graph.LookupKind(n.Type)
			if string(tpl.Channel) != k.Channel {
				out = append(out, kalcifer.Warning{NodeID: n.ID,
					Message: fmt.Sprintf("its messages will fail: template %q is a %s template, and this node sends %s", ref, tpl.Channel, k.Channel)})
			}
		}
	}
	return out, nil
}

// UnsubscribeKey is the key unsubscribe links are signed with. It is
// derived from the API key pepper, which never rotates, so links in emails
// sent before a key rotation keep working.
func (s *Store) UnsubscribeKey() []byte {
	return []byte(s.keyring.MAC([]byte("kalcifer unsubscribe links v1")))
}
