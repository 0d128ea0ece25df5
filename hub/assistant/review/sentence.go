package review

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// abbreviations never end a sentence when followed by a period.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true,
	"st": true, "vs": true, "etc": true, "approx": true, "no": true, "inc": true, "ltd": true,
	"co": true, "fig": true, "e.g": true, "i.e": true, "eg": true, "ie": true, "oz": true,
	"lbs": true, "lb": true, "in": false, "ft": true, "min": true, "max": true, "mt": true,
}

// SplitSentences splits text into sentences. It ends a sentence at a run of
// '.', '!' or '?' (so "!!!" and "..." stay attached) that is followed by
// white space and then something that may start a sentence, and at line
// breaks. It does not split after common abbreviations ("e.g.", "Mr.",
// "etc."), inside numbers ("3.5"), or at an ellipsis followed by a
// lower-case word. A period glued to a capitalised word ("great.I love")
// also ends a sentence, as reviews often lose the space.
func SplitSentences(text string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			out = append(out, s)
		}
	}
	start := 0
	i := 0
	for i < len(text) {
		c := text[i]
		if c == '\n' || c == '\r' {
			add(text[start:i])
			start = i + 1
			i++
			continue
		}
		if c != '.' && c != '!' && c != '?' {
			i++
			continue
		}
		j := i
		for j < len(text) && strings.IndexByte(".!?", text[j]) >= 0 {
			j++
		}
		// closing quotes/brackets stay with the sentence
		for j < len(text) && strings.IndexByte("\"')]", text[j]) >= 0 {
			j++
		}
		run := text[i:j]
		if j >= len(text) {
			i = j
			break
		}
		next, _ := utf8.DecodeRuneInString(text[j:])
		if !unicode.IsSpace(next) {
			// glued: "great.I love" splits; "3.5", "e.g.", "U.S." do not
			if c == '.' && len(run) == 1 && unicode.IsUpper(next) && i > 0 {
				prev, _ := utf8.DecodeLastRuneInString(text[:i])
				w := lastWord(text[:i])
				after, _ := utf8.DecodeRuneInString(text[j+utf8.RuneLen(next):])
				if unicode.IsLower(prev) && len(w) > 2 && !abbreviations[strings.ToLower(w)] && (unicode.IsLower(after) || unicode.IsSpace(after)) {
					add(text[start:j])
					start = j
				}
			}
			i = j
			continue
		}
		// next non-space rune
		k := j
		for k < len(text) {
			r, n := utf8.DecodeRuneInString(text[k:])
			if !unicode.IsSpace(r) || r == '\n' {
				break
			}
			k += n
		}
		nr, _ := utf8.DecodeRuneInString(text[k:])
		split := true
		if c == '.' && len(run) == 1 || strings.HasPrefix(run, ".") && !strings.ContainsAny(run, "!?") {
			w := strings.ToLower(lastWord(text[:i]))
			if len(run) == 1 && (abbreviations[w] || isInitial(w)) {
				split = false
			}
			if unicode.IsLower(nr) {
				split = false // "e.g. this", "... and then"
			}
		}
		if split {
			add(text[start:j])
			start = j
		}
		i = j
	}
	add(text[start:])
	return out
}

func lastWord(s string) string {
	end := len(s)
	k := end
	for k > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:k])
		if !(unicode.IsLetter(r) || r == '.') {
			break
		}
		k -= n
	}
	return strings.Trim(s[k:end], ".")
}

// isInitial reports a single letter such as the "J" in "J. Smith".
func isInitial(w string) bool {
	return utf8.RuneCountInString(w) == 1 && w != "i" && w != "a"
}
