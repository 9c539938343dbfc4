// Package otopi reads and writes otopi environment files, the answer-file
// format of oVirt's otopi installer. The core uses it for --config-append
// answer files and to record the answers a run used; plugins use it to read
// what engine-setup left behind in
// /etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf.
//
// A file looks like this:
//
//	# written by engine-setup
//	[environment:default]
//	OVESETUP_CORE/remove=bool:True
//	OVESETUP_CONFIG/fqdn=str:engine.example.com
//	OVESETUP_CONFIG/firewallManager=none:None
//	OVESETUP_CORE/uninstallFiles=multi-str:/etc/a
//	 /etc/b
//
// otopi reads these files with Python's configparser.ConfigParser and then
// converts each value with otopi.common.parseTypedValue. This package follows
// that pipeline rule by rule, so that everything it accepts means to
// engine-cleanup exactly what it would mean to otopi. Where otopi accepts
// something surprising, this package refuses it with an error that says
// why, instead of picking a meaning:
//
//   - bool: otopi reads only f, F, false and False as false, so "bool:no",
//     "bool:0" and "bool:FALSE" are true to otopi. Only those four spellings
//     are accepted as false; true may be written true, t, yes, y or 1 in any
//     case; anything else is an error.
//   - Values go through ConfigParser interpolation: "%%" stands for "%", and
//     a lone "%" makes otopi fail. "%%" is decoded, "%(name)s" references
//     and lone "%" are errors, and Write doubles every "%".
//   - Only multi-str values may continue on indented lines; ConfigParser would
//     silently glue an indented line onto any value.
//   - The key must be followed by "=" (ConfigParser also takes ":"), keys are
//     letters, digits and _ / . -, and section headers must be exactly
//     [name], without the text or spaces ConfigParser tolerates.
//   - [DEFAULT] is refused: ConfigParser copies its keys into every section.
//   - NUL bytes, invalid UTF-8, control characters other than tab, Unicode
//     line separators and a leading byte order mark are refused; files over
//     MaxFileSize and lines over MaxLineSize are refused.
//   - The type object, which otopi can write but not read, is refused.
//
// One deliberate leniency: otopi's ConfigParser is strict and fails on a key
// or a section repeated within one file. Here the last value wins and the
// repetition is reported in File.Warnings.
//
// Values are stripped of surrounding whitespace the way ConfigParser strips
// them, so a str cannot end with whitespace and a multi-str line cannot
// start or end with it. Write refuses such values, and anything else that
// would not read back identically, rather than write a file that means
// something else.
//
// Answer files can hold passwords. Nothing here masks them: callers that log
// values must redact them first.
package otopi
