package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/kalcifer/kalcifer"
)

// SendOfTenant reads a send by key inside the transaction, or returns nil
// when the tenant has no send with that key (another tenant's send included).
func (t *EngineTx) SendOfTenant(tenantID, key string) (*kalcifer.Send, error) {
	s, err := scanSend(t.tx.QueryRow(t.ctx, `SELECT `+sendColumns+` FROM sends WHERE key = $1 AND tenant_id = $2`, key, tenantID))
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read send %s: %w", key, err)
	}
	return s, nil
}

// AdvanceDeliveryParams moves a send's delivery status forward.
type AdvanceDeliveryParams struct {
	// Send is the send, as read (SendOfTenant).
	Send *kalcifer.Send
	// Delivery is the new status; it replaces only the statuses of From
	// ("" among them for a send without any yet), so concurrent callbacks
	// cannot move it back.
	Delivery string
	From     []string
	At       time.Time
	Detail   string
}

// AdvanceDelivery records a send's delivery status. It reports false when
// the send's status was not one of p.From (already as far or further).
func (t *EngineTx) AdvanceDelivery(p AdvanceDeliveryParams) (bool, error) {
	if len(p.From) == 0 {
		return false, nil
	}
	args := []any{p.Delivery, micros(p.At), p.Detail, micros(t.now), p.Send.Key, p.Send.TenantID}
	n, err := t.tx.Exec(t.ctx, `UPDATE sends SET delivery = $1, delivery_at = $2, delivery_detail = $3, updated_at = $4
		WHERE key = $5 AND tenant_id = $6 AND delivery IN (`+bind(&args, p.From)+`)`, args...)
	if err != nil {
		return false, fmt.Errorf("record delivery %s of send %s: %w", p.Delivery, p.Send.Key, err)
	}
	if n == 1 && t.observing() {
		t.written.Deliveries = append(t.written.Deliveries, AdvancedDelivery{Send: *p.Send, Delivery: p.Delivery, At: p.At})
	}
	return n == 1, nil
}
