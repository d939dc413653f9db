package main

import (
	"fmt"
	"strings"
)

// sessionVector is a file of sessions/.
type sessionVector struct {
	Name         string        `json:"name"`
	Comment      string        `json:"comment"`
	Keys         []key         `json:"keys"`
	CookieName   string        `json:"cookie_name"`
	Purpose      string        `json:"purpose"`
	Config       sessionConfig `json:"config"`
	NowMs        int64         `json:"now_ms"`
	CookieHeader []string      `json:"cookie_header"`
	Expect       string        `json:"expect"`
	Layer        string        `json:"layer,omitempty"`
	Rule         string        `json:"rule,omitempty"`
	Session      *fullSession  `json:"session,omitempty"`
}

type sessionConfig struct {
	IdleMs     int64 `json:"idle_ms"`
	AbsoluteMs int64 `json:"absolute_ms"`
	SkewMs     int64 `json:"skew_ms"`
	MaxChunks  int   `json:"max_chunks"`
	MaxBytes   int   `json:"max_bytes"`
}

type fullSession struct {
	IDHex     string         `json:"id_hex"`
	CreatedMs uint64         `json:"created_ms"`
	Subject   string         `json:"subject"`
	Values    []sessionValue `json:"values"`
	Flashes   []string       `json:"flashes"`
	Flags     uint64         `json:"flags"`
	OpenedBy  string         `json:"opened_by"`
	IssuedAtS uint64         `json:"issued_at_s"`
}

type sessionValue struct {
	Key     string `json:"key"`
	CBORHex string `json:"cbor_hex"`
}

// defaultConfig is the Go package's defaults.
var defaultConfig = sessionConfig{
	IdleMs: defaultIdleMs, AbsoluteMs: defaultAbsoluteMs, SkewMs: defaultSkewMs,
	MaxChunks: 8, MaxBytes: 6144,
}

// cookieJar is how a sealed session is put into Cookie headers: sealed
// under key for cookie name and purpose, at issued-at iat.
type cookieJar struct {
	key           key
	name, purpose string
	iat           uint64
	// nonce, when set, names the nonce instead of the vector, so that
	// several vectors carry the same sealed value.
	nonce string
}

// sealText seals the payload pt, with a nonce of its own for each vector
// (or the jar's).
func (j cookieJar) sealText(label string, pt []byte) string {
	if j.nonce != "" {
		label = j.nonce
	}
	return b64.EncodeToString(seal(j.key, 1, j.name, j.purpose, j.iat, derived("sessions/nonce/"+label, 24), pt).env)
}

func sessionVectors() []any {
	const t = uint64(1795392000)
	const tms = int64(t) * 1000
	const now = tms + 300_000 // five minutes after issued-at
	created := uint64(tms - 3600_000)
	sess := func(label string) state {
		return state{
			id: derived("sessions/id/"+label, 16), created: created, subject: "adam",
			values: []pvalue{
				{key: "n", item: cUint(1)},
				{key: "user", item: cText("adam")},
			},
			flashes: []string{"Welcome back"},
		}
	}
	std := cookieJar{key: k1, name: "__Host-session", purpose: "session", iat: t}
	var vs []sessionVector
	ok := func(name, comment string, j cookieJar, cfg sessionConfig, nowMs int64, s state, header func(sealed string) []string) {
		s.check()
		full := &fullSession{
			IDHex: hexOf(s.id), CreatedMs: s.created, Subject: s.subject, Values: []sessionValue{},
			Flashes: append([]string{}, s.flashes...), Flags: s.flags, OpenedBy: j.key.KID, IssuedAtS: j.iat,
		}
		for _, v := range s.values {
			full.Values = append(full.Values, sessionValue{Key: v.key, CBORHex: hexOf(v.item)})
		}
		if r := timeRule(nowMs, cfg.SkewMs, cfg.IdleMs, cfg.AbsoluteMs, j.iat, s.created); r != "" {
			panic(fmt.Sprintf("sessions vector %s: time rule %s", name, r))
		}
		vs = append(vs, sessionVector{
			Name: name, Comment: comment, Keys: ring, CookieName: j.name, Purpose: j.purpose, Config: cfg, NowMs: nowMs,
			CookieHeader: header(j.sealText(name, s.encode())), Expect: "ok", Session: full,
		})
	}
	// absent is a negative vector read as reader (cookie name, purpose);
	// the header holds pt sealed by j.
	absentCfg := func(name, comment, layer, rule string, reader, j cookieJar, cfg sessionConfig, nowMs int64, pt []byte, header func(sealed string) []string) {
		vs = append(vs, sessionVector{
			Name: name, Comment: comment, Keys: ring, CookieName: reader.name, Purpose: reader.purpose, Config: cfg, NowMs: nowMs,
			CookieHeader: header(j.sealText(name, pt)), Expect: "absent", Layer: layer, Rule: rule,
		})
	}
	absent := func(name, comment, layer, rule string, reader, j cookieJar, nowMs int64, pt []byte, header func(sealed string) []string) {
		absentCfg(name, comment, layer, rule, reader, j, defaultConfig, nowMs, pt, header)
	}
	single := func(name string) func(string) []string {
		return func(s string) []string { return []string{line("theme=dark", name+"="+s)} }
	}

	ok("ok-single-chunk", "one cookie under the defaults: purpose session, cookie __Host-session, primary key", std, defaultConfig, now, sess("single"), single(std.name))

	// Three chunks under the application's own purpose and cookie name,
	// split as a writer with 4096-byte lines would, over two header
	// values (as HTTP/2 may deliver them).
	shop := cookieJar{key: k1, name: "__Host-shop", purpose: "shop", iat: t}
	cart := make([][]byte, 500)
	for i := range cart {
		cart[i] = cArray(cText(fmt.Sprintf("sku-%05d", i)), cUint(uint64(i%3+1)))
	}
	big := sess("shop")
	big.values = []pvalue{{key: "cart", item: cArray(cart...)}}
	shopConfig := defaultConfig
	shopConfig.MaxBytes = 16384
	ok("ok-three-chunks-shop", "a cart of 500 lines in three chunks under purpose shop and cookie __Host-shop, over two Cookie header values, with max_bytes 16384",
		shop, shopConfig, now, big, func(s string) []string {
			ps := pairs(shop.name, "", cut(s, 4000, 4000))
			if len(ps) != 3 {
				panic("shop vector is not three chunks")
			}
			return []string{line("theme=dark", ps[0]), line(ps[2], ps[1])}
		})
	retired := std
	retired.key = k0
	ok("ok-retired-key", "sealed under the retired key: it opens (and a reader re-seals it under the primary)", retired, defaultConfig, now, sess("retired"), single(std.name))
	flagged := sess("flags")
	flagged.flags = 1
	ok("ok-flags", "flags = 1: browser-session cookies", std, defaultConfig, now, flagged, single(std.name))
	intl := sess("non-ascii")
	intl.subject = "zoë@example.com"
	intl.values = []pvalue{
		{key: "n", item: cUint(1)},
		{key: "zz", item: cText("last in UTF-16 order")},
		{key: "é", item: cText("café")},
		{key: "日本", item: cText("東京")},
	}
	ok("ok-non-ascii-keys", "non-ASCII keys in UTF-8 order (\"zz\" before \"é\"), subject and text", std, defaultConfig, now, intl, single(std.name))

	good := sess("absent").encode()
	absent("absent-chunks-duplicate", "a valid cookie sent twice, as from two Path or Domain scopes", "chunks", "duplicate", std, std, now, good,
		func(s string) []string { return []string{line(std.name + "=" + s), line("theme=dark", std.name+"="+s)} })
	other := std
	other.purpose = "csrf"
	absent("absent-envelope-wrong-purpose", "sealed for purpose csrf with the same key and cookie name", "envelope", "auth", std, other, now, good, single(std.name))
	otherName := std
	otherName.name = "__Host-shop"
	absent("absent-envelope-wrong-cookie-name", "sealed for cookie __Host-shop, sent as __Host-session", "envelope", "auth", std, otherName, now, good, single(std.name))
	unknown := std
	unknown.key = kx
	absent("absent-envelope-unknown-key", "sealed under a key the ring does not hold (a key retired and removed)", "envelope", "key-id", std, unknown, now, good, single(std.name))
	absent("absent-envelope-quoted", "the value in double quotes: quotes are not stripped, and '\"' is outside the base64url alphabet", "envelope", "encoding", std, std, now, good,
		func(s string) []string { return []string{line("theme=dark", std.name+"=\""+s+"\"")} })
	absent("absent-envelope-chunks-swapped", "four chunks, the contents of NAME.1 and NAME.2 swapped (equal lengths; NAME keeps the header): the chunk rules hold, authentication fails", "envelope", "auth", std, std, now, good,
		func(s string) []string {
			c := cut(s, 52, 40, 40) // 52 characters hold the 37-byte header
			c[1], c[2] = c[2], c[1]
			return []string{line(pairs(std.name, "", c)...)}
		})
	p := sess("absent").parts()
	p.values = encodeValues([]pvalue{{key: "é", item: cUint(1)}, {key: "zz", item: cUint(2)}})
	absent("absent-payload-keys-order", "authentic, but the payload's keys are \"é\" then \"zz\" (UTF-16 order)", "payload", "keys", std, std, now, p.join(), single(std.name))
	p = sess("absent").parts()
	p.arr, p.flags = head(mArray, 6), cUint(0)
	absent("absent-payload-flags-zero", "authentic, but flags is present and 0", "payload", "flags", std, std, now, p.join(), single(std.name))
	absent("absent-times-idle", "not re-sealed for the idle timeout + skew + 1 ms", "times", "idle", std, std, tms+defaultIdleMs+defaultSkewMs+1, good, single(std.name))
	old := sess("absent")
	old.created = uint64(now - defaultAbsoluteMs - defaultSkewMs - 1)
	absent("absent-times-absolute", "issued 5 minutes ago, but created absolute timeout + skew + 1 ms ago", "times", "absolute", std, std, now, old.encode(), single(std.name))
	future := std
	future.iat = t + 3600
	for _, c := range []struct {
		rule         string
		nowMs        int64
		iat, created uint64
	}{
		{"idle", tms + defaultIdleMs + defaultSkewMs + 1, t, created},
		{"absolute", now, t, old.created},
		{"future", tms, future.iat, created},
	} {
		if r := timeRule(c.nowMs, defaultSkewMs, defaultIdleMs, defaultAbsoluteMs, c.iat, c.created); r != c.rule {
			panic(fmt.Sprintf("sessions: times vector for %s gives %q", c.rule, r))
		}
	}
	absent("absent-times-future", "issued an hour ahead of the reader's clock", "times", "future", std, future, tms, good, single(std.name))

	// Added after the vectors above, to keep their numbers.
	absent("absent-envelope-percent-encoded", "a valid value with its first character 'A' written as %41: cookie values are not percent-decoded, and '%' is outside the base64url alphabet", "envelope", "encoding", std, std, now, good,
		func(s string) []string {
			if s[0] != 'A' {
				panic("sealed value does not start with A")
			}
			return []string{line("theme=dark", std.name+"=%41"+s[1:])}
		})

	// One sealed value S, read under budgets around len(S) and split
	// into two or three chunks.
	budgetJar := std
	budgetJar.nonce = "budget"
	bs := sess("budget")
	bs.values = append(bs.values, pvalue{key: "note", item: cText(strings.Repeat("budget ", 30))})
	bs.values = sortValues(bs.values)
	budgetS := budgetJar.sealText("", bs.encode())
	if len(budgetS) < 400 {
		panic("budget session too short")
	}
	atBudget := defaultConfig
	atBudget.MaxBytes = len(budgetS)
	overBudget := defaultConfig
	overBudget.MaxBytes = len(budgetS) - 1
	twoChunks := func(s string) []string { return []string{line(pairs(std.name, "", cut(s, 200))...)} }
	absentCfg("absent-chunks-over-budget", fmt.Sprintf("a valid session in two chunks, len(S) = %d, read with max_bytes %d: the budget counts len(S), without names, '=', the count prefix or \"; \"", len(budgetS), overBudget.MaxBytes),
		"chunks", "over-budget", std, budgetJar, overBudget, now, bs.encode(), twoChunks)
	ok("ok-two-chunks-at-budget", fmt.Sprintf("the session of absent-chunks-over-budget (the same S) read with max_bytes %d, exactly len(S)", atBudget.MaxBytes),
		budgetJar, atBudget, now, bs, twoChunks)
	maxTwo := defaultConfig
	maxTwo.MaxChunks = 2
	absentCfg("absent-chunks-count-over-max", "the same S in three chunks, read with max_chunks 2", "chunks", "count", std, budgetJar, maxTwo, now, bs.encode(),
		func(s string) []string { return []string{line(pairs(std.name, "", cut(s, 132, 132))...)} })

	text := sess("non-ascii-text")
	text.subject = "José Müller-山田 🧑‍💻"
	text.flashes = []string{"Bienvenue, José ☕", "保存しました", "👍🏽 done"}
	ok("ok-non-ascii-subject-and-flashes", "a subject and flash messages of non-ASCII text: accents, CJK, and emoji outside the BMP (a ZWJ sequence and a skin-tone modifier)",
		std, defaultConfig, now, text, single(std.name))

	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
