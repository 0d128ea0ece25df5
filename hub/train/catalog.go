package train

import (
	"strings"

	"github.com/aisle-rec/aisle/hub/catalog"
)

// CatalogItems turns catalog products into build items for one region: the
// category path joined by " > ", brand and tags as further text, review
// counts and other popularity hints as a prior, and stock as the region's
// entry (else the "default" one; an unknown count is in stock).
func CatalogItems(ps []catalog.Product, region string) []Item {
	items := make([]Item, len(ps))
	for i := range ps {
		p := &ps[i]
		inStock := p.InStock()
		if n, ok := p.Stock[region]; ok {
			inStock = n != 0
		}
		items[i] = Item{
			ID:         p.ID,
			Title:      p.Title,
			Category:   strings.Join(p.Category, " > "),
			Price:      float32(p.Price),
			InStock:    inStock,
			Text:       strings.TrimSpace(p.Brand + " " + strings.Join(p.Tags, " ")),
			Popularity: p.Popularity,
		}
	}
	return items
}
