//go:build !(js && wasm)

package main

import "github.com/klauspost/compress/flate"

// newInflater is klauspost/compress outside the Workers build.
var newInflater = flate.NewReader
