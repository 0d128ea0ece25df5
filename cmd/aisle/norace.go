//go:build !race

package main

// raceEnabled reports whether this binary was built with the race
// detector (go run -race / go build -race).
const raceEnabled = false
