package pgtest_test

import (
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
