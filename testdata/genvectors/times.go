package main

import (
	"fmt"
	"math"
	"strings"
)

// timeVector is a file of times/.
type timeVector struct {
	Name       string `json:"name"`
	Comment    string `json:"comment"`
	NowMs      int64  `json:"now_ms"`
	SkewMs     int64  `json:"skew_ms"`
	IdleMs     int64  `json:"idle_ms"`
	AbsoluteMs int64  `json:"absolute_ms"`
	IssuedAtS  uint64 `json:"issued_at_s"`
	CreatedMs  uint64 `json:"created_ms"`
	Expect     string `json:"expect"`
	Rule       string `json:"rule,omitempty"`
}

// The Go defaults (decision 10).
const (
	defaultSkewMs     = 60_000
	defaultIdleMs     = 24 * 3600_000
	defaultAbsoluteMs = 7 * 24 * 3600_000
)

// timeRule is SPEC.md's time rules (decision 10) in milliseconds, in
// their order, evaluated without overflow: the first rule bounds iat
// before the others multiply it, and created is compared with a sum of
// values near now. It returns the rule that holds first, or "".
func timeRule(nowMs, skewMs, idleMs, absMs int64, iat, created uint64) string {
	limit := nowMs + skewMs // now is a current clock, far from overflow
	if limit < 0 || iat > uint64(limit)/1000 {
		return "future"
	}
	iatMs := int64(iat) * 1000 // at most now + skew
	switch {
	case created > uint64(iatMs+1000+skewMs):
		return "created-after-issued"
	case nowMs > iatMs+idleMs+skewMs:
		return "idle"
	case nowMs > int64(created)+absMs+skewMs: // created is at most iat + 1 s + skew here
		return "absolute"
	}
	return ""
}

func timeVectors() []any {
	const t = int64(1795392000) // issued-at of most vectors, in seconds
	const tms = t * 1000
	var vs []timeVector
	add := func(name, comment string, now, skew, idle, abs int64, iat, created uint64) {
		v := timeVector{Name: name, Comment: comment, NowMs: now, SkewMs: skew, IdleMs: idle, AbsoluteMs: abs, IssuedAtS: iat, CreatedMs: created, Expect: "ok"}
		if r := timeRule(now, skew, idle, abs, iat, created); r != "" {
			v.Expect, v.Rule = "absent", r
		}
		// The name says what the vector was built to show.
		if want := "absent-" + v.Rule + "-"; v.Expect == "ok" && !strings.HasPrefix(name, "ok-") ||
			v.Expect == "absent" && !strings.HasPrefix(strings.Replace(name, "created-after-issued", "created", 1), strings.Replace(want, "created-after-issued", "created", 1)) {
			panic(fmt.Sprintf("times vector %s: got %s %s", name, v.Expect, v.Rule))
		}
		vs = append(vs, v)
	}
	def := func(name, comment string, now int64, iat, created uint64) {
		add(name, comment, now, defaultSkewMs, defaultIdleMs, defaultAbsoluteMs, iat, created)
	}
	hourAgo := uint64(tms - 3600_000)

	def("ok-typical", "issued 5 minutes ago, created an hour before that, default configuration", tms+300_000, uint64(t), hourAgo)

	// future: iat_ms > now_ms + skew_ms.
	def("ok-future-at-limit", "issued-at exactly now + skew", tms-defaultSkewMs, uint64(t), hourAgo)
	def("absent-future-1ms-past", "issued-at 1 ms beyond now + skew", tms-defaultSkewMs-1, uint64(t), hourAgo)
	add("ok-future-fractional-skew", "skew 1.5 s, now 0.6 s into a second: issued-at 2 s ahead is within 2.1 s (a whole-second rule, iat > floor(now) + floor(skew), refuses it)",
		tms+600, 1500, defaultIdleMs, defaultAbsoluteMs, uint64(t+2), uint64(tms))
	add("ok-future-fractional-skew-at-limit", "skew 1.5 s, now 0.5 s into a second: issued-at 2 s ahead is exactly now + skew",
		tms+500, 1500, defaultIdleMs, defaultAbsoluteMs, uint64(t+2), uint64(tms))
	add("absent-future-fractional-skew-1ms-past", "skew 1.5 s, now 0.499 s into a second: issued-at 2 s ahead is 1 ms beyond now + skew",
		tms+499, 1500, defaultIdleMs, defaultAbsoluteMs, uint64(t+2), uint64(tms))
	def("absent-future-max", "issued-at 2^63-1 s: iat*1000 overflows a signed 64-bit integer; evaluate the rule without it", tms, math.MaxInt64, hourAgo)
	def("absent-future-ms-overflow", "issued-at 9223372036854776 s, the smallest whose milliseconds exceed 2^63-1", tms, 9223372036854776, hourAgo)

	// created-after-issued: created_ms > iat_ms + 1000 + skew_ms.
	def("ok-created-at-limit", "created exactly issued-at + 1 s + skew", tms+120_000, uint64(t), uint64(tms+1000+defaultSkewMs))
	def("absent-created-1ms-past", "created 1 ms beyond issued-at + 1 s + skew", tms+120_000, uint64(t), uint64(tms+1000+defaultSkewMs+1))
	def("absent-created-max", "created 2^63-1 ms: the rule holds before the absolute deadline's sum could overflow", tms+120_000, uint64(t), math.MaxInt64)

	// idle: now_ms > iat_ms + idle_ms + skew_ms.
	def("ok-idle-at-limit", "now exactly issued-at + idle timeout + skew", tms+defaultIdleMs+defaultSkewMs, uint64(t), hourAgo)
	def("absent-idle-1ms-past", "now 1 ms beyond issued-at + idle timeout + skew", tms+defaultIdleMs+defaultSkewMs+1, uint64(t), hourAgo)
	add("ok-idle-fractional-skew-at-limit", "skew 1.5 s: now exactly issued-at + idle + 1.5 s", tms+defaultIdleMs+1500, 1500, defaultIdleMs, defaultAbsoluteMs, uint64(t), hourAgo)
	add("absent-idle-fractional-skew-1ms-past", "skew 1.5 s: now 1 ms beyond issued-at + idle + 1.5 s (a whole-second comparison still accepts it)",
		tms+defaultIdleMs+1501, 1500, defaultIdleMs, defaultAbsoluteMs, uint64(t), hourAgo)

	// absolute: now_ms > created_ms + absolute_ms + skew_ms.
	now := tms + 300_000
	created := uint64(now - defaultAbsoluteMs - defaultSkewMs)
	def("ok-absolute-at-limit", "now exactly created + absolute timeout + skew, issued 5 minutes ago", now, uint64(t), created)
	def("absent-absolute-1ms-past", "now 1 ms beyond created + absolute timeout + skew", now+1, uint64(t), created)
	now = tms + 1800_000
	created = uint64(now - 3600_000 - 1)
	add("ok-absolute-short-at-limit", "absolute timeout 1 hour, skew 1 ms: now exactly created + absolute timeout + skew", now, 1, 3600_000, 3600_000, uint64(t), created)
	add("absent-absolute-short-1ms-past", "absolute timeout 1 hour, skew 1 ms: now 1 ms past the deadline", now, 1, 3600_000, 3600_000, uint64(t), created-1)

	// Order.
	def("absent-future-before-created", "both future and created-after-issued hold: future is checked first", tms-defaultSkewMs-1, uint64(t), math.MaxInt64)
	def("absent-idle-before-absolute", "both idle and absolute hold: idle is checked first", tms+defaultAbsoluteMs+defaultSkewMs+1, uint64(t), hourAgo)

	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
