package sealed

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Inspection is an opened session as a tool shows it (cmd/sealed inspect).
// It reports the deadlines rather than enforcing them.
type Inspection struct {
	ID        string    `json:"id"`
	Subject   string    `json:"subject,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	IssuedAt  time.Time `json:"issued_at"`
	// IdleDeadline and AbsoluteDeadline are when the session stops opening
	// under the manager's timeouts (before clock-skew tolerance).
	IdleDeadline     time.Time `json:"idle_deadline"`
	AbsoluteDeadline time.Time `json:"absolute_deadline"`
	Expired          bool      `json:"expired"`
	KeyID            string    `json:"key_id"`
	PrimaryKey       bool      `json:"primary_key"`
	Chunks           int       `json:"chunks"`
	// Values holds each value decoded generically (maps with text keys
	// as map[string]any); a value that does not fit that shape or has no
	// JSON form (NaN, say) is given in CBOR diagnostic notation instead, so
	// an Inspection always marshals to JSON.
	Values  map[string]any `json:"values"`
	Flashes []string       `json:"flashes,omitempty"`
}

var inspectMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  MaxDepth,
		MaxArrayElements: MaxItems,
		MaxMapPairs:      MaxItems,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// Inspect opens the session in the given Cookie header values (or
// "name=value" pairs) without checking expiry or revocation. It returns
// ErrInvalid when there is no session cookie, when it does not open, or
// when its times (or deadlines) fall after the year 9999, which no
// session can reach and JSON cannot show.
func (m *Manager) Inspect(cookieHeader ...string) (*Inspection, error) {
	var cs chunkSet
	for _, v := range cookieHeader {
		cs.addHeader(m.name, v)
	}
	var buf [MaxChunksLimit]string
	pieces, ok := cs.pieces(m.budget.MaxChunks, buf[:0])
	if !ok {
		return nil, ErrInvalid
	}
	pt, info, f := m.keys.Current().open(pieces, m.purpose, m.suffix, nil)
	if f != openOK {
		return nil, ErrInvalid
	}
	var d decoded
	if parsePayload(pt, &d) != nil {
		return nil, ErrInvalid
	}
	created := time.UnixMilli(d.created).UTC()
	in := &Inspection{
		ID: hex.EncodeToString(d.id[:]), Subject: d.subject,
		CreatedAt: created, IssuedAt: info.IssuedAt.UTC(),
		IdleDeadline: info.IssuedAt.Add(m.idle).UTC(), AbsoluteDeadline: created.Add(m.absolute),
		KeyID: info.KeyID, PrimaryKey: info.Primary, Chunks: len(pieces),
		Values: make(map[string]any, len(d.entries)), Flashes: d.flashes,
	}
	// encoding/json prints years 0 to 9999 only. Load refuses such times
	// anyway (they are in the future), so an Inspection that could not be
	// printed is refused too, keeping the promise that it marshals.
	for _, t := range []time.Time{in.CreatedAt, in.IssuedAt, in.IdleDeadline, in.AbsoluteDeadline} {
		if t.Year() > 9999 {
			return nil, ErrInvalid
		}
	}
	now := m.now()
	in.Expired = now.After(in.IdleDeadline) || now.After(in.AbsoluteDeadline)
	for _, e := range d.entries {
		var v any
		if !checkValue(e.val) {
			// Get would refuse it; show the bytes rather than guess.
			in.Values[string(e.key)] = "malformed value h'" + hex.EncodeToString(e.val) + "'"
			continue
		}
		err := inspectMode.Unmarshal(e.val, &v)
		if err == nil {
			// CBOR can hold what JSON cannot (NaN, infinities); those
			// values are shown in diagnostic notation too.
			_, err = json.Marshal(v)
		}
		if err != nil {
			diag, _ := cbor.Diagnose(e.val)
			v = diag
		}
		in.Values[string(e.key)] = v
	}
	return in, nil
}
