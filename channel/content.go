package channel

// The rendered content of the other channels, as their providers send it.
// The engine fills the Message field of the send's channel from the node's
// template or inline content; providers fail a send without it permanently.
// Email is in email.go.

// SMS is a rendered text message.
type SMS struct {
	// To is the recipient's phone number in E.164 form ("+14155550100").
	To string
	// From is the sender (a number or an alphanumeric sender id); empty
	// means the provider account's default.
	From string
	// Body is the text.
	Body string
}

// WhatsApp is a rendered WhatsApp message: a free-form text (only inside
// the customer-service window the provider enforces) or an approved
// template.
type WhatsApp struct {
	// To is the recipient's phone number in E.164 form.
	To string
	// From is the sending number (or the provider's phone number id);
	// empty means the provider account's default.
	From string
	// Body is the text of a free-form message; empty when Template is set.
	Body string
	// Template names an approved template and its parameters; nil for a
	// free-form message.
	Template *WhatsAppTemplate
}

// WhatsAppTemplate is an approved WhatsApp template message.
type WhatsAppTemplate struct {
	// Name and Language identify the approved template ("order_update",
	// "en_US").
	Name     string
	Language string
	// Params fill the template body's {{1}}, {{2}}… in order.
	Params []string
}

// Push is a rendered push notification.
type Push struct {
	// Token is the device's registration token (FCM) or device token
	// (APNs).
	Token string
	// Title and Body are the visible notification.
	Title string
	Body  string
	// Data is the custom key/value payload delivered to the app.
	Data map[string]string
}
