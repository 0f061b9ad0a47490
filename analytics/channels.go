package analytics

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer/store"
)

// ChannelFigures are the sends of one channel through one provider: the
// ledger's final statuses (Sent, Logged by the dry-run provider, Failed,
// Ambiguous, Skipped for unsubscribed customers, Capped) and the delivery
// statuses providers reported (Delivered … Unsubscribed; each counts the
// reports of that status, so a message reported opened without a delivery
// report counts as opened only).
type ChannelFigures struct {
	Channel      string `json:"channel"`
	Provider     string `json:"provider"`
	Sent         int64  `json:"sent"`
	Logged       int64  `json:"logged"`
	Failed       int64  `json:"failed"`
	Ambiguous    int64  `json:"ambiguous"`
	Skipped      int64  `json:"skipped"`
	Capped       int64  `json:"capped"`
	Delivered    int64  `json:"delivered"`
	Opened       int64  `json:"opened"`
	Clicked      int64  `json:"clicked"`
	Bounced      int64  `json:"bounced"`
	DeliveryFail int64  `json:"delivery_failed"`
	Complained   int64  `json:"complained"`
	Unsubscribed int64  `json:"unsubscribed"`
}

func (f *ChannelFigures) add(metric string, n int64) {
	field := map[string]*int64{
		metricSend + "sent": &f.Sent, metricSend + "logged": &f.Logged, metricSend + "failed": &f.Failed,
		metricSend + "ambiguous": &f.Ambiguous, metricSend + "skipped": &f.Skipped, metricSend + "capped": &f.Capped,
		metricDelivery + "delivered": &f.Delivered, metricDelivery + "opened": &f.Opened, metricDelivery + "clicked": &f.Clicked,
		metricDelivery + "bounced": &f.Bounced, metricDelivery + "failed": &f.DeliveryFail,
		metricDelivery + "complained": &f.Complained, metricDelivery + "unsubscribed": &f.Unsubscribed,
	}[metric]
	if field != nil {
		*field += n
	}
}

// ChannelsReport answers GET /analytics/channels.
type ChannelsReport struct {
	// JourneyID narrows to one journey when set.
	JourneyID string `json:"journey_id,omitempty"`
	Version   int    `json:"version,omitempty"`
	Range
	Channels []ChannelFigures `json:"channels"`
	// Versions split the channels by version (with a journey only).
	Versions []ChannelVersion `json:"versions,omitempty"`
	Series   []ChannelPoint   `json:"series,omitempty"`
}

// ChannelVersion is one journey version's channel figures.
type ChannelVersion struct {
	Version  int              `json:"version"`
	Channels []ChannelFigures `json:"channels"`
}

// ChannelPoint is one bucket of the channels' series.
type ChannelPoint struct {
	At       time.Time        `json:"at"`
	Channels []ChannelFigures `json:"channels"`
}

// Channels reads the tenant's send figures per channel and provider, of
// one journey when journeyID is set, of all otherwise.
func Channels(ctx context.Context, st *store.Store, tenantID, journeyID string, q Query) (*ChannelsReport, error) {
	p := q.params(tenantID, journeyID)
	p.Bucket = 0
	counts, err := st.AnalyticsSends(ctx, p)
	if err != nil {
		return nil, err
	}
	r := &ChannelsReport{JourneyID: journeyID, Version: q.Version, Range: q.rangeOf(), Channels: channelFigures(counts)}
	if journeyID != "" {
		byVersion := map[int][]store.SendCount{}
		for _, c := range counts {
			byVersion[c.Version] = append(byVersion[c.Version], c)
		}
		r.Versions = []ChannelVersion{}
		for _, v := range sortedKeys(byVersion) {
			r.Versions = append(r.Versions, ChannelVersion{Version: v, Channels: channelFigures(byVersion[v])})
		}
	}
	if q.Bucket > 0 {
		p.Bucket = q.Bucket
		list, err := st.AnalyticsSends(ctx, p)
		if err != nil {
			return nil, err
		}
		points := map[time.Time][]store.SendCount{}
		for _, c := range list {
			points[c.Hour] = append(points[c.Hour], c)
		}
		for _, at := range sortedTimes(points) {
			r.Series = append(r.Series, ChannelPoint{At: at, Channels: channelFigures(points[at])})
		}
	}
	return r, nil
}

// channelFigures sums counts per channel and provider, in that order.
func channelFigures(counts []store.SendCount) []ChannelFigures {
	by := map[[2]string]*ChannelFigures{}
	for _, c := range counts {
		k := [2]string{c.Channel, c.Provider}
		if by[k] == nil {
			by[k] = &ChannelFigures{Channel: c.Channel, Provider: c.Provider}
		}
		by[k].add(c.Metric, c.N)
	}
	out := make([]ChannelFigures, 0, len(by))
	for _, f := range by {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b ChannelFigures) int {
		return cmp.Or(strings.Compare(a.Channel, b.Channel), strings.Compare(a.Provider, b.Provider))
	})
	return out
}
