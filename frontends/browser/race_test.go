//go:build race

package browser_test

// raceEnabled: the test runs under -race, so it builds the examples with
// -race too, and a data race the browser's traffic finds in them fails
// the test.
const raceEnabled = true
