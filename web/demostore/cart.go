package demostore

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The cart lives in the demo store's own cookie (the shop's, not Aisle's:
// aisle.js sets none), as "id*qty" pairs joined by "|".
const (
	cartCookie = "demo_cart"
	maxLines   = 30
	maxQty     = 99
)

// cartLine is one line of the cart page.
type cartLine struct {
	ID, Title  string
	Qty        int
	Price, Sum float64
}

type cartEntry struct {
	id  string
	qty int
}

// readCart returns the cart in the request's cookie, ignoring anything
// malformed.
func readCart(r *http.Request) []cartEntry {
	c, err := r.Cookie(cartCookie)
	if err != nil {
		return nil
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	var out []cartEntry
	for _, part := range strings.Split(v, "|") {
		id, q, ok := strings.Cut(part, "*")
		n, err := strconv.Atoi(q)
		if !ok || err != nil || id == "" || n < 1 || len(out) == maxLines {
			continue
		}
		out = append(out, cartEntry{id, min(n, maxQty)})
	}
	return out
}

// lines resolves the cart's entries against the catalog.
func (s *Store) lines(cart []cartEntry) (lines []cartLine, total float64, count int) {
	for _, e := range cart {
		p, ok := s.products[e.id]
		if !ok {
			continue
		}
		l := cartLine{ID: p.ID, Title: p.Title, Qty: e.qty, Price: p.Price, Sum: p.Price * float64(e.qty)}
		lines = append(lines, l)
		total += l.Sum
		count += e.qty
	}
	return lines, total, count
}

// updateCart serves POST /cart: add=ID adds one, remove=ID drops the line,
// then back to the cart page (303).
func (s *Store) updateCart(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	cart := readCart(r)
	if id := r.PostForm.Get("add"); id != "" {
		if _, ok := s.products[id]; !ok {
			http.Error(w, "no such product", http.StatusBadRequest)
			return
		}
		found := false
		for i := range cart {
			if cart[i].id == id {
				cart[i].qty = min(cart[i].qty+1, maxQty)
				found = true
			}
		}
		if !found && len(cart) < maxLines {
			cart = append(cart, cartEntry{id, 1})
		}
	}
	if id := r.PostForm.Get("remove"); id != "" {
		kept := cart[:0]
		for _, e := range cart {
			if e.id != id {
				kept = append(kept, e)
			}
		}
		cart = kept
	}
	parts := make([]string, len(cart))
	for i, e := range cart {
		parts[i] = e.id + "*" + strconv.Itoa(e.qty)
	}
	http.SetCookie(w, &http.Cookie{Name: cartCookie, Value: url.QueryEscape(strings.Join(parts, "|")), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/cart"+regionQuery(r), http.StatusSeeOther)
}

// regionQuery keeps the visitor's region choice across the redirect.
func regionQuery(r *http.Request) string {
	if region := r.URL.Query().Get("region"); region != "" {
		return "?region=" + url.QueryEscape(region)
	}
	return ""
}
