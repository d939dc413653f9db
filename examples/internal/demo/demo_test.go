package demo

import (
	"net/http"
	"slices"
	"testing"
)

func TestChunkIndex(t *testing.T) {
	for cname, want := range map[string]int{"session": 0, "session.1": 1, "session.7": 7, "session.12": 12} {
		if got, ok := ChunkIndex(cname, "session"); !ok || got != want {
			t.Errorf("ChunkIndex(%q): %d, %v; want %d", cname, got, ok, want)
		}
	}
	for _, cname := range []string{"sessions", "session.", "session.0", "session.01", "session.+1", "session.x", "session.1.2", "session.99999999999999999999", "other", "__Host-session"} {
		if n, ok := ChunkIndex(cname, "session"); ok {
			t.Errorf("ChunkIndex(%q) = %d: want not a chunk", cname, n)
		}
	}
}

func TestSessionCookies(t *testing.T) {
	var in []*http.Cookie
	for _, n := range []string{"theme", "session.2", "session", "session.x", "session.1", "lang"} {
		in = append(in, &http.Cookie{Name: n, Value: "v"})
	}
	var got []string
	for _, c := range SessionCookies(in, "session") {
		got = append(got, c.Name)
	}
	if want := []string{"session", "session.1", "session.2"}; !slices.Equal(got, want) {
		t.Fatalf("SessionCookies: %q, want %q", got, want)
	}
}
