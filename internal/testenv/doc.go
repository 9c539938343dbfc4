// Package testenv groups the test harnesses that start real, throwaway
// components for engine-cleanup's tests (no mocks):
//
//   - pgtest: a private PostgreSQL 15 cluster per test, plus pgtest/schema,
//     which loads an oVirt-engine-like schema owned by a chosen role.
//   - systemdtest: a private "systemd --user" manager per test, reachable
//     over D-Bus exactly like the host's system manager.
//
// The recipes and the hazards they avoid are described in
// /work/shared/TESTING.md (sections a and b).
package testenv
