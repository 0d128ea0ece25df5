// Package demostore is the demo toy shop's storefront: server-rendered
// pages (home, categories, products, search, cart) that use Aisle exactly as
// a real shop would, through the one aisle.js script tag and data-aisle-*
// attributes. It holds no recommendation logic of its own.
package demostore

import (
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aisle-rec/aisle/hub/catalog"
)

//go:embed templates/*.html
var templates embed.FS

// Store serves the demo shop's pages.
type Store struct {
	products map[string]*catalog.Product
	byCat    map[string][]*catalog.Product
	cats     []category
	reviews  map[string][]catalog.Review
	edges    map[string]string // region → edge base URL
	regions  []string
	tmpl     *template.Template
}

type category struct {
	Name  string
	Count int
}

// New returns the store for products and reviews, whose pages load
// aisle.js from the edge of the visitor's region (edges maps region to base
// URL; regions gives their order, the first is the default).
func New(products []catalog.Product, reviews []catalog.Review, edges map[string]string, regions []string) (*Store, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"price": func(p float64) string {
			if p <= 0 {
				return ""
			}
			return fmt.Sprintf("£%.2f", p)
		},
		"path":   func(p []string) string { return strings.Join(p, " › ") },
		"escape": url.PathEscape,
		"stars":  func(s float64) string { return strings.Repeat("★", int(s+0.5)) + strings.Repeat("☆", 5-int(s+0.5)) },
	}).ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	s := &Store{products: map[string]*catalog.Product{}, byCat: map[string][]*catalog.Product{}, reviews: map[string][]catalog.Review{}, edges: edges, regions: regions, tmpl: t}
	for i := range products {
		p := &products[i]
		s.products[p.ID] = p
		top := "Other"
		if len(p.Category) > 0 {
			top = p.Category[0]
		}
		s.byCat[top] = append(s.byCat[top], p)
	}
	for name, ps := range s.byCat {
		slices.SortStableFunc(ps, func(a, b *catalog.Product) int { return cmp.Compare(b.Popularity, a.Popularity) })
		s.cats = append(s.cats, category{name, len(ps)})
	}
	slices.SortFunc(s.cats, func(a, b category) int { return strings.Compare(a.Name, b.Name) })
	for _, r := range reviews {
		s.reviews[r.Item] = append(s.reviews[r.Item], r)
	}
	return s, nil
}

// page is what every template gets.
type page struct {
	Edge, Region string
	Regions      []string
	Title        string
	Cats         []category
	Product      *catalog.Product
	Reviews      []catalog.Review
	Products     []*catalog.Product
	Category     string
	Query        string
	Cart         []cartLine
	CartTotal    float64
	CartCount    int
}

// ServeHTTP implements http.Handler.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/cart" && r.Method == http.MethodPost {
		s.updateCart(w, r)
		return
	}
	region := r.URL.Query().Get("region")
	if _, ok := s.edges[region]; !ok {
		region = s.regions[0]
	}
	p := page{Edge: s.edges[region], Region: region, Regions: s.regions, Cats: s.cats}
	p.Cart, p.CartTotal, p.CartCount = s.lines(readCart(r))
	name := "home.html"
	switch {
	case r.URL.Path == "/":
		p.Title = "Aisle toy shop"
	case strings.HasPrefix(r.URL.Path, "/p/"):
		prod, ok := s.products[strings.TrimPrefix(r.URL.Path, "/p/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		p.Title, p.Product, p.Reviews, name = prod.Title, prod, s.reviews[prod.ID], "product.html"
		if len(p.Reviews) > 6 {
			p.Reviews = p.Reviews[:6]
		}
	case strings.HasPrefix(r.URL.Path, "/c/"):
		cat := strings.TrimPrefix(r.URL.Path, "/c/")
		ps, ok := s.byCat[cat]
		if !ok {
			http.NotFound(w, r)
			return
		}
		p.Title, p.Category, p.Products, name = cat, cat, ps[:min(len(ps), 48)], "category.html"
	case r.URL.Path == "/search":
		p.Title, p.Query, name = "Search", r.URL.Query().Get("q"), "search.html"
	case r.URL.Path == "/cart":
		p.Title, name = "Your cart", "cart.html"
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src "+p.Edge+"; connect-src "+p.Edge+"; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'")
	if err := s.tmpl.ExecuteTemplate(w, name, p); err != nil {
		http.Error(w, "page error", http.StatusInternalServerError)
	}
}
