// Package phone checks the phone numbers the SMS and WhatsApp providers
// send to.
package phone

import (
	"errors"
	"fmt"
)

// CheckE164 reports whether s is a phone number in E.164 form: "+" and 8
// to 15 digits, the first not 0 ("+14155550100").
func CheckE164(s string) error {
	if s == "" {
		return errors.New("no phone number")
	}
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return fmt.Errorf("phone number %q is not in E.164 form (+ and 8 to 15 digits, e.g. +14155550100)", s)
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return fmt.Errorf("phone number %q is not in E.164 form (+ and 8 to 15 digits, e.g. +14155550100)", s)
		}
	}
	return nil
}
