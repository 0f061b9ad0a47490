package phone

import "testing"

func TestCheckE164(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"+14155550100": true, "+447700900000": true, "+12345678": true, "+123456789012345": true,
		"": false, "14155550100": false, "+1 415 555 0100": false, "+0415555010": false,
		"+1234567": false, "+1234567890123456": false, "+1415555010a": false,
	} {
		if err := CheckE164(s); (err == nil) != ok {
			t.Errorf("CheckE164(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}
