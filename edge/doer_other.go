//go:build !(js && wasm)

package edge

import "net/http"

// defaultDoer is what NewHTTPSource and NewHTTPHub use when given no Doer.
// Outside Workers that is http.DefaultClient; the Workers build has none
// (see doer_js.go), which keeps net/http's client out of the Worker.
func defaultDoer() Doer { return http.DefaultClient }
