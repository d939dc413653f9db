package sealed

import (
	"errors"
	"fmt"

	"github.com/sealedgo/sealed/internal/cookie"
)

// Budget bounds the cookies of one session. Zero fields take the defaults
// given with them, so the zero Budget is the default budget, which fits
// every front end in the README's table with room for the application's
// own cookies. The presets below fit particular front ends.
type Budget struct {
	// MaxBytes caps what the session adds to a request's Cookie header:
	// every "name=value" pair plus the "; " between them. Default 6144,
	// which leaves 2 KiB under nginx's default 8 KiB request header line
	// and 4 KiB for every other header under API Gateway's 10 KiB.
	MaxBytes int
	// MaxChunks caps the number of cookies. Default 8, at most 32.
	// Lowering it makes existing sessions that need more chunks invalid.
	MaxChunks int
	// MaxLineBytes caps each Set-Cookie line as serialized: name, value
	// and every attribute. Default and maximum 4096: browsers keep
	// cookies of up to 4096 bytes (RFC 6265 section 6.1), and a Google
	// Front End drops every Set-Cookie of a response once one line is
	// longer.
	MaxLineBytes int
}

// The defaults, and the presets: unexported values, so that no package can
// change them for every Manager.
var (
	defaultBudget = Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: cookie.MaxLine}
	nginxBudget   = Budget{MaxBytes: 7168, MaxChunks: 8, MaxLineBytes: cookie.MaxLine}
	apiGWBudget   = Budget{MaxBytes: 8192, MaxChunks: 8, MaxLineBytes: cookie.MaxLine}
	largeBudget   = Budget{MaxBytes: 15360, MaxChunks: 8, MaxLineBytes: cookie.MaxLine}
)

// BudgetNginx is the [Budget] for nginx with its default large_client_header_buffers
// (8 KiB per request header line; a Cookie line of 8190 bytes measured
// passing, 8200 rejected with 400). It leaves 1 KiB for other cookies.
func BudgetNginx() Budget { return nginxBudget }

// BudgetAPIGatewayHTTP is the [Budget] for AWS API Gateway HTTP APIs, whose request line
// and headers together may not exceed 10240 bytes. It leaves 2 KiB.
func BudgetAPIGatewayHTTP() Budget { return apiGWBudget }

// BudgetLarge is the [Budget] for front ends that allow 16 KiB per header: AWS ALB
// (64 KiB for all headers), Cloudflare (32 KiB in all) and Vercel.
func BudgetLarge() Budget { return largeBudget }

func (b Budget) withDefaults() cookie.Budget {
	if b.MaxBytes == 0 {
		b.MaxBytes = defaultBudget.MaxBytes
	}
	if b.MaxChunks == 0 {
		b.MaxChunks = defaultBudget.MaxChunks
	}
	if b.MaxLineBytes == 0 {
		b.MaxLineBytes = defaultBudget.MaxLineBytes
	}
	return cookie.Budget(b)
}

// ErrTooLarge is what a [*TooLargeError] unwraps to: the session does not
// fit the cookie budget. Nothing is written, so the client keeps its
// previous cookies.
var ErrTooLarge = errors.New("sealed: session too large for the cookie budget")

// TooLargeError reports a session that was not saved because its cookies
// would not fit the [Budget] (or, past any budget, the format's 96 KiB
// payload limit).
type TooLargeError struct {
	// Bytes is what the session's cookies would add to the request's
	// Cookie header ("name=value" pairs and the "; " between them).
	Bytes int
	// Limit is the most that any session may add under the budget:
	// Budget.MaxBytes, or less where MaxChunks and MaxLineBytes bind
	// first. Bytes-Limit is by how much the session is too large.
	Limit int

	format bool // the format's limit, not the budget's
}

func (e *TooLargeError) Error() string {
	if e.format {
		return fmt.Sprintf("%v: the sealed session would be %d bytes, the format allows %d", ErrTooLarge, e.Bytes, e.Limit)
	}
	return fmt.Sprintf("%v: it needs %d bytes of Cookie header, the budget allows %d", ErrTooLarge, e.Bytes, e.Limit)
}

// Unwrap returns [ErrTooLarge].
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }
