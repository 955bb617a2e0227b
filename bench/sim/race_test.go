//go:build race

package sim

// raceEnabled is true when the tests run under the race detector, which
// makes the simulator some twenty times slower.
const raceEnabled = true
