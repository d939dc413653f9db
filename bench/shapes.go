// Package bench compares sealed with peer libraries on three session
// shapes. It is its own module so that the peers (gorilla/securecookie,
// go-jose) never become dependencies of the core. The benchmarks are in
// bench_test.go; BENCHMARKS.md at the repository root explains the method
// and holds the results; run.sh reruns everything.
package bench

import (
	"fmt"

	"github.com/sealedgo/sealed"
)

// CookieName is the session cookie name every library uses: sealed's
// default for a Secure, host-only cookie.
const CookieName = "__Host-session"

// Attrs are the Set-Cookie attributes the peers' write paths append, the
// same ones sealed writes for a one-day idle timeout.
const Attrs = "; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"

// CartItem is one line of a shopping cart.
type CartItem struct {
	SKU   string `json:"sku" cbor:"sku"`
	Name  string `json:"name" cbor:"name"`
	Qty   int    `json:"qty" cbor:"qty"`
	Price int    `json:"price" cbor:"price"` // cents
	Added int64  `json:"added" cbor:"added"` // Unix seconds
}

// Viewed is one recently viewed item.
type Viewed struct {
	ID    int64  `json:"id" cbor:"id"`
	Title string `json:"title" cbor:"title"`
	At    int64  `json:"at" cbor:"at"` // Unix seconds
}

// SessionData is a session as the application holds it. The peers encode
// the whole struct; sealed stores each non-empty field under its own key
// (the JSON name), which is how an application uses a key-value session.
type SessionData struct {
	UserID  int64      `json:"uid" cbor:"uid"`
	Email   string     `json:"email" cbor:"email"`
	Roles   []string   `json:"roles" cbor:"roles"`
	LoginAt int64      `json:"login" cbor:"login"` // Unix seconds
	Cart    []CartItem `json:"cart,omitempty" cbor:"cart,omitempty"`
	CSRF    string     `json:"csrf,omitempty" cbor:"csrf,omitempty"`
	Recent  []Viewed   `json:"recent,omitempty" cbor:"recent,omitempty"`
}

// KV is one session key and its Go value.
type KV struct {
	Key   string
	Value any
}

// Fields returns d as sealed session keys and values: the fields that are
// set, under their JSON names.
func (d *SessionData) Fields() []KV {
	kv := []KV{
		{"uid", d.UserID},
		{"email", d.Email},
		{"roles", d.Roles},
		{"login", d.LoginAt},
	}
	if len(d.Cart) > 0 {
		kv = append(kv, KV{"cart", d.Cart})
	}
	if d.CSRF != "" {
		kv = append(kv, KV{"csrf", d.CSRF})
	}
	if len(d.Recent) > 0 {
		kv = append(kv, KV{"recent", d.Recent})
	}
	return kv
}

// Shape is one benchmarked session.
type Shape struct {
	Name string
	Data SessionData
	// Target is the intended size of sealed's CBOR payload (the plaintext
	// it seals), in bytes. TestShapeSizes checks it.
	Target int
	// Budget is sealed's cookie budget for the shape. Large sessions need
	// more than the default (and more than nginx's) 8 KiB request line.
	Budget sealed.Budget
}

// defaultBudget is what the zero Budget means, spelled out so that tests
// can compare sizes with its limits.
var defaultBudget = sealed.Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: 4096}

// Email is the value every read path reads and every write path writes
// (with a different value).
const Email = "ada.lovelace@example.com"

// loginAt is a fixed time (2026-11-23T11:20:00Z) so that sizes are stable.
const loginAt = 1795432800

// Shapes returns the three benchmarked sessions, smallest first. Their
// contents are fixed, so every run measures the same bytes.
func Shapes() []Shape {
	small := SessionData{
		UserID:  4821337,
		Email:   Email,
		Roles:   []string{"member", "editor", "billing"},
		LoginAt: loginAt,
	}

	medium := small
	medium.Cart = make([]CartItem, 10)
	for i := range medium.Cart {
		medium.Cart[i] = CartItem{
			SKU:   fmt.Sprintf("SKU-%06d", 100200+i*37),
			Name:  fmt.Sprintf("Item %02d: cotton oxford shirt, blue, M", i),
			Qty:   1 + i%3,
			Price: 1999 + i*250,
			Added: loginAt + int64(i)*61,
		}
	}
	medium.CSRF = "q3Jx9vT1-kZbYpW2hN0sLmR4eA7cUdFg_oVi8tXyE5w" // 32 random bytes, base64url

	large := medium
	large.Recent = make([]Viewed, 103)
	for i := range large.Recent {
		large.Recent[i] = Viewed{
			ID:    9000000 + int64(i)*7919,
			Title: fmt.Sprintf("Product %03d: a longer product title", i),
			At:    loginAt + int64(i)*17,
		}
	}

	return []Shape{
		{Name: "small", Data: small, Target: 110, Budget: defaultBudget},
		{Name: "medium", Data: medium, Target: 1024, Budget: defaultBudget},
		{Name: "large", Data: large, Target: 7 << 10, Budget: sealed.BudgetLarge()},
	}
}
