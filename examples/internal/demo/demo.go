// Package demo holds the examples' HTTP plumbing (error answers, the login
// form, the page skeleton, the routes behind cross-origin protection,
// finding the session's chunk cookies among a request's), the
// way their commands exit on an error, and their -cookies flag (secure,
// insecure or auto, default $SEALED_COOKIES), so that each main.go is left
// with its sealed calls.
package demo

import (
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxNameLen bounds the login name: whatever the user types ends up in the
// cookie, so it is kept short.
const MaxNameLen = 64

// Logger returns l, or a logger that discards everything when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Fail answers 500 and logs err (which never holds session values).
func Fail(w http.ResponseWriter, logger *slog.Logger, what string, err error) {
	logger.Error(what, "err", err)
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// Done redirects to the home page (303) when err is nil, and otherwise
// answers as Fail.
func Done(w http.ResponseWriter, r *http.Request, logger *slog.Logger, what string, err error) {
	if err != nil {
		Fail(w, logger, what, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// Render writes t, executed on data, as an HTML page. A failure is only
// logged: part of the page may have gone out.
func Render(w http.ResponseWriter, logger *slog.Logger, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil {
		logger.Error("render", "err", err)
	}
}

// LoginName returns the name posted by the login form, trimmed. When it is
// empty, longer than MaxNameLen or not UTF-8, it answers 400 and returns
// false.
func LoginName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen {
		http.Error(w, "name: 1 to 64 characters", http.StatusBadRequest)
		return "", false
	}
	return name, true
}

// loginForm posts to /login; a page shows it with {{template "login"}}.
const loginForm = `<form method="post" action="/login">
<label>Name <input name="name" maxlength="64" required></label>
<button>Log in</button>
</form>`

// Page parses an HTML page. title and body are template text; body goes
// between <body> and </body> and may show the login form. A page that
// wants more in its <head> (a style sheet) defines a template "head".
func Page(title, body string) *template.Template {
	t := template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>` + title + `</title>{{block "head" .}}{{end}}</head>
<body>
` + body + `</body>
</html>
`))
	template.Must(t.New("login").Parse(loginForm))
	return t
}

// ChunkIndex reports whether cname names a chunk of the session cookie
// name: name itself is chunk 0, name.1, name.2, ... the chunks after it.
func ChunkIndex(cname, name string) (int, bool) {
	if cname == name {
		return 0, true
	}
	rest, ok := strings.CutPrefix(cname, name+".")
	// Digits only, without a leading zero: "session.01" and "session.+1"
	// are other cookies.
	if !ok || rest == "" || rest[0] == '0' || strings.Trim(rest, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// SessionCookies returns the chunks of the session cookie name among
// cookies (a request's r.Cookies()), in chunk order.
func SessionCookies(cookies []*http.Cookie, name string) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range cookies {
		if _, ok := ChunkIndex(c.Name, name); ok {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b *http.Cookie) int {
		i, _ := ChunkIndex(a.Name, name)
		j, _ := ChunkIndex(b.Name, name)
		return i - j
	})
	return out
}
