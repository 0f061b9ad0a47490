package apns

import "time"

// SetNow makes p's token cache read time from now.
func SetNow(p *Provider, now func() time.Time) { p.cfg.tokens.now = now }
