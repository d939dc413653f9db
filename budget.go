package sealed

import (
	"errors"
	"fmt"

	"github.com/sealedgo/sealed/internal/cookie"
)

// Budget bounds the cookies of one session in both directions: what they
// add to each request's Cookie header, and what their Set-Cookie headers
// add to a response's header. Zero fields take the defaults given with
// them; the zero Budget fits nginx with its default configuration, the
// tightest front end in the README's table (about 3 KiB of cookie). The
// presets fit others.
type Budget struct {
	// MaxBytes caps what the session adds to a request's Cookie header
	// ("name=value" pairs and the "; " between them). Default 6144: 2 KiB
	// left under nginx's default 8 KiB header line.
	MaxBytes int
	// MaxChunks caps the number of cookies. Default 8, at most 32.
	// Lowering it makes existing sessions that need more chunks invalid.
	MaxChunks int
	// MaxLineBytes caps each Set-Cookie line, attributes included.
	// Default and maximum 4096, the limit of browsers (RFC 6265 section
	// 6.1) and of Google's front ends.
	MaxLineBytes int
	// MaxResponseBytes is the front end's limit on a response's whole
	// header, which the Set-Cookie headers share with the rest. Default
	// 4096: nginx's default proxy_buffer_size, which the header must stay
	// under (502 past it).
	MaxResponseBytes int
	// ReservedResponseBytes is what MaxResponseBytes keeps for the rest of
	// the response header: the status line, Date, Content-Type, Vary, the
	// application's own headers. Default 1024.
	ReservedResponseBytes int
}

// The defaults, and the presets: unexported values, so that no package can
// change them for every Manager.
var (
	defaultBudget = Budget{MaxBytes: 6144, MaxChunks: 8, MaxLineBytes: cookie.MaxLine, MaxResponseBytes: 4096, ReservedResponseBytes: 1024}
	nginx8kBudget = Budget{MaxBytes: 7168, MaxChunks: 8, MaxLineBytes: cookie.MaxLine, MaxResponseBytes: 8192, ReservedResponseBytes: 1024}
	apiGWBudget   = Budget{MaxBytes: 8192, MaxChunks: 8, MaxLineBytes: cookie.MaxLine, MaxResponseBytes: 10240, ReservedResponseBytes: 2048}
	largeBudget   = Budget{MaxBytes: 15360, MaxChunks: 8, MaxLineBytes: cookie.MaxLine, MaxResponseBytes: 32768, ReservedResponseBytes: 4096}
)

// BudgetNginx8k is the [Budget] for nginx configured with
//
//	proxy_buffer_size 8k;
//	proxy_buffers 8 8k;
//
// (responses with up to 8 KiB of header) and its default request limit of
// 8 KiB per header line. It leaves 1 KiB of each for the rest.
func BudgetNginx8k() Budget { return nginx8kBudget }

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
	if b.MaxResponseBytes == 0 {
		b.MaxResponseBytes = defaultBudget.MaxResponseBytes
	}
	if b.ReservedResponseBytes == 0 {
		b.ReservedResponseBytes = defaultBudget.ReservedResponseBytes
	}
	return cookie.Budget(b)
}

// ErrTooLarge is what a [*TooLargeError] unwraps to: the session does not
// fit the cookie budget. Nothing is written, so the client keeps its
// previous cookies.
var ErrTooLarge = errors.New("sealed: session too large for the cookie budget")

// TooLargeError reports a session that was not saved because its cookies
// would not fit the [Budget] in one direction or both (or, past any
// budget, the format's 96 KiB payload limit).
type TooLargeError struct {
	// Bytes is what the session's cookies would add to the request's
	// Cookie header ("name=value" pairs and the "; " between them), and
	// Limit that of the largest session the budget allows.
	Bytes, Limit int
	// ResponseBytes is what the session's Set-Cookie headers would add to
	// the response header, and ResponseLimit that of the largest session
	// the budget allows.
	ResponseBytes, ResponseLimit int

	format bool // the format's limit, not the budget's
}

func (e *TooLargeError) Error() string {
	if e.format {
		return fmt.Sprintf("%v: the sealed session would be %d bytes, the format allows %d", ErrTooLarge, e.Bytes, e.Limit)
	}
	return fmt.Sprintf("%v: it needs %d bytes of Cookie header and %d of Set-Cookie headers, the budget allows %d and %d", ErrTooLarge, e.Bytes, e.ResponseBytes, e.Limit, e.ResponseLimit)
}

// Unwrap returns [ErrTooLarge].
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }
