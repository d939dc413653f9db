// Package inspect opens a session cookie for cmd/sealed and shows what it
// holds, reporting its deadlines rather than enforcing them.
package inspect

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed/internal/cookie"
	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/payload"
)

// ErrInvalid is the one error for a cookie that does not open.
var ErrInvalid = errors.New("sealed: invalid sealed value")

// Inspection is an opened session as cmd/sealed inspect prints it.
type Inspection struct {
	ID        string    `json:"id"`
	Subject   string    `json:"subject,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	IssuedAt  time.Time `json:"issued_at"`
	// IdleDeadline and AbsoluteDeadline are when the session's timeouts
	// end (before the clock-skew tolerance).
	IdleDeadline     time.Time `json:"idle_deadline"`
	AbsoluteDeadline time.Time `json:"absolute_deadline"`
	// Expired reports that the manager would refuse the session now: the
	// time is past a deadline by more than the clock skew.
	Expired    bool   `json:"expired"`
	KeyID      string `json:"key_id"`
	PrimaryKey bool   `json:"primary_key"`
	Chunks     int    `json:"chunks"`
	// Values holds each value decoded generically (maps with text keys
	// as map[string]any); a value that does not fit that shape or has no
	// JSON form (NaN, say) is given in CBOR diagnostic notation instead, so
	// an Inspection always marshals to JSON.
	Values  map[string]any `json:"values"`
	Flashes []string       `json:"flashes,omitempty"`
	// BrowserSession reports that the session's cookies carry no Max-Age
	// ("remember me" unchecked).
	BrowserSession bool `json:"browser_session,omitempty"`
}

var inspectMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  payload.MaxDepth,
		MaxArrayElements: payload.MaxItems,
		MaxMapPairs:      payload.MaxItems,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// Config is what a cookie is opened with: the application's keys, cookie
// layer and binding, and its timeouts and clock skew, for the deadlines
// and whether they have passed.
type Config struct {
	Ring           envelope.Ring
	Jar            *cookie.Jar
	Bind           *envelope.Binding
	Idle, Absolute time.Duration
	Skew           time.Duration
	Now            time.Time
}

// Inspect opens the session in the given Cookie header values (or
// "name=value" pairs) without checking expiry or revocation. It returns
// ErrInvalid when there is no session cookie, when it does not open, or
// when its times (or deadlines) fall after the year 9999, which no
// session can reach and JSON cannot show.
func Inspect(c Config, cookieHeader ...string) (*Inspection, error) {
	buf, _, reason := c.Jar.Read(cookieHeader, c.Bind.Room())
	if buf == nil || reason != "" {
		return nil, ErrInvalid
	}
	pt, info, f := c.Bind.Open(c.Ring, buf)
	if f != envelope.OK {
		return nil, ErrInvalid
	}
	var d payload.State
	if payload.Parse(pt, &d) != nil {
		return nil, ErrInvalid
	}
	created := time.UnixMilli(d.Created).UTC()
	issued := time.Unix(info.IssuedAt, 0).UTC()
	in := &Inspection{
		ID: hex.EncodeToString(d.ID[:]), Subject: d.Subject,
		CreatedAt: created, IssuedAt: issued,
		IdleDeadline: issued.Add(c.Idle), AbsoluteDeadline: created.Add(c.Absolute),
		KeyID: info.Key.ID(), PrimaryKey: info.Primary, Chunks: c.Jar.Chunks(cookieHeader),
		Values: make(map[string]any, len(d.Entries)), Flashes: d.Flashes,
		BrowserSession: d.Flags&payload.FlagBrowserSession != 0,
	}
	// encoding/json prints years 0 to 9999 only. Load refuses such times
	// anyway (they are in the future), so an Inspection that could not be
	// printed is refused too, keeping the promise that it marshals.
	for _, t := range []time.Time{in.CreatedAt, in.IssuedAt, in.IdleDeadline, in.AbsoluteDeadline} {
		if t.Year() > 9999 {
			return nil, ErrInvalid
		}
	}
	// As the manager decides (Manager.checkTimes), in milliseconds: a
	// session expires only once the clock skew too has passed. The sums
	// stay far from overflowing: the times are before the year 10000.
	now, skew := c.Now.UnixMilli(), c.Skew.Milliseconds()
	in.Expired = now > info.IssuedAt*1000+c.Idle.Milliseconds()+skew || now > d.Created+c.Absolute.Milliseconds()+skew
	for _, e := range d.Entries {
		var v any
		if !payload.CheckValue(e.Val) {
			// Get would refuse it; show the bytes rather than guess.
			in.Values[string(e.Key)] = "malformed value h'" + hex.EncodeToString(e.Val) + "'"
			continue
		}
		err := inspectMode.Unmarshal(e.Val, &v)
		if err == nil {
			// CBOR can hold what JSON cannot (NaN, infinities); those
			// values are shown in diagnostic notation too.
			_, err = json.Marshal(v)
		}
		if err != nil {
			diag, _ := cbor.Diagnose(e.Val)
			v = diag
		}
		in.Values[string(e.Key)] = v
	}
	return in, nil
}

// OfManager inspects cookies with a *sealed.Manager's own keys, cookie
// layer, binding and timeouts. Package sealed sets it; the examples' demo
// page uses it to show what its cookies hold, without an exported API
// that applications would have no use for.
var OfManager func(m any, cookieHeader ...string) (*Inspection, error)
