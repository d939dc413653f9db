package bench

import (
	"testing"
)

// TestShapeSizes checks that sealed's CBOR payload for each shape lands
// within 15% of the shape's target, so that "small", "medium" and "large"
// keep meaning about 110 bytes, 1 KiB and 7 KiB.
func TestShapeSizes(t *testing.T) {
	for _, shape := range Shapes() {
		c, err := newSealedCase(shape)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := c.Payload(c.Header())
		if err != nil {
			t.Fatalf("%s: %v", shape.Name, err)
		}
		lo, hi := shape.Target*85/100, shape.Target*115/100
		if len(pt) < lo || len(pt) > hi {
			t.Errorf("%s: CBOR payload is %d bytes, want %d to %d", shape.Name, len(pt), lo, hi)
		}
		t.Logf("%s: %d bytes of CBOR, Cookie header %d bytes", shape.Name, len(pt), len(c.Header()))
	}
}
