package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

const journeyColumns = `id, tenant_id, name, description, status, graph, settings, current_version, lock_version, created_at, updated_at`

// CreateJourney stores j as a new draft of j.TenantID, filling in its ID,
// status and times. A graph, when given, must be valid.
func (s *Store) CreateJourney(ctx context.Context, actor string, j *kalcifer.Journey) error {
	defer s.journeysChanged()
	if err := kalcifer.ValidateName(j.Name); err != nil {
		return err
	}
	if j.Graph != nil {
		if err := validateGraph(j.Graph); err != nil {
			return err
		}
	}
	now := s.now()
	j.ID = kalcifer.NewID("jrn")
	j.Status = kalcifer.JourneyDraft
	j.CurrentVersion = 0
	j.LockVersion = 1
	j.CreatedAt, j.UpdatedAt = now, now
	return s.b.WithTx(ctx, func(tx Tx) error {
		if err := s.checkJourneyQuota(ctx, tx, j.TenantID); err != nil {
			return err
		}
		if err := insertJourney(ctx, tx, j); err != nil {
			return err
		}
		return s.audit(ctx, tx, j.TenantID, actor, "journey.create", "journey", j.ID, map[string]any{"name": j.Name})
	})
}

func insertJourney(ctx context.Context, tx Tx, j *kalcifer.Journey) error {
	g, settings, err := encodeJourney(j)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO journeys (`+journeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		j.ID, j.TenantID, j.Name, j.Description, string(j.Status), g, settings,
		j.CurrentVersion, j.LockVersion, micros(j.CreatedAt), micros(j.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert journey: %w", err)
	}
	return nil
}

// GetJourney returns one journey of the tenant; ENOTFOUND for another
// tenant's.
func (s *Store) GetJourney(ctx context.Context, tenantID, id string) (*kalcifer.Journey, error) {
	return getJourney(ctx, s.b.Q(), tenantID, id)
}

func getJourney(ctx context.Context, q Querier, tenantID, id string) (*kalcifer.Journey, error) {
	j, err := scanJourney(q.QueryRow(ctx, `SELECT `+journeyColumns+` FROM journeys WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if err != nil {
		return nil, notFound(err, "journey %q not found", id)
	}
	return j, nil
}

// ListJourneys returns one page of the tenant's journeys, newest first.
func (s *Store) ListJourneys(ctx context.Context, f kalcifer.JourneyFilter) (kalcifer.Page[*kalcifer.Journey], error) {
	limit := kalcifer.ClampLimit(f.Limit)
	if f.Status != "" && !f.Status.Valid() {
		return kalcifer.Page[*kalcifer.Journey]{}, kalcifer.Errorf(kalcifer.EUNPROCESSABLE,
			"status %q is invalid: use draft, active, paused or archived", f.Status)
	}
	name := ""
	if f.Name != "" {
		name = "%" + escapeLike(strings.ToLower(f.Name)) + "%"
	}
	rows, err := s.b.Q().Query(ctx, `SELECT `+journeyColumns+` FROM journeys
		WHERE tenant_id = $1
		  AND ($2 = '' OR status = $2)
		  AND ($3 = '' OR lower(name) LIKE $3 ESCAPE '\')
		  AND ($4 = '' OR id < $4)
		ORDER BY id DESC LIMIT $5`, f.TenantID, string(f.Status), name, f.Cursor, limit+1)
	if err != nil {
		return kalcifer.Page[*kalcifer.Journey]{}, fmt.Errorf("list journeys: %w", err)
	}
	defer rows.Close()
	page := kalcifer.Page[*kalcifer.Journey]{Data: []*kalcifer.Journey{}}
	for rows.Next() {
		j, err := scanJourney(rows)
		if err != nil {
			return page, fmt.Errorf("list journeys: %w", err)
		}
		page.Data = append(page.Data, j)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list journeys: %w", err)
	}
	return pageOf(page.Data, limit, func(j *kalcifer.Journey) string { return j.ID }), nil
}

// UpdateJourney applies upd. Name, description and settings may change in any
// status but archived; the graph only in a draft, and it must be valid.
func (s *Store) UpdateJourney(ctx context.Context, actor, tenantID, id string, upd kalcifer.JourneyUpdate) (*kalcifer.Journey, error) {
	defer s.journeysChanged()
	var out *kalcifer.Journey
	err := s.b.WithTx(ctx, func(tx Tx) error {
		j, err := getJourney(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if j.Status == kalcifer.JourneyArchived {
			return &kalcifer.Error{Code: kalcifer.ECONFLICT, Message: "an archived journey cannot be changed",
				State: map[string]any{"status": string(j.Status)}}
		}
		changed := []string{}
		if upd.Name != nil {
			if err := kalcifer.ValidateName(*upd.Name); err != nil {
				return err
			}
			j.Name = *upd.Name
			changed = append(changed, "name")
		}
		if upd.Description != nil {
			j.Description = *upd.Description
			changed = append(changed, "description")
		}
		if upd.Settings != nil {
			j.Settings = *upd.Settings
			changed = append(changed, "settings")
		}
		if upd.Graph != nil {
			if err := j.CheckEditable(); err != nil {
				return err
			}
			if err := validateGraph(upd.Graph); err != nil {
				return err
			}
			j.Graph = upd.Graph
			changed = append(changed, "graph")
		}
		if err := s.saveJourney(ctx, tx, j); err != nil {
			return err
		}
		out = j
		return s.audit(ctx, tx, tenantID, actor, "journey.update", "journey", id, map[string]any{"changed": changed})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// saveJourney writes j back if nobody else wrote it since it was read, and
// advances its lock version and update time.
func (s *Store) saveJourney(ctx context.Context, tx Tx, j *kalcifer.Journey) error {
	g, settings, err := encodeJourney(j)
	if err != nil {
		return err
	}
	j.UpdatedAt = s.now()
	n, err := tx.Exec(ctx, `UPDATE journeys SET name = $1, description = $2, status = $3, graph = $4, settings = $5,
		current_version = $6, lock_version = lock_version + 1, updated_at = $7
		WHERE tenant_id = $8 AND id = $9 AND lock_version = $10`,
		j.Name, j.Description, string(j.Status), g, settings, j.CurrentVersion, micros(j.UpdatedAt),
		j.TenantID, j.ID, j.LockVersion)
	if err != nil {
		return fmt.Errorf("save journey %s: %w", j.ID, err)
	}
	if n == 0 {
		return kalcifer.Errorf(kalcifer.ECONFLICT, "journey %q was changed by someone else meanwhile; read it again and retry", j.ID)
	}
	j.LockVersion++
	return nil
}

// DeleteJourney removes a draft journey; other statuses answer ECONFLICT.
func (s *Store) DeleteJourney(ctx context.Context, actor, tenantID, id string) error {
	defer s.journeysChanged()
	return s.b.WithTx(ctx, func(tx Tx) error {
		j, err := getJourney(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := j.CheckDeletable(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM journey_versions WHERE journey_id = $1`, id); err != nil {
			return fmt.Errorf("delete journey %s: %w", id, err)
		}
		n, err := tx.Exec(ctx, `DELETE FROM journeys WHERE tenant_id = $1 AND id = $2 AND lock_version = $3`, tenantID, id, j.LockVersion)
		if err != nil {
			return fmt.Errorf("delete journey %s: %w", id, err)
		}
		if n == 0 {
			return kalcifer.Errorf(kalcifer.ECONFLICT, "journey %q was changed by someone else meanwhile; read it again and retry", id)
		}
		return s.audit(ctx, tx, tenantID, actor, "journey.delete", "journey", id, map[string]any{"name": j.Name})
	})
}

// TransitionJourneyParams are a lifecycle action's arguments.
type TransitionJourneyParams struct {
	Actor     string // who acts, for the audit row
	TenantID  string
	JourneyID string
	Action    kalcifer.JourneyAction
	// Changelog describes the version an activation publishes; the other
	// actions ignore it.
	Changelog string
	// On names the node types that are off unless turned on (graph.Kind.Off)
	// and that this server turned on: activation runs them.
	On []string
}

// TransitionJourney applies a lifecycle action. Activation publishes the
// draft graph as the next immutable version, with p.Changelog.
func (s *Store) TransitionJourney(ctx context.Context, p TransitionJourneyParams) (*kalcifer.Journey, error) {
	defer s.journeysChanged()
	actor, tenantID, id, action, changelog := p.Actor, p.TenantID, p.JourneyID, p.Action, p.Changelog
	var out *kalcifer.Journey
	err := s.b.WithTx(ctx, func(tx Tx) error {
		j, err := getJourney(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		to, err := j.Transition(action)
		if err != nil {
			return err
		}
		data := map[string]any{"from": string(j.Status), "to": string(to)}
		if action == kalcifer.ActionActivate {
			if err := validateGraph(j.Graph); err != nil {
				return err
			}
			if err := CheckRunnable(j.Graph, p.On...); err != nil {
				return err
			}
			if err := checkEntrySegments(ctx, tx, tenantID, j.Graph); err != nil {
				return err
			}
			// Segment entries of new members start from who matches now.
			if err := startEntryRuns(ctx, tx, s.d.JSON, tenantID, j.ID, j.Graph, s.now()); err != nil {
				return err
			}
			n, err := nextVersion(ctx, tx, j.ID)
			if err != nil {
				return err
			}
			v := kalcifer.Version{
				JourneyID: j.ID, Version: n, Status: kalcifer.VersionPublished,
				Graph: *j.Graph, Author: actor, Changelog: changelog, CreatedAt: s.now(),
			}
			v.PublishedAt = &v.CreatedAt
			if err := insertVersion(ctx, tx, tenantID, &v); err != nil {
				return err
			}
			j.CurrentVersion = v.Version
			data["version"] = v.Version
		}
		j.Status = to
		if err := s.saveJourney(ctx, tx, j); err != nil {
			return err
		}
		out = j
		return s.audit(ctx, tx, tenantID, actor, "journey."+string(action), "journey", id, data)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CheckRunnable refuses (EUNPROCESSABLE) a graph with nodes a server that
// turned on the types named in on cannot run, naming each
// (graph.Unrunnable). Activation, publishing and rollback call it; drafts
// may hold such nodes.
func CheckRunnable(g *graph.Graph, on ...string) error {
	problems := graph.Unrunnable(g, on...)
	if len(problems) == 0 {
		return nil
	}
	e := &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE,
		Message: fmt.Sprintf("the journey cannot run: %d nodes cannot run yet (drafts may keep them)", len(problems))}
	if len(problems) == 1 {
		e.Message = "the journey cannot run: " + problems[0].Message
	}
	for _, p := range problems {
		e.Details = append(e.Details, kalcifer.Detail{NodeID: p.NodeID, Field: p.Field, Message: p.Message})
	}
	return e
}

// DuplicateJourney copies a journey's draft graph and settings into a new
// draft named name (default: "<name> (copy)").
func (s *Store) DuplicateJourney(ctx context.Context, actor, tenantID, id, name string) (*kalcifer.Journey, error) {
	defer s.journeysChanged()
	src, err := s.GetJourney(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = src.Name + " (copy)"
		if r := []rune(name); len(r) > kalcifer.MaxJourneyNameLen {
			name = string(r[:kalcifer.MaxJourneyNameLen])
		}
	}
	if err := kalcifer.ValidateName(name); err != nil {
		return nil, err
	}
	now := s.now()
	dup := &kalcifer.Journey{
		ID: kalcifer.NewID("jrn"), TenantID: tenantID, Name: name, Description: src.Description,
		Status: kalcifer.JourneyDraft, Graph: src.Graph, Settings: src.Settings,
		LockVersion: 1, CreatedAt: now, UpdatedAt: now,
	}
	err = s.b.WithTx(ctx, func(tx Tx) error {
		if err := s.checkJourneyQuota(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := insertJourney(ctx, tx, dup); err != nil {
			return err
		}
		return s.audit(ctx, tx, tenantID, actor, "journey.duplicate", "journey", dup.ID, map[string]any{"source": id, "name": name})
	})
	if err != nil {
		return nil, err
	}
	return dup, nil
}

func encodeJourney(j *kalcifer.Journey) (g any, settings string, err error) {
	if j.Graph != nil {
		b, err := json.Marshal(j.Graph)
		if err != nil {
			return nil, "", fmt.Errorf("encode graph: %w", err)
		}
		g = string(b)
	}
	b, err := json.Marshal(j.Settings)
	if err != nil {
		return nil, "", fmt.Errorf("encode settings: %w", err)
	}
	return g, string(b), nil
}

func scanJourney(r Row) (*kalcifer.Journey, error) {
	var j kalcifer.Journey
	var status string
	var g *string
	var settings string
	var createdAt, updatedAt int64
	if err := r.Scan(&j.ID, &j.TenantID, &j.Name, &j.Description, &status, &g, &settings,
		&j.CurrentVersion, &j.LockVersion, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	j.Status = kalcifer.JourneyStatus(status)
	if g != nil {
		j.Graph = new(graph.Graph)
		if err := json.Unmarshal([]byte(*g), j.Graph); err != nil {
			return nil, fmt.Errorf("decode graph of journey %s: %w", j.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(settings), &j.Settings); err != nil {
		return nil, fmt.Errorf("decode settings of journey %s: %w", j.ID, err)
	}
	j.CreatedAt, j.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return &j, nil
}

// escapeLike escapes LIKE's wildcards so user input matches literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
