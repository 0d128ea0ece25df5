//go:build !(js && wasm)

package main

// digest is nil outside the Workers build: snapshots are hashed with
// crypto/sha256.
var digest func(b []byte) (prefix, whole [32]byte)
