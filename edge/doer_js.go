//go:build js && wasm

package edge

// defaultDoer has no fallback in the Workers build: http.Client panics
// there, and referring to it would link net/http's whole transport (about
// 1 MB gzip) into the Worker. Pass a *FetchDoer.
func defaultDoer() Doer { return nil }
