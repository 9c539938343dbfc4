// Package component holds what the engine, DWH and Reports plugins do
// alike: a plan whose actions carry their own handlers, the backup and
// clearing of a component's database, and the stopping and disabling of
// its services. Each plugin describes its component (records, service
// names, backup naming) and this package plans and executes the rest, so
// that the three behave the same way and a fix lands in all of them.
package component
