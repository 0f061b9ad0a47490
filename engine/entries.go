package engine

import (
	"context"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/store"
)

// entry is one way into an active journey.
type entry struct {
	journeyID    string
	version      int
	allowReentry bool
	nodeID       string
	typ          string
	eventType    string
	filter       map[string]any
}

// enrolEntry is a segment_entry or scheduled_entry of an active journey,
// which enrols customers from the entry loop (enrol.go).
type enrolEntry struct {
	entry
	tenantID  string
	kind      string // store.EntryRunSegment or store.EntryRunScheduled
	segmentID string // "" for a scheduled entry of every customer
	mode      string // a segment entry's graph.Enrol… mode
	spec      store.EntrySpec
}

// entryIndex finds, for an event, the journeys it starts. It is rebuilt when
// any journey changes.
type entryIndex struct {
	byEvent   map[string][]entry // tenant + "\x00" + event type → event entries
	byJourney map[string][]entry // journey ID → all its entries
	// exits holds tenant + "\x00" + event type for the exit-criteria event
	// of every version of every journey (instances of paused and archived
	// journeys still run), so that other events skip looking for instances
	// to end.
	exits map[string]bool
	// enrols are the segment and scheduled entries; bySegmentTenant, per
	// tenant, the segment entries that enrol customers who start matching.
	enrols          []enrolEntry
	bySegmentTenant map[string][]enrolEntry
	// tag is the state of the journeys the index was built from.
	tag string
}

func (idx *entryIndex) match(e *kalcifer.Event) []entry {
	switch e.Type {
	case EventTrigger: // manual enrolment: the journey's first entry, whatever its kind
		if es := idx.byJourney[e.JourneyID]; len(es) > 0 {
			return es[:1]
		}
		return nil
	case EventWebhook:
		for _, en := range idx.byJourney[e.JourneyID] {
			if en.typ == "webhook_entry" {
				return []entry{en}
			}
		}
		return nil
	}
	var out []entry
	for _, en := range idx.byEvent[e.TenantID+"\x00"+e.Type] {
		if e.JourneyID != "" && en.journeyID != e.JourneyID {
			continue
		}
		if FilterMatches(en.filter, e.Data) {
			out = append(out, en)
		}
	}
	return out
}

// entryIndex returns the current index, rebuilding it when journeys
// changed. The journeys are read again only after a wake-up said they
// changed (here or in another replica), or after MaxPollInterval, should
// a wake-up have been lost; an event batch routed with an index that was
// stale all the same is rolled back and routed again (routeBatch).
func (rt *Runtime) entryIndex(ctx context.Context) (*entryIndex, error) {
	rt.entriesMu.Lock()
	defer rt.entriesMu.Unlock()
	dirty := rt.entriesDirty.Swap(false)
	if rt.entries != nil && !dirty && time.Since(rt.entriesRead) < rt.cfg.MaxPollInterval {
		return rt.entries, nil
	}
	read := time.Now()
	tag, err := rt.st.JourneysChanged(ctx)
	if err != nil {
		rt.entriesDirty.Store(true)
		return nil, err
	}
	rt.entriesRead = read
	if rt.entries != nil && tag == rt.entriesTag {
		return rt.entries, nil
	}
	active, err := rt.st.ActiveJourneys(ctx)
	if err != nil {
		rt.entriesDirty.Store(true)
		return nil, err
	}
	idx := &entryIndex{byEvent: map[string][]entry{}, byJourney: map[string][]entry{}, exits: map[string]bool{},
		bySegmentTenant: map[string][]enrolEntry{}}
	for _, a := range active {
		p, err := rt.program(ctx, nil, a.TenantID, a.JourneyID, a.Version)
		if err != nil {
			rt.log.Error("cannot load an active journey; it takes no entries", "journey_id", a.JourneyID, "err", err)
			continue
		}
		for _, n := range p.entries {
			en := entry{journeyID: a.JourneyID, version: a.Version, allowReentry: a.AllowReentry, nodeID: n.id,
				typ: n.typ, eventType: n.entryEvent, filter: n.entryFilter}
			idx.byJourney[a.JourneyID] = append(idx.byJourney[a.JourneyID], en)
			if n.typ == "event_entry" {
				key := a.TenantID + "\x00" + n.entryEvent
				idx.byEvent[key] = append(idx.byEvent[key], en)
			}
			if ee, ok := newEnrolEntry(a.TenantID, en, n); ok {
				idx.enrols = append(idx.enrols, ee)
				if ee.kind == store.EntryRunSegment && ee.mode != graph.EnrolExisting {
					idx.bySegmentTenant[a.TenantID] = append(idx.bySegmentTenant[a.TenantID], ee)
				}
			}
		}
	}
	versions, err := rt.st.AllVersions(ctx)
	if err != nil {
		rt.entriesDirty.Store(true)
		return nil, err
	}
	for _, v := range versions {
		p, err := rt.program(ctx, nil, v.TenantID, v.JourneyID, v.Version)
		if err != nil {
			rt.log.Error("cannot load a journey version; its exit criteria are not applied", "journey_id", v.JourneyID, "version", v.Version, "err", err)
			continue
		}
		if ev := p.ExitEvent(); ev != "" {
			idx.exits[v.TenantID+"\x00"+ev] = true
		}
	}
	idx.tag = tag
	rt.entries, rt.entriesTag = idx, tag
	return idx, nil
}
