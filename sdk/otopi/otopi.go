package otopi

import (
	"slices"
	"strconv"
	"strings"
)

// Type is the type prefix of a value, the part before the first colon.
type Type string

// The types an answer file may use. otopi also knows "object", which it
// cannot read back, so it is not one of them.
const (
	TypeNone     Type = "none"
	TypeBool     Type = "bool"
	TypeInt      Type = "int"
	TypeStr      Type = "str"
	TypeMultiStr Type = "multi-str"
)

// Section names one of the environment sections otopi reads; the file
// header is "[environment:" + section + "]".
type Section string

// The sections otopi reads, in the order it applies them. Keys from
// SectionDefault only fill in keys that are not set yet; the others override.
const (
	SectionDefault  Section = "default"
	SectionInit     Section = "init"
	SectionOverride Section = "override"
	SectionEnforce  Section = "enforce"
)

// Limits on input. Answer files are a few kilobytes; anything larger is a
// mistake or an attack, and the limits keep memory use bounded.
const (
	MaxFileSize = 1 << 20  // bytes in a file
	MaxLineSize = 64 << 10 // bytes in a line, without its line break
)

// Value is a typed value. Only the field that matches Type is meaningful.
// File and Line record where the value was read, for messages; they are zero
// for values built in code and are ignored by Equal.
type Value struct {
	Type  Type
	Bool  bool
	Int   int64
	Str   string
	Lines []string // multi-str
	File  string
	Line  int
}

// None returns the value otopi writes as none:None.
func None() Value { return Value{Type: TypeNone} }

// Bool returns a bool value.
func Bool(b bool) Value { return Value{Type: TypeBool, Bool: b} }

// Int returns an int value.
func Int(i int64) Value { return Value{Type: TypeInt, Int: i} }

// Str returns a str value.
func Str(s string) Value { return Value{Type: TypeStr, Str: s} }

// MultiStr returns a multi-str value.
func MultiStr(lines ...string) Value {
	return Value{Type: TypeMultiStr, Lines: slices.Clone(lines)}
}

// String returns the value as otopi's parseTypedValue takes it: "none:None",
// "bool:True", "int:3", "str:text", and for multi-str the lines joined by
// newlines after "multi-str:". It is not the file encoding (Write indents
// continuation lines and doubles "%"), and it does not mask secrets.
func (v Value) String() string {
	switch v.Type {
	case TypeNone:
		return "none:None"
	case TypeBool:
		if v.Bool {
			return "bool:True"
		}
		return "bool:False"
	case TypeInt:
		return "int:" + strconv.FormatInt(v.Int, 10)
	case TypeStr:
		return "str:" + v.Str
	case TypeMultiStr:
		return "multi-str:" + strings.Join(v.Lines, "\n")
	}
	return string(v.Type) + ":"
}

// Equal reports whether v and w have the same type and content, whatever
// their origin. A nil and an empty multi-str are equal.
func (v Value) Equal(w Value) bool {
	if v.Type != w.Type {
		return false
	}
	switch v.Type {
	case TypeBool:
		return v.Bool == w.Bool
	case TypeInt:
		return v.Int == w.Int
	case TypeStr:
		return v.Str == w.Str
	case TypeMultiStr:
		return slices.Equal(v.Lines, w.Lines)
	}
	return true
}

// Entry is one key of an environment section.
type Entry struct {
	Section Section
	Key     string
	Value   Value
}

// File is a parsed environment file. Entries holds the keys of the
// environment sections in the order they first appear, each key once per
// section; other sections are not kept.
type File struct {
	Path     string
	Entries  []Entry
	Warnings []string // "path:line: message", for things otopi would reject
}

// Env maps environment keys to values.
type Env map[string]Value

// Bool returns the bool at key; ok is false if the key is missing or holds
// another type.
func (e Env) Bool(key string) (value, ok bool) {
	v, ok := e[key]
	if !ok || v.Type != TypeBool {
		return false, false
	}
	return v.Bool, true
}

// Int returns the int at key; ok is false if the key is missing or holds
// another type.
func (e Env) Int(key string) (value int64, ok bool) {
	v, ok := e[key]
	if !ok || v.Type != TypeInt {
		return 0, false
	}
	return v.Int, true
}

// Str returns the str at key; ok is false if the key is missing or holds
// another type, none included.
func (e Env) Str(key string) (value string, ok bool) {
	v, ok := e[key]
	if !ok || v.Type != TypeStr {
		return "", false
	}
	return v.Str, true
}

// Merge returns the environment otopi builds from files loaded in order; nil
// files are skipped. It is MergeOnto with an empty base.
func Merge(files ...*File) Env { return MergeOnto(nil, files...) }

// MergeOnto returns base updated the way otopi updates its environment from
// files loaded in order (base itself is not modified). otopi first reads all
// files into one ConfigParser, so within a section a later file replaces a
// key of an earlier one, defaults included. Then it applies the sections:
// [environment:default] sets only keys base does not have, and
// [environment:init], [environment:override] and [environment:enforce]
// overwrite, in that order. Hence a key in any file's override section beats
// the same key in any file's default section, whatever the file order.
//
// base is what the caller knew before reading the files, such as values
// given on the command line: defaults do not replace it, the other sections
// do.
func MergeOnto(base Env, files ...*File) Env {
	out := make(Env, len(base))
	for k, v := range base {
		out[k] = v
	}
	for _, sec := range []Section{SectionDefault, SectionInit, SectionOverride, SectionEnforce} {
		// Flatten the section across files first, as ConfigParser does,
		// so that setdefault applies to the last file's default only.
		layer := Env{}
		for _, f := range files {
			if f == nil {
				continue
			}
			for _, e := range f.Entries {
				if e.Section == sec {
					v := e.Value
					v.Lines = slices.Clone(v.Lines)
					layer[e.Key] = v
				}
			}
		}
		for k, v := range layer {
			if _, set := out[k]; sec == SectionDefault && set {
				continue
			}
			out[k] = v
		}
	}
	return out
}
