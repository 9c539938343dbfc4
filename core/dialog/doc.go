// Package dialog is the only code that talks to the administrator's
// terminal. The core asks the questions plugins declared through it, in
// otopi's look:
//
//	Drop database? If you want to reuse the existing database for the future installation, choose No. (Yes, No) [Yes]:
//
// A Dialog reads answers line by line from one buffered reader for its whole
// life, so lines typed or piped ahead are kept for the next question. A
// pending read never outlives the caller's context: Ask returns ctx.Err()
// at once when the context is done, and the line read later goes to the
// next question. Passwords are read without echo when the input is a
// terminal and are never printed. Output is plain text: no colour, so
// NO_COLOR holds trivially.
//
// Normalize validates answers that come from flags or answer files against
// the same rules, so every answer the core hands to plugins is canonical:
// "true"/"false" for yes-no and approval questions, the declared spelling
// for choices, the text as given for text and passwords.
package dialog
