package kalcifer

// DeliveryResult counts what became of delivery statuses a provider (or
// Kalcifer's own open and click tracking) reported.
type DeliveryResult struct {
	// Recorded statuses became customer events.
	Recorded int `json:"recorded"`
	// Duplicates repeated a status already recorded (a provider retrying
	// its webhook, a pixel loaded twice): no second event.
	Duplicates int `json:"duplicates"`
	// Unknown statuses named no send of the tenant (or an unknown event)
	// and were ignored.
	Unknown int `json:"unknown"`
}
