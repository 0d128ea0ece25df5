//go:build !(js && wasm)

package main

import "github.com/aisle-rec/aisle/shared/snapshot"

// newDigest is nil outside the Workers build: snapshots are hashed with
// crypto/sha256.
var newDigest func(n int) snapshot.Hasher
