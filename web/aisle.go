package web

import _ "embed"

// script is aisle.js, the storefront script.
//
//go:embed aisle.js
var script []byte

// Script returns aisle.js, the storefront script that shops include with one
// tag and edges serve at GET /aisle.js. The returned slice is shared: do not
// modify it.
func Script() []byte { return script }
