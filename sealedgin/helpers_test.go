package sealedgin_test

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestMain runs gin in test mode, which keeps its debug output out of the
// test log. The helpers the adapters' tests share are in
// internal/adaptertest.
func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}
