package privacy

import "testing"

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"mail me at jane.doe+toys@example.co.uk please":   "mail me at [email] please",
		"call +44 20 7946 0958 or 07700 900123":           "call [phone] or [phone]",
		"card 4111 1111 1111 1111 expired":                "card [card number] expired",
		"qty 1 4111 1111 1111 1111 thanks":                "qty 1 [card number] thanks",
		"4111111111111111 1 111111":                       "[card number] [phone]",
		"0000000+00000000":                                "[phone][phone]",
		"card 4111-1111-1111-1111, 12 items":              "card [card number], 12 items",
		"pay from GB29 NWBK 6016 1331 9268 19":            "pay from [bank account]",
		"where is order 48213377?":                        "where is order 48213377?",
		"order #A12345 and tracking number 9400111899562": "order #A12345 and tracking number 9400111899562",
		"the 30 metres line, 5 years and up":              "the 30 metres line, 5 years and up",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRedact: redaction never panics, is idempotent, and leaves no e-mail
// address behind.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"mail a@b.co now", "+44 20 7946 0958", "4111 1111 1111 1111", "order 12345678", "GB29 NWBK 6016 1331 9268 19", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if Redact(r) != r {
			t.Fatalf("not idempotent: %q → %q → %q", s, r, Redact(r))
		}
		if emailRE.MatchString(r) {
			t.Fatalf("e-mail left in %q", r)
		}
	})
}
