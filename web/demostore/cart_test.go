package demostore

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aisle-rec/aisle/hub/catalog"
)

func TestCart(t *testing.T) {
	s, err := New([]catalog.Product{
		{ID: "k1", Title: "Red <kite>", Price: 12.5, Category: []string{"Outdoor"}},
		{ID: "b2", Title: "Ball", Price: 3, Category: []string{"Outdoor"}},
	}, nil, map[string]string{"eu": "http://edge.test"}, []string{"eu"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	cart := func() string {
		resp, err := c.Get(srv.URL + "/cart")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(k, v string) int {
		resp, err := c.PostForm(srv.URL+"/cart", url.Values{k: {v}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if page := cart(); !strings.Contains(page, `id="empty-cart"`) {
		t.Fatal("a new visitor's cart is not empty")
	}
	for _, id := range []string{"k1", "b2", "k1"} {
		if code := post("add", id); code != 200 {
			t.Fatalf("add %s: %d", id, code)
		}
	}
	page := cart()
	for _, want := range []string{
		`<tr class="line" data-aisle-item="k1" data-aisle-title="Red &lt;kite&gt;"><td><a href="/p/k1" data-aisle-click>Red &lt;kite&gt;</a></td><td class="n">2</td><td class="n">£12.50</td><td class="n">£25.00</td>`,
		`<button data-aisle-remove-from-cart="b2">Remove</button>`,
		`<th>3 items</th><th></th><th></th><th class="n">£28.00</th>`,
		`Cart (3)`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("cart page lacks %s", want)
		}
	}
	if code := post("remove", "k1"); code != 200 {
		t.Fatal(code)
	}
	if page := cart(); strings.Contains(page, `data-aisle-item="k1"`) || !strings.Contains(page, `data-aisle-item="b2"`) {
		t.Error("remove did not drop the line")
	}
	if code := post("add", "nope"); code != 400 {
		t.Errorf("adding an unknown product: %d", code)
	}
}
