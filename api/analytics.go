package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/analytics"
	"github.com/kalcifer/kalcifer/graph"
)

// The analytics routes (docs/ANALYTICS.md): figures read from the counters
// the analytics observer keeps as the engine runs, narrowed by ?version=,
// ?from= and ?to=, split into a series by ?bucket=hour|day.

// analyticsQuery reads the parameters every analytics figure takes. A bad
// one is a 422 that names it.
func analyticsQuery(q url.Values) (analytics.Query, error) {
	var a analytics.Query
	bad := func(field, format string, args ...any) error {
		e := kalcifer.Errorf(kalcifer.EUNPROCESSABLE, format, args...)
		e.Details = []kalcifer.Detail{{Field: field, Message: e.Message}}
		return e
	}
	if raw := q.Get("version"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || strconv.Itoa(v) != raw {
			return a, bad("version", "version %q is invalid: use a positive integer such as 1", raw)
		}
		a.Version = v
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"from", &a.From}, {"to", &a.To}} {
		raw := q.Get(f.name)
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return a, bad(f.name, "%s %q is invalid: use an RFC 3339 time such as 2026-12-01T00:00:00Z", f.name, raw)
		}
		*f.to = t.UTC()
	}
	if !a.From.IsZero() && !a.To.IsZero() && !a.From.Before(a.To) {
		return a, bad("to", "to (%s) must be after from (%s)", a.To.Format(time.RFC3339), a.From.Format(time.RFC3339))
	}
	switch raw := q.Get("bucket"); raw {
	case "":
	case "hour":
		a.Bucket = time.Hour
	case "day":
		a.Bucket = 24 * time.Hour
	default:
		return a, bad("bucket", "bucket %q is invalid: use hour or day", raw)
	}
	return a, nil
}

// journeyAnalytics serves a journey's figures.
func (s *server) journeyAnalytics(w http.ResponseWriter, r *http.Request) {
	q, err := analyticsQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	j, err := s.store.GetJourney(r.Context(), principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := analytics.Journey(r.Context(), s.store, j, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}

// journeyFunnel serves the figures of every node of a version (the
// current one unless ?version=), in graph order.
func (s *server) journeyFunnel(w http.ResponseWriter, r *http.Request) {
	q, err := analyticsQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := principal(r).TenantID
	j, err := s.store.GetJourney(r.Context(), tenant, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version := q.Version
	if version == 0 {
		version = j.CurrentVersion
	}
	if version == 0 {
		s.writeError(w, r, &kalcifer.Error{Code: kalcifer.ECONFLICT,
			Message: "the journey has no version yet: activate it first, or name a version with ?version=",
			State:   map[string]any{"status": string(j.Status)}})
		return
	}
	v, err := s.store.GetVersion(r.Context(), tenant, j.ID, version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := analytics.Funnel(r.Context(), s.store, j, v, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}

// nodeMetrics serves one node's figures. A node no version of the journey
// has is a 404.
func (s *server) nodeMetrics(w http.ResponseWriter, r *http.Request) {
	q, err := analyticsQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := principal(r).TenantID
	j, err := s.store.GetJourney(r.Context(), tenant, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	node := chi.URLParam(r, "nid")
	known, err := s.nodeInJourney(r, j, node)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !known {
		s.writeError(w, r, kalcifer.Errorf(kalcifer.ENOTFOUND, "node %q not found in journey %s (its draft or any version)", node, j.ID))
		return
	}
	rep, err := analytics.Node(r.Context(), s.store, j, node, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}

// nodeInJourney reports whether node is in the journey's draft or one of
// its versions up to the current one.
func (s *server) nodeInJourney(r *http.Request, j *kalcifer.Journey, node string) (bool, error) {
	if j.Graph != nil && graphHas(j.Graph, node) {
		return true, nil
	}
	for v := j.CurrentVersion; v >= 1; v-- {
		ver, err := s.store.GetVersion(r.Context(), j.TenantID, j.ID, v)
		if err != nil {
			return false, err
		}
		if graphHas(&ver.Graph, node) {
			return true, nil
		}
	}
	return false, nil
}

func graphHas(g *graph.Graph, node string) bool {
	return slices.ContainsFunc(g.Nodes, func(n graph.Node) bool { return n.ID == node })
}

// instanceTrace serves an instance's way through its journey.
func (s *server) instanceTrace(w http.ResponseWriter, r *http.Request) {
	rep, err := analytics.Trace(r.Context(), s.store, principal(r).TenantID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}

// channelAnalytics serves the tenant's sends per channel and provider, of
// one journey with ?journey_id=.
func (s *server) channelAnalytics(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	q, err := analyticsQuery(params)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := principal(r).TenantID
	journeyID := params.Get("journey_id")
	if journeyID != "" {
		j, err := s.store.GetJourney(r.Context(), tenant, journeyID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		journeyID = j.ID
	} else if q.Version != 0 {
		e := kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "version needs journey_id: versions are a journey's")
		e.Details = []kalcifer.Detail{{Field: "version", Message: e.Message}}
		s.writeError(w, r, e)
		return
	}
	rep, err := analytics.Channels(r.Context(), s.store, tenant, journeyID, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rep)
}
