package store

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/kalcifer/kalcifer"
)

// EraseCustomerParams are EraseCustomer's arguments.
type EraseCustomerParams struct {
	TenantID, CustomerID string
	// Actor is who asked (the API key or user), for the audit entry.
	Actor string
	// Exit ends one of the customer's active or paused instances, inside
	// the erasure's transaction, the way the engine exits any instance
	// (its waits cleared, its place in the journey freed).
	Exit func(t *EngineTx, in *kalcifer.Instance) error
	// Scrub returns an instance state without personal data; it is
	// applied to the customer's instances and to their migrations' undo
	// records.
	Scrub func(state json.RawMessage) (json.RawMessage, error)
}

// erasedPrefix starts the random customer id an erasure gives the
// customer's instances and sends (kalcifer.NewID's form).
const erasedPrefix = "erased"

var erasedID = regexp.MustCompile(`^` + erasedPrefix + `_[0-9a-hjkmnp-tv-z]{26}$`)

// IsErased reports whether a customer id is the pseudonym of an erased
// customer, as an erased customer's instances and sends carry: delivery
// statuses of such sends make no customer event.
func IsErased(customerID string) bool { return erasedID.MatchString(customerID) }

// ErasedReason is the reason of the instances an erasure exits.
const ErasedReason = "customer erased"

// erasedSendDetail is the detail of the sends an erasure cancels.
const erasedSendDetail = "not sent: the customer was erased"

// EraseCustomer erases a customer for good (GDPR), in one transaction:
// their stored events are deleted first (on PostgreSQL this waits for an
// event worker routing one of them to commit, so the instances read next
// include any it started); their active and paused instances are exited
// through p.Exit; the profile is deleted; their instances and sends are
// pseudonymised — a random customer id in place of theirs, instance data,
// entry events, step details, send configs and provider details removed —
// and pending sends cancelled; their segment entry memberships, queued
// changes and aliases (ids merged into them, and the one they were merged
// into) are deleted; an audit entry records counts, the actor and
// a keyed hash of the id, never the id. A customer with no profile, events
// or instances is ENOTFOUND, so a second erasure is one. ErrConflict means
// an instance changed meanwhile: run it again.
func (s *Store) EraseCustomer(ctx context.Context, p EraseCustomerParams) (*kalcifer.Erasure, error) {
	var out *kalcifer.Erasure
	err := s.WithEngineTx(ctx, func(t *EngineTx) error {
		e := &kalcifer.Erasure{Subject: s.ErasureSubject(p.TenantID, p.CustomerID), ErasedBy: p.Actor, ErasedAt: t.now}
		var err error
		if e.Events, err = t.tx.Exec(ctx, `DELETE FROM events WHERE tenant_id = $1 AND customer_id = $2`, p.TenantID, p.CustomerID); err != nil {
			return fmt.Errorf("erase events: %w", err)
		}
		active, err := t.ActiveInstances(p.TenantID, p.CustomerID)
		if err != nil {
			return err
		}
		for _, in := range active {
			if err := p.Exit(t, in); err != nil {
				return err
			}
		}
		e.ExitedInstances = len(active)
		n, err := t.tx.Exec(ctx, `DELETE FROM customers WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.CustomerID)
		if err != nil {
			return fmt.Errorf("erase profile: %w", err)
		}
		e.Profile = int(n)
		if err := t.erasePersonalRows(p.TenantID, p.CustomerID); err != nil {
			return err
		}
		alias := kalcifer.NewID(erasedPrefix)
		if e.Instances, err = t.pseudonymiseInstances(p, alias); err != nil {
			return err
		}
		if e.Events == 0 && e.Profile == 0 && e.Instances == 0 {
			return kalcifer.Errorf(kalcifer.ENOTFOUND, "customer %q not found: no profile, events or journeys (erased already?)", p.CustomerID)
		}
		if e.Sends, err = t.tx.Exec(ctx, `UPDATE sends SET customer_id = $3, config = '{}', detail = '', delivery_detail = ''
			WHERE tenant_id = $1 AND customer_id = $2`, p.TenantID, p.CustomerID, alias); err != nil {
			return fmt.Errorf("pseudonymise sends: %w", err)
		}
		if e.CancelledSends, err = t.tx.Exec(ctx, `UPDATE sends SET status = 'failed', detail = $3, next_attempt_at = NULL,
			completed_at = $4, updated_at = $4 WHERE tenant_id = $1 AND customer_id = $2 AND status = 'pending'`,
			p.TenantID, alias, erasedSendDetail, micros(t.now)); err != nil {
			return fmt.Errorf("cancel sends: %w", err)
		}
		if err := s.audit(ctx, t.tx, p.TenantID, p.Actor, "customer.erase", "customer", e.Subject, e); err != nil {
			return err
		}
		out = e
		return nil
	})
	return out, err
}

// erasePersonalRows deletes what names the customer beside the profile:
// segment entry memberships, queued customer changes, and aliases to and
// from them.
func (t *EngineTx) erasePersonalRows(tenantID, customerID string) error {
	if err := t.forgetEntryMembers(tenantID, customerID); err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM customer_changes WHERE tenant_id = $1 AND customer_id = $2`, tenantID, customerID); err != nil {
		return fmt.Errorf("erase queued changes: %w", err)
	}
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM customer_aliases WHERE tenant_id = $1 AND (alias_id = $2 OR customer_id = $2)`,
		tenantID, customerID); err != nil {
		return fmt.Errorf("erase aliases: %w", err)
	}
	return nil
}

// pseudonymiseInstances gives the customer's instances the customer id
// alias, with their states scrubbed, their steps' details and reasons
// emptied (they may quote a provider's answer naming an address), and
// scrubs their migrations' undo records.
func (t *EngineTx) pseudonymiseInstances(p EraseCustomerParams, alias string) (int64, error) {
	if err := t.forget(); err != nil {
		return 0, err
	}
	rows, err := t.tx.Query(t.ctx, `SELECT id, state FROM instances WHERE tenant_id = $1 AND customer_id = $2`, p.TenantID, p.CustomerID)
	if err != nil {
		return 0, fmt.Errorf("read instances to erase: %w", err)
	}
	states := map[string]string{}
	var ids []string
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read instances to erase: %w", err)
		}
		ids, states[id] = append(ids, id), state
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read instances to erase: %w", err)
	}
	for _, id := range ids {
		state, err := p.Scrub(json.RawMessage(states[id]))
		if err != nil {
			return 0, fmt.Errorf("scrub instance %s: %w", id, err)
		}
		if _, err := t.tx.Exec(t.ctx, `UPDATE instances SET customer_id = $2, state = $3,
			reason = CASE WHEN reason = $4 THEN reason ELSE '' END WHERE id = $1`, id, alias, string(state), ErasedReason); err != nil {
			return 0, fmt.Errorf("pseudonymise instance %s: %w", id, err)
		}
		if _, err := t.tx.Exec(t.ctx, `UPDATE instance_steps SET detail = '' WHERE instance_id = $1`, id); err != nil {
			return 0, fmt.Errorf("scrub steps of %s: %w", id, err)
		}
		if err := t.scrubMoves(p, id); err != nil {
			return 0, err
		}
	}
	return int64(len(ids)), nil
}

// scrubMoves scrubs the prior states a migration kept of instance id.
func (t *EngineTx) scrubMoves(p EraseCustomerParams, id string) error {
	rows, err := t.tx.Query(t.ctx, `SELECT migration_id, prior_state FROM migration_moves WHERE instance_id = $1`, id)
	if err != nil {
		return fmt.Errorf("read undo records of %s: %w", id, err)
	}
	prior := map[string]string{}
	for rows.Next() {
		var mig, state string
		if err := rows.Scan(&mig, &state); err != nil {
			rows.Close()
			return fmt.Errorf("read undo records of %s: %w", id, err)
		}
		prior[mig] = state
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read undo records of %s: %w", id, err)
	}
	for mig, state := range prior {
		scrubbed, err := p.Scrub(json.RawMessage(state))
		if err != nil {
			return fmt.Errorf("scrub undo record of %s: %w", id, err)
		}
		if _, err := t.tx.Exec(t.ctx, `UPDATE migration_moves SET prior_state = $3 WHERE migration_id = $1 AND instance_id = $2`,
			mig, id, string(scrubbed)); err != nil {
			return fmt.Errorf("scrub undo record of %s: %w", id, err)
		}
	}
	return nil
}

// ErasureSubject is how the audit log names an erased customer: a keyed
// hash (HMAC-SHA256 under the server's pepper) of the tenant and customer
// id. Someone who knows the id can find its erasure (GET
// /audit?resource_type=customer&resource_id=…, through this function);
// the log alone cannot be turned back into ids, even by guessing emails.
func (s *Store) ErasureSubject(tenantID, customerID string) string {
	return "hmac-sha256:" + s.keyring.MAC([]byte("kalcifer customer erasure v1\x00"+tenantID+"\x00"+customerID))
}
