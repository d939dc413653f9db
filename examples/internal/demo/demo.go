// Package demo holds the examples' HTTP plumbing (error answers, the login
// form, the page skeleton, the routes behind cross-origin protection), the
// way their commands exit on an error, and their -cookies flag (secure,
// insecure or auto, default $SEALED_COOKIES), so that each main.go is left
// with its sealed calls.
package demo

import (
	"html/template"
	"log/slog"
	"net/http"
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
// between <body> and </body> and may show the login form.
func Page(title, body string) *template.Template {
	t := template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>` + title + `</title></head>
<body>
` + body + `</body>
</html>
`))
	template.Must(t.New("login").Parse(loginForm))
	return t
}
