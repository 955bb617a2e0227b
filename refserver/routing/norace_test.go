//go:build !race

package routing

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
