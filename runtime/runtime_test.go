package runtime_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The behaviour suite (package runtimetest) runs from each backend's tests;
// the tests here cover what does not depend on a backend.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
