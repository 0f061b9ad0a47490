package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/liquid"
)

// checker checks templates' Liquid on every write. Checking only parses,
// so its render limits do not matter here.
var checker = liquid.NewEngine(liquid.DefaultLimits)

// MaxTemplateNameLen bounds a template's name, in characters.
const MaxTemplateNameLen = 200

const templateColumns = `t.id, t.tenant_id, t.name, t.channel, t.current_version, v.content, t.created_at, t.updated_at`

// checkTemplateName refuses an empty or overlong name, and one that could
// be taken for a template id (channel nodes name a template by either).
func checkTemplateName(name string) error {
	var msg string
	switch {
	case strings.TrimSpace(name) == "":
		msg = "must not be empty"
	case len([]rune(name)) > MaxTemplateNameLen:
		msg = fmt.Sprintf("must be at most %d characters", MaxTemplateNameLen)
	case strings.HasPrefix(name, "tpl_"):
		msg = `must not start with "tpl_", which template ids start with`
	default:
		return nil
	}
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "template name " + msg,
		Details: []kalcifer.Detail{{Field: "name", Message: msg}}}
}

// CreateTemplate stores t as a new template of t.TenantID, version 1,
// filling in its ID, version and times. Its content must suit its channel
// and its Liquid must parse.
func (s *Store) CreateTemplate(ctx context.Context, actor string, t *kalcifer.Template) error {
	if err := checkTemplateName(t.Name); err != nil {
		return err
	}
	if err := checker.CheckContent(t.Channel, t.TemplateContent); err != nil {
		return err
	}
	now := s.now()
	t.ID, t.Version, t.CreatedAt, t.UpdatedAt = kalcifer.NewID("tpl"), 1, now, now
	return s.b.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO templates (id, tenant_id, name, channel, current_version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, t.ID, t.TenantID, t.Name, string(t.Channel), t.Version, micros(now))
		if s.b.IsUniqueViolation(err) {
			return nameTaken(t.Name)
		}
		if err != nil {
			return fmt.Errorf("insert template: %w", err)
		}
		if err := insertTemplateVersion(ctx, tx, t.ID, t.Version, t.TemplateContent, actor, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, t.TenantID, actor, "template.create", "template", t.ID,
			map[string]any{"name": t.Name, "channel": string(t.Channel)})
	})
}

func nameTaken(name string) error {
	return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: fmt.Sprintf("a template named %q exists already", name),
		Details: []kalcifer.Detail{{Field: "name", Message: "is taken"}}}
}

func insertTemplateVersion(ctx context.Context, tx Tx, id string, version int, c kalcifer.TemplateContent, actor string, now time.Time) error {
	content, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode template content: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO template_versions (template_id, version, content, author, created_at)
		VALUES ($1, $2, $3, $4, $5)`, id, version, string(content), actor, micros(now))
	if err != nil {
		return fmt.Errorf("insert template version: %w", err)
	}
	return nil
}

func scanTemplate(r Row) (*kalcifer.Template, error) {
	var t kalcifer.Template
	var channel, content string
	var created, updated int64
	if err := r.Scan(&t.ID, &t.TenantID, &t.Name, &channel, &t.Version, &content, &created, &updated); err != nil {
		return nil, err
	}
	if err := jsonUnmarshal(content, &t.TemplateContent); err != nil {
		return nil, fmt.Errorf("decode template %s: %w", t.ID, err)
	}
	t.Channel, t.CreatedAt, t.UpdatedAt = kalcifer.Channel(channel), fromMicros(created), fromMicros(updated)
	return &t, nil
}

// GetTemplate returns one of the tenant's templates at its current version;
// ENOTFOUND for another tenant's.
func (s *Store) GetTemplate(ctx context.Context, tenantID, id string) (*kalcifer.Template, error) {
	return getTemplate(ctx, s.b.Q(), tenantID, id)
}

func getTemplate(ctx context.Context, q Querier, tenantID, id string) (*kalcifer.Template, error) {
	t, err := scanTemplate(q.QueryRow(ctx, `SELECT `+templateColumns+` FROM templates t
		JOIN template_versions v ON v.template_id = t.id AND v.version = t.current_version
		WHERE t.tenant_id = $1 AND t.id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "template %q not found", id)
	}
	return t, nil
}

// ListTemplates returns one page of the tenant's templates, newest first.
func (s *Store) ListTemplates(ctx context.Context, f kalcifer.TemplateFilter) (kalcifer.Page[*kalcifer.Template], error) {
	limit := kalcifer.ClampLimit(f.Limit)
	if f.Channel != "" && !f.Channel.Valid() {
		return kalcifer.Page[*kalcifer.Template]{}, kalcifer.Errorf(kalcifer.EUNPROCESSABLE,
			"channel %q is invalid: use email, sms, whatsapp or push", f.Channel)
	}
	rows, err := s.b.Q().Query(ctx, `SELECT `+templateColumns+` FROM templates t
		JOIN template_versions v ON v.template_id = t.id AND v.version = t.current_version
		WHERE t.tenant_id = $1 AND ($2 = '' OR t.channel = $2) AND ($3 = '' OR t.id < $3)
		ORDER BY t.id DESC LIMIT $4`, f.TenantID, string(f.Channel), f.Cursor, limit+1)
	if err != nil {
		return kalcifer.Page[*kalcifer.Template]{}, fmt.Errorf("list templates: %w", err)
	}
	defer rows.Close()
	page := kalcifer.Page[*kalcifer.Template]{Data: []*kalcifer.Template{}}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return page, fmt.Errorf("list templates: %w", err)
		}
		page.Data = append(page.Data, t)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list templates: %w", err)
	}
	return pageOf(page.Data, limit, func(t *kalcifer.Template) string { return t.ID }), nil
}

// UpdateTemplateParams are a template change's arguments.
type UpdateTemplateParams struct {
	Actor      string // who acts, for the audit row and the version's author
	TenantID   string
	TemplateID string
	// Name renames the template when not nil.
	Name *string
	// Channel, when set, must be the template's: a channel cannot change.
	Channel kalcifer.Channel
	// Content replaces the content, as a new version; the channel stays.
	Content kalcifer.TemplateContent
}

// UpdateTemplate writes p.Content as the template's next version (and
// renames it when p.Name is set).
func (s *Store) UpdateTemplate(ctx context.Context, p UpdateTemplateParams) (*kalcifer.Template, error) {
	if p.Name != nil {
		if err := checkTemplateName(*p.Name); err != nil {
			return nil, err
		}
	}
	var out *kalcifer.Template
	err := s.b.WithTx(ctx, func(tx Tx) error {
		t, err := getTemplate(ctx, tx, p.TenantID, p.TemplateID)
		if err != nil {
			return err
		}
		if p.Channel != "" && p.Channel != t.Channel {
			return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
				Message: fmt.Sprintf("template %q is for %s and cannot change channel; create a new template for %s", t.ID, t.Channel, p.Channel),
				Details: []kalcifer.Detail{{Field: "channel", Message: "cannot change"}}}
		}
		if err := checker.CheckContent(t.Channel, p.Content); err != nil {
			return err
		}
		if p.Name != nil {
			t.Name = *p.Name
		}
		t.TemplateContent, t.UpdatedAt = p.Content, s.now()
		// The version read is the one bumped: a concurrent update makes
		// this one change no row, and it is refused.
		n, err := tx.Exec(ctx, `UPDATE templates SET name = $1, current_version = current_version + 1, updated_at = $2
			WHERE tenant_id = $3 AND id = $4 AND current_version = $5`, t.Name, micros(t.UpdatedAt), p.TenantID, t.ID, t.Version)
		if s.b.IsUniqueViolation(err) {
			return nameTaken(t.Name)
		}
		if err != nil {
			return fmt.Errorf("update template %s: %w", t.ID, err)
		}
		if n == 0 {
			return kalcifer.Errorf(kalcifer.ECONFLICT, "template %q was changed by someone else meanwhile; read it again and retry", t.ID)
		}
		t.Version++
		if err := insertTemplateVersion(ctx, tx, t.ID, t.Version, t.TemplateContent, p.Actor, t.UpdatedAt); err != nil {
			return err
		}
		out = t
		return s.audit(ctx, tx, p.TenantID, p.Actor, "template.update", "template", t.ID,
			map[string]any{"name": t.Name, "version": t.Version})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteTemplate removes a template and all its versions.
func (s *Store) DeleteTemplate(ctx context.Context, actor, tenantID, id string) error {
	return s.b.WithTx(ctx, func(tx Tx) error {
		t, err := getTemplate(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM template_versions WHERE template_id = $1`, id); err != nil {
			return fmt.Errorf("delete template %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM templates WHERE tenant_id = $1 AND id = $2`, tenantID, id); err != nil {
			return fmt.Errorf("delete template %s: %w", id, err)
		}
		return s.audit(ctx, tx, tenantID, actor, "template.delete", "template", id, map[string]any{"name": t.Name})
	})
}

// TemplateVersions returns every version of one of the tenant's templates,
// newest first.
func (s *Store) TemplateVersions(ctx context.Context, tenantID, id string) ([]*kalcifer.TemplateVersion, error) {
	if _, err := s.GetTemplate(ctx, tenantID, id); err != nil {
		return nil, err
	}
	rows, err := s.b.Q().Query(ctx, `SELECT version, content, author, created_at FROM template_versions
		WHERE template_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("list template versions: %w", err)
	}
	defer rows.Close()
	out := []*kalcifer.TemplateVersion{}
	for rows.Next() {
		v, err := scanTemplateVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list template versions: %w", err)
	}
	return out, nil
}

// TemplateVersion returns one version of one of the tenant's templates: what
// a send pinned to it renders.
func (s *Store) TemplateVersion(ctx context.Context, tenantID, id string, version int) (*kalcifer.TemplateVersion, error) {
	v, err := scanTemplateVersion(s.b.Q().QueryRow(ctx, `SELECT v.version, v.content, v.author, v.created_at
		FROM template_versions v JOIN templates t ON t.id = v.template_id
		WHERE t.tenant_id = $1 AND t.id = $2 AND v.version = $3`, tenantID, id, version))
	if err != nil {
		return nil, notFound(err, "version %d of template %q not found", version, id)
	}
	return v, nil
}

func scanTemplateVersion(r Row) (*kalcifer.TemplateVersion, error) {
	var v kalcifer.TemplateVersion
	var content string
	var created int64
	if err := r.Scan(&v.Version, &content, &v.Author, &created); err != nil {
		return nil, err
	}
	if err := jsonUnmarshal(content, &v.TemplateContent); err != nil {
		return nil, fmt.Errorf("decode template version %d: %w", v.Version, err)
	}
	v.CreatedAt = fromMicros(created)
	return &v, nil
}
