package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// stopwords are words too common to find anything by. Question words and
// negations stay out of the list: the retriever needs no meaning from them,
// and the intent model reads the raw message anyway.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if of to in on at by for with from into onto over under
		about as is are was were be been being am do does did doing have has had having i me my mine we us our
		you your yours he him his she her it its they them their this that these those there here what which who
		whom whose when where why how can could would should will shall may might must just so than too very
		not no any some all each both more most other such only own same also s t d ll m re ve y please thanks
		thank hi hello hey tell know want like get got need one ones much many lot lots really yes ok okay
		product item thing things buy`) {
		m[w] = true
	}
	return m
}()

// terms splits text into lower-case search terms: letters and digits, stop
// words dropped, plurals folded ("batteries" → "battery", "toys" → "toy").
func terms(text string, dst []string) []string {
	dst = dst[:0]
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.ToLower(text[start:end])
		start = -1
		if utf8.RuneCountInString(w) < 2 && !isDigit(w) || stopwords[w] {
			return
		}
		if w = stem(w); stopwords[w] {
			return
		}
		dst = append(dst, w)
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return dst
}

func isDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// stem folds English plurals and common suffixes, enough for "batteries"
// to find "battery", "tracking" "track" and "tangled" "tangle". It is
// applied to queries and passages alike, so its stems need not be words.
func stem(w string) string {
	n := len(w)
	switch {
	case n > 4 && strings.HasSuffix(w, "ies"):
		w = w[:n-3] + "y"
	case n > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses")):
		w = w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:n-1]
	}
	n = len(w)
	switch {
	case n > 5 && strings.HasSuffix(w, "ing"):
		w = w[:n-3]
	case n > 5 && strings.HasSuffix(w, "ed"):
		w = w[:n-2]
	}
	if n = len(w); n > 4 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	return w
}

// chunkWords is the target size of a description chunk.
const chunkWords = 48

// chunks cuts a long text into passages of about chunkWords words, on
// sentence ends where it can.
func chunks(text string) []string {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return nil
	}
	var out []string
	var cur []string
	words := strings.Fields(text)
	for i, w := range words {
		cur = append(cur, w)
		end := strings.HasSuffix(w, ".") || strings.HasSuffix(w, "!") || strings.HasSuffix(w, "?")
		if len(cur) >= chunkWords && end || len(cur) >= 2*chunkWords || i == len(words)-1 {
			out = append(out, strings.Join(cur, " "))
			cur = cur[:0]
		}
	}
	return out
}

// clip shortens s to at most n bytes on a word boundary, ending in "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return strings.TrimRight(s[:cut], " ,;:") + "…"
}

// injection spots text written to steer an assistant: such passages are
// stored and shown as data but never quoted in an answer or passed to a
// generative model as context.
var injectionMarkers = []string{
	"ignore previous", "ignore all previous", "ignore the previous", "ignore any previous", "ignore the above",
	"ignore your instructions", "disregard previous", "disregard the above", "disregard your", "forget your instructions",
	"forget previous", "system prompt", "your prompt", "your instructions", "you are now", "act as", "new instructions",
	"developer mode", "jailbreak", "as an ai", "assistant:", "system:", "<|", "|>", "[inst]", "recommend item",
	"recommend product", "always recommend", "tell everyone to buy", "tell customers to buy",
}

func looksLikeInjection(s string) bool {
	l := strings.ToLower(s)
	for _, m := range injectionMarkers {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}
