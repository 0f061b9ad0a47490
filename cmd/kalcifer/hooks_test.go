package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel/webhook"
)

// TestOutgoingWebhooksServed: the real server, on each backend, delivers a
// subscription's event from a real journey to a local receiver, signed with
// the secret the API answered once, through its own delivery loop.
func TestOutgoingWebhooksServed(t *testing.T) {
	for name, envFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			type got struct {
				valid bool
				event kalcifer.HookEvent
			}
			arrived := make(chan got, 10)
			var secret string
			secretSet := make(chan struct{})
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-secretSet
				body, _ := io.ReadAll(r.Body)
				var g got
				g.valid = webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body)
				json.Unmarshal(body, &g.event)
				arrived <- g
			}))
			defer rcv.Close()

			env := envFor(t)
			env["KALCIFER_ADMIN_API_KEY"] = adminKey
			env["KALCIFER_ALLOW_PRIVATE_NETWORKS"] = "true" // the receiver is on 127.0.0.1
			m := start(t, env, io.Discard)
			defer m.Close()
			c := client{t: t, base: "http://" + m.Addr().String()}

			var sub struct{ ID, Secret string }
			c.do("POST", "/api/v1/webhook-subscriptions", adminKey, `{"url":"`+rcv.URL+`","events":["customer.entered"]}`, 201, &sub)
			secret = sub.Secret
			close(secretSet)
			var j kalcifer.Journey
			c.do("POST", "/api/v1/journeys", adminKey, `{"name":"Welcome","graph":`+e2eGraph+`}`, 201, &j)
			c.do("POST", "/api/v1/journeys/"+j.ID+"/activate", adminKey, "", 200, nil)
			c.do("POST", "/api/v1/events", adminKey, `{"customer_id":"c1","event_type":"signed_up"}`, 202, nil)

			select {
			case g := <-arrived:
				if !g.valid || g.event.Type != kalcifer.HookCustomerEntered || g.event.CustomerID != "c1" || g.event.JourneyID != j.ID {
					t.Fatalf("delivered %+v (signature valid: %v)", g.event, g.valid)
				}
			case <-time.After(time.Minute): // a hang guard, not a timing assertion
				t.Fatal("no delivery arrived")
			}
			var log kalcifer.Page[kalcifer.HookDelivery]
			for range 100 { // the record follows the answer
				c.do("GET", "/api/v1/webhook-subscriptions/"+sub.ID+"/deliveries", adminKey, "", 200, &log)
				if len(log.Data) == 1 && log.Data[0].Status == kalcifer.HookDelivered {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatalf("delivery log: %+v", log.Data)
		})
	}
}
