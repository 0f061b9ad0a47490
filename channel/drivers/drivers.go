// Package drivers is the catalog of provider drivers that tenants' provider
// accounts may use: one line per driver, naming its kind, the channels it
// serves and its constructor. Adding a driver (channel/<name> with a Config,
// its Check and New) is one line in Catalog.
//
// Only cmd/kalcifer (and tests) import this package: it names every
// concrete driver.
package drivers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/apns"
	"github.com/kalcifer/kalcifer/channel/fcm"
	"github.com/kalcifer/kalcifer/channel/logprovider"
	"github.com/kalcifer/kalcifer/channel/metawhatsapp"
	"github.com/kalcifer/kalcifer/channel/postmark"
	"github.com/kalcifer/kalcifer/channel/sendgrid"
	"github.com/kalcifer/kalcifer/channel/ses"
	"github.com/kalcifer/kalcifer/channel/smtp"
	"github.com/kalcifer/kalcifer/channel/twilio"
	"github.com/kalcifer/kalcifer/channel/vonage"
)

var (
	email    = []string{"email"}
	sms      = []string{"sms"}
	whatsapp = []string{"whatsapp"}
	push     = []string{"push"}
)

// Catalog returns every driver; providers that speak HTTP do so through
// client, which must be the SSRF-guarded client (an account's base URL is
// a tenant's choice). The log driver logs to log.
func Catalog(client *http.Client, log *slog.Logger) *channel.Catalog {
	return channel.NewCatalog(client,
		channel.NewDriver(smtp.Name, email, guardedSMTP).WithTracking(),
		channel.NewDriver(sendgrid.Name, email, sendgrid.New),
		channel.NewDriver(ses.Name, email, ses.New),
		channel.NewDriver(postmark.Name, email, postmark.New),
		channel.NewDriver(twilio.Name, append(sms, whatsapp...), twilio.New).WithCallbackField("status_callback_url"),
		channel.NewDriver(vonage.Name, sms, vonage.New),
		channel.NewDriver(metawhatsapp.Name, whatsapp, metawhatsapp.New),
		channel.NewDriver(fcm.Name, push, fcm.New),
		channel.NewDriver(apns.Name, push, apns.New),
		channel.NewDriver(logprovider.Name, nil, logDriver(log)),
	)
}

// logConfig is the log driver's config: it has none.
type logConfig struct{}

func (logConfig) Check() error { return nil }

// logDriver builds the dry-run provider of an account of kind "log".
func logDriver(log *slog.Logger) func(logConfig, *http.Client) (*logprovider.Provider, error) {
	return func(logConfig, *http.Client) (*logprovider.Provider, error) { return logprovider.New(log), nil }
}

// guardedSMTP builds an SMTP provider that dials through client's
// transport: the SSRF-guarded dialer the catalog is given, so an account's
// host cannot be on the server's own networks.
func guardedSMTP(c smtp.Config, client *http.Client) (*smtp.Provider, error) {
	var t *http.Transport
	if client != nil {
		t, _ = client.Transport.(*http.Transport)
	}
	if t == nil || t.DialContext == nil {
		return nil, errors.New("smtp: the provider catalog's client has no dialer to connect through")
	}
	c.Dial = t.DialContext
	return smtp.New(c)
}
