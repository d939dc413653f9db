package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/jwk"
)

// kidTimeLayout is the creation time at the start of a generated kid. It is
// UTC, sorts as text, and has no colons, so that a kid is also a safe file
// name and log field.
const kidTimeLayout = "2006-01-02T15-04-05Z"

// newKID returns a kid for a key created at t: the time in kidTimeLayout,
// "-", and 4 random hex digits so that two keys made in the same second
// differ.
func newKID(t time.Time) string {
	var b [2]byte
	rand.Read(b[:])
	return t.UTC().Format(kidTimeLayout) + "-" + hex.EncodeToString(b[:])
}

// generateKey returns a key with the given id and a fresh random secret.
func generateKey(kid string) jwk.Key {
	secret := make([]byte, envelope.SecretSize)
	rand.Read(secret)
	return jwk.Key{ID: kid, Secret: secret}
}

// kidTime returns the creation time encoded in a kid made by newKID.
func kidTime(kid string) (time.Time, bool) {
	if len(kid) < len(kidTimeLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(kidTimeLayout, kid[:len(kidTimeLayout)])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// --- keygen ---

type keygenOpts struct {
	kid string
}

func keygenFlags(fs *flag.FlagSet, o *keygenOpts) {
	fs.StringVar(&o.kid, "kid", "", "key id of the new key (default: its creation time, e.g. 2026-11-23T11-20-00Z-9f3a)")
}

const keygenHead = `Usage: sealed keygen [--kid ID]

Prints to stdout a JWK Set holding one fresh random 32-byte key, ready to be
the whole key configuration of an application (sealed.ParseKeyring of the
file's bytes, or of an environment variable's value). The output is a
secret: redirect it to a file that only the application can read (mode
0600), never to a terminal log.

The default key id records when the key was made, in UTC, plus 4 random hex
digits: "2006-01-02T15-04-05Z-xxxx". "sealed rotate --max-age" reads that
time to retire old keys; a key with an id of your own choosing is never
aged out.
`

const keygenTail = `Examples:

	(umask 077 && sealed keygen > /etc/myapp/keys.json)
	sealed keygen --kid blue-2026 > keys.json && chmod 600 keys.json
`

func (c *cli) keygen(o *keygenOpts, fs *flag.FlagSet, pos []string) int {
	if len(pos) > 0 {
		return c.usageError("keygen: unexpected argument %q; keygen writes to stdout, redirect it to a file", pos[0])
	}
	if isSet(fs, "kid") && o.kid == "" {
		return c.usageError("keygen: --kid must not be empty")
	}
	kid := o.kid
	if kid == "" {
		kid = newKID(time.Now())
	}
	out, err := jwk.Marshal([]jwk.Key{generateKey(kid)})
	if err != nil {
		return c.usageError("keygen: %s", msg(err))
	}
	c.stdout.Write(append(out, '\n'))
	return exitOK
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// --- rotate ---

type rotateOpts struct {
	keep   int
	maxAge string
	kid    string
}

func rotateFlags(fs *flag.FlagSet, o *rotateOpts) {
	fs.IntVar(&o.keep, "keep", 0, "keep at most `N` keys in all, the new one included, dropping the oldest (last) ones; at least 2; 0 keeps all")
	fs.StringVar(&o.maxAge, "max-age", "", "drop keys whose kid says they were made more than `DURATION` ago (Go duration such as 720h, or days such as 30d)")
	fs.StringVar(&o.kid, "kid", "", "key id of the new key (default: its creation time, as keygen)")
}

const rotateHead = `Usage: sealed rotate [--keep N] [--max-age DURATION] [--kid ID] FILE

Adds a fresh key to the JWK Set in FILE as the new primary (first) key,
keeping the previous keys after it so that every session cookie they sealed
still opens, and optionally retires old keys. It prints to stderr the new
primary, the kept and the dropped key ids (never secrets).

FILE is replaced atomically: the new set is written to a temporary file in
the same directory, synced, and renamed over FILE, which keeps its
permission bits and owner. A symbolic link is followed and the file it
points to is replaced. If FILE cannot be read or is not a valid key set, it
is left untouched.

rotate never drops the key that was primary before it ran, whatever --keep
and --max-age say: instances that have not reloaded FILE yet still seal new
cookies with that key, and those cookies must open everywhere. Retire a key
in a later rotation, once no instance seals with it any more and the
sessions it sealed have passed the absolute timeout.

A rotation without logouts is done in three steps:

 1. pre-announce: add the new key second (after the primary) everywhere,
    so that every instance can open what it will seal;
 2. promote: make it first, so that instances seal with it;
 3. retire: drop the old key once AbsoluteTimeout (default 7 days) has
    passed since the promotion.

With a single FILE that every instance reloads (sealed.ParseKeyring of its
bytes, then RotatingKeyring.Swap), "sealed rotate" does the promote step,
and its --keep or --max-age in a later run does the retire step. Where the
instances cannot reload at once, pre-announce first by adding the key by
hand.

Keys whose kid does not start with a keygen-style time are kept by
--max-age, with a warning.
`

const rotateTail = `Examples:

	sealed rotate /etc/myapp/keys.json
	sealed rotate --max-age 30d /etc/myapp/keys.json
	sealed rotate --keep 3 --kid green-2027 keys.json
`

func (c *cli) rotate(o *rotateOpts, fs *flag.FlagSet, pos []string) int {
	switch {
	case len(pos) == 0:
		return c.usageError("rotate: missing FILE (see 'sealed rotate --help')")
	case len(pos) > 1:
		return c.usageError("rotate: want one FILE, got %d arguments", len(pos))
	case o.keep < 0:
		return c.usageError("rotate: --keep %d: want 0 (keep all) or a count of at least 2", o.keep)
	case o.keep == 1:
		return c.usageError("rotate: --keep 1 would drop the previous primary key, which instances that have not reloaded still seal with; use --keep 2 or more")
	case isSet(fs, "kid") && o.kid == "":
		return c.usageError("rotate: --kid must not be empty")
	}
	var maxAge time.Duration
	if o.maxAge != "" {
		d, err := parseAge(o.maxAge)
		if err != nil {
			return c.usageError("rotate: --max-age: %v", err)
		}
		maxAge = d
	}
	file := pos[0]

	data, target, err := readTarget(file)
	if err != nil {
		return c.fail("rotate: %v", err)
	}
	old, err := jwk.Parse(data)
	if err != nil {
		return c.fail("rotate: %s: %s", file, msg(err))
	}

	now := time.Now()
	var fresh jwk.Key
	if o.kid != "" {
		fresh = generateKey(o.kid)
		if _, err := jwk.Ring(append([]jwk.Key{fresh}, old...)); err != nil {
			return c.usageError("rotate: --kid %q: %s", o.kid, msg(err))
		}
	} else {
		// A generated kid can only clash with one made in the same second
		// (or by a 4-byte key id collision): draw again.
		for i := 0; ; i++ {
			fresh = generateKey(newKID(now))
			if _, err = jwk.Ring(append([]jwk.Key{fresh}, old...)); err == nil {
				break
			}
			if i == 9 {
				return c.fail("rotate: %s", msg(err))
			}
		}
	}

	// old[0] was the primary: always kept. The others are candidates.
	kept := []jwk.Key{fresh, old[0]}
	var dropped []string
	if maxAge > 0 {
		if t, ok := kidTime(old[0].ID); ok && now.Sub(t) > maxAge {
			c.warn("key %q is older than --max-age but is kept: it was the primary, and instances that have not reloaded still seal with it", old[0].ID)
		}
	}
	for _, k := range old[1:] {
		if maxAge > 0 {
			t, ok := kidTime(k.ID)
			if !ok {
				c.warn("key %q has no creation time in its kid; kept (--max-age cannot age it)", k.ID)
			} else if now.Sub(t) > maxAge {
				dropped = append(dropped, k.ID)
				continue
			}
		}
		kept = append(kept, k)
	}
	if o.keep > 0 && len(kept) > o.keep {
		for _, k := range kept[o.keep:] {
			dropped = append(dropped, k.ID)
		}
		kept = kept[:o.keep]
	}

	out, err := jwk.Marshal(kept)
	if err != nil {
		return c.fail("rotate: %s", msg(err))
	}
	if err := writeAtomic(target, append(out, '\n')); err != nil {
		return c.fail("rotate: %v", err)
	}

	ids := make([]string, len(kept)-1)
	for i, k := range kept[1:] {
		ids[i] = k.ID
	}
	fmt.Fprintf(c.stderr, "rotated %s\n", file)
	fmt.Fprintf(c.stderr, "  new primary: %s\n", fresh.ID)
	fmt.Fprintf(c.stderr, "  kept:        %s\n", listOrNone(ids))
	fmt.Fprintf(c.stderr, "  dropped:     %s\n", listOrNone(dropped))
	return exitOK
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "(none)"
	}
	return strings.Join(ids, ", ")
}

// parseAge parses a positive Go duration, also accepting a leading whole
// number of days: "30d", "1d12h".
func parseAge(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err == nil {
			days = time.Duration(n) * 24 * time.Hour
			s = s[i+1:]
		}
	}
	var d time.Duration
	if s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want a duration such as 720h or 30d")
		}
	}
	if d+days <= 0 {
		return 0, errors.New("want a positive duration such as 720h or 30d")
	}
	return d + days, nil
}

// readTarget reads the file at path, following symbolic links, and returns
// its content and the path of the file itself.
func readTarget(path string) ([]byte, string, error) {
	target, err := resolve(path)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return nil, "", err
	}
	return data, target, nil
}
