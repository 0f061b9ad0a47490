package document_test

import (
	"fmt"

	"github.com/kalcifer/kalcifer/designer/document"
)

func ExampleRead() {
	plan := "Welcome journey\n" +
		"Trigger: user signs up\n" +
		"Day,Channel,Audience,Condition,Subject\n" +
		"Day 0,E-mail,New signups,,Welcome to Acme\n" +
		"D+3,SMS/Text,,Not opened the welcome email,Reminder\n" +
		"Week 2,Push,Customers on the premium plan,,Upgrade offer\n" +
		"Exit: unsubscribes\n"
	doc, err := document.Read("welcome.csv", []byte(plan))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range doc.Steps {
		fmt.Printf("%d: day %d, %s, %q\n", s.Index, s.Day, s.Channel, s.Content)
	}
	fmt.Println(doc.Prompt())
	// Output:
	// 1: day 0, email, "Welcome to Acme"
	// 2: day 3, sms, "Reminder"
	// 3: day 7, push, "Upgrade offer"
	// Start when a user signs up.
	// On day 0, send an email "Welcome to Acme" to new signups.
	// On day 3, if they have not opened the welcome email, send an SMS "Reminder".
	// On day 7, send a push notification "Upgrade offer" to customers on the premium plan.
	// Stop if they unsubscribe.
}
