package sealed

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed/internal/adapt"
	"github.com/sealedgo/sealed/internal/inspect"
)

// The demo's view of a Manager's cookies opens them with that Manager's
// configuration: its cookie name, purpose and keys.
func TestInspectOfManager(t *testing.T) {
	m := NewTestManager(t, NewTestKeys(t, "k7"), &Options{AllowInsecure: true, CookieName: "app", Purpose: "demo"})
	header := savedHeader(t, m, map[string]any{"n": 3})
	in, err := inspect.OfManager(m, header)
	require.NoError(t, err)
	assert.Equal(t, "k7", in.KeyID)
	assert.EqualValues(t, 3, in.Values["n"])

	other := NewTestManager(t, nil, &Options{AllowInsecure: true, CookieName: "app"})
	_, err = inspect.OfManager(other, header)
	assert.ErrorIs(t, err, inspect.ErrInvalid)
	_, err = inspect.OfManager(m, strings.Replace(header, "app=", "session=", 1))
	assert.ErrorIs(t, err, inspect.ErrInvalid)
}

func TestAdaptClose(t *testing.T) {
	m := NewTestManager(t, nil, &Options{AllowInsecure: true})
	s := newSession(t, m)
	require.NoError(t, s.Set("a", 1))
	adapt.Close(s)
	assert.ErrorIs(t, s.Set("b", 2), ErrCommitted)
	v, ok, err := Get[int](s, "a")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 1, v, "a closed session still reads")
}
