// Package privacy removes personal data from text before the hub stores,
// logs or forwards it: e-mail addresses, phone numbers, payment card and
// bank account numbers. Order and tracking numbers are kept.
package privacy

import (
	"regexp"
	"strings"
)

// Personal data patterns. Redact replaces each match before text is logged
// or sent to a generative backend.
var (
	emailRE = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}`)
	// A run of digit groups separated by single spaces or dashes, in which
	// redactCards looks for card numbers: 13 to 19 digits, whole groups.
	digitRunRE = regexp.MustCompile(`\b\d+(?:[ \-]\d+)*\b`)
	// A phone number: an optional +country code, then 7 to 14 digits with
	// the usual separators; at least 7 digits in all.
	phoneRE = regexp.MustCompile(`(?:\+\d{1,3}[ \-.]?)?(?:\(\d{1,5}\)[ \-.]?)?\d(?:[ \-.]?\d){6,13}\b`)
	// An IBAN: two letters, two check digits, 11 to 30 alphanumerics.
	ibanRE = regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b`)
)

// Redaction markers.
const (
	redEmail = "[email]"
	redCard  = "[card number]"
	redPhone = "[phone]"
	redIBAN  = "[bank account]"
)

// Redact replaces e-mail addresses, payment card numbers (Luhn-valid digit
// runs), bank account numbers and phone numbers in s with markers such as
// "[email]". Order numbers the assistant needs are kept: a digit run that
// is not Luhn-valid, has no phone-like grouping and follows the word
// "order" stays (see keepOrder).
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = emailRE.ReplaceAllString(s, redEmail)
	s = ibanRE.ReplaceAllString(s, redIBAN)
	s = digitRunRE.ReplaceAllStringFunc(s, redactCards)
	s = replaceAllIndexFunc(phoneRE, s, func(m string, start int, afterRedacted bool) string {
		end := start + len(m)
		// Right after a number just redacted, the character before is
		// that number's, not part of this one ("0000000+0000000"): a
		// second pass would see the marker there and redact this one too.
		if start > 0 && isAlnum(s[start-1]) && !afterRedacted || end < len(s) && isAlnum(s[end]) || keepOrder(s, m, start) {
			// Part of a longer run ("0000…0", "ABC1234567"): not a phone.
			return m
		}
		return redPhone
	})
	return s
}

// keepOrder reports whether the digit run m at start is an order or
// tracking number rather than a phone number: it directly follows a word
// such as "order" or "#", and is written without separators.
func keepOrder(s, m string, start int) bool {
	if strings.ContainsAny(m, " -.()+") {
		return false
	}
	// Only the words just before matter: lower-casing all of s[:start]
	// for every match made long inputs quadratic.
	before := strings.TrimRight(s[:start], " :#")
	before = strings.ToLower(before[max(0, len(before)-len("tracking number")-1):])
	for _, w := range []string{"order", "order number", "order no", "order no.", "purchase", "invoice", "tracking", "tracking number", "parcel", "ref", "reference"} {
		if strings.HasSuffix(before, w) {
			return true
		}
	}
	return strings.HasSuffix(strings.TrimRight(s[:start], " "), "#")
}

// replaceAllIndexFunc is ReplaceAllStringFunc that also passes the match's
// start offset in s, and whether it starts right where the previous match,
// replaced, ended.
func replaceAllIndexFunc(re *regexp.Regexp, s string, fn func(m string, start int, afterReplaced bool) string) string {
	idx := re.FindAllStringIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last, replacedEnd := 0, -1
	for _, m := range idx {
		b.WriteString(s[last:m[0]])
		old := s[m[0]:m[1]]
		r := fn(old, m[0], m[0] == replacedEnd)
		b.WriteString(r)
		if r != old {
			replacedEnd = m[1]
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactCards replaces the card numbers in a run of digit groups: every
// stretch of whole groups holding 13 to 19 digits that passes the Luhn
// check, the longest first from each group, scanning left to right. A card
// number next to other numbers ("qty 1 4111 1111 1111 1111") is found
// wherever it starts, which a single pattern match over the run is not.
func redactCards(run string) string {
	type group struct{ start, end int } // digits run[start:end]
	var gs []group
	for i := 0; i < len(run); {
		j := i
		for j < len(run) && run[j] >= '0' && run[j] <= '9' {
			j++
		}
		gs = append(gs, group{i, j})
		i = j + 1 // skip the separator
	}
	var b strings.Builder
	last := 0 // run[:last] is written
	for i := 0; i < len(gs); {
		best, digits := -1, 0
		for j := i; j < len(gs); j++ {
			if digits += gs[j].end - gs[j].start; digits > 19 {
				break
			}
			if digits >= 13 && luhn(run[gs[i].start:gs[j].end]) {
				best = j
			}
		}
		if best < 0 {
			i++
			continue
		}
		b.WriteString(run[last:gs[i].start])
		b.WriteString(redCard)
		last = gs[best].end
		i = best + 1
	}
	if last == 0 {
		return run
	}
	b.WriteString(run[last:])
	return b.String()
}

// luhn reports whether the digits of s pass the Luhn check.
func luhn(s string) bool {
	sum, n, double := 0, 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
		double = !double
	}
	return n >= 13 && sum%10 == 0
}

// Remove is s with personal data removed rather than marked.
func Remove(s string) string {
	s = Redact(s)
	for _, m := range []string{redEmail, redCard, redPhone, redIBAN} {
		s = strings.ReplaceAll(s, m, " ")
	}
	return s
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
