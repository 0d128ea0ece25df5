package web

import (
	"embed"
	"io/fs"
)

//go:embed demo/store/index.html
var demoStore embed.FS

// DemoStorePage returns the demo store's page, an html/template with the
// fields Edge (the edge base URL) and Region.
func DemoStorePage() string {
	b, err := fs.ReadFile(demoStore, "demo/store/index.html")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	return string(b)
}
