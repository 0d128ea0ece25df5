//go:build !(js && wasm)

package edge

// clockAdvances: natively the clock measures computation.
const clockAdvances = true
