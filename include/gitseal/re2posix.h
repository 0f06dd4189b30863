/* sops's regular expressions (Go's RE2 syntax, unanchored: path_regex,
 * encrypted_regex and the other selection regexes) run on POSIX ERE.
 *
 * Translated: \d \D \s \S \w \W (RE2's \s is [\t\n\f\r ], no \v),
 * brackets (members, ranges, escaped punctuation, "[:alpha:]" and
 * "[:^alpha:]", Perl classes, '[' before '.' or '=' as RE2 reads it: a
 * member), (?: groups, a leading (?i) (with RE2's Unicode folds of 'k' and
 * 's', the Kelvin sign and the long s, in letters, brackets and classes,
 * negated ones too), lazy quantifiers (the same yes/no answer), \A \z,
 * an anchor that a repeat follows ("^*", "$+": grouped, as RE2 repeats it
 * where glibc refuses),
 * \a \f \n \r \t \v, a brace that RE2 reads as no repeat ("{,5}", "{,}", "{01}",
 * "{x}": a literal '{', as RE2 does), escaped punctuation that is no ERE
 * operator (the bare byte: glibc reads "\<" "\>" "\`" "\'" as anchors).
 *
 * RE2 matches UTF-8 runes, glibc in the C locale bytes: '.', every class
 * and bracket is written as one atom that takes one whole rune (an
 * alternation over UTF-8 byte sequences), a literal rune outside ASCII
 * before a repeat is grouped ("ä+"), and the subject is matched with each
 * byte that starts no valid sequence read as U+FFFD, as Go's regexp reads
 * it. So "^.{1,8}$" takes "pässwörd" (8 runes, 10 bytes) as sops does.
 *
 * Refused with GS_ERR_CONFIG: \b \B, \p{..} and other escapes, other
 * (?flags), named groups, (?i) with non-ASCII bytes (RE2 folds all of
 * Unicode, glibc in the C locale ASCII only), a pattern that is not UTF-8
 * (as Go), a class of nothing ("[^\D\d]"), stacked repetitions, counts
 * over 1000 and a maximum below the minimum ("a{2,1}": RE2 refuses them
 * too), more than REGEX_MAX_REPEAT counted repetitions in all, or as a
 * product through groups ("(a{1,100}){100}": glibc's matching is not
 * linear as RE2's, and a file's encrypted_regex is outside the MAC), and
 * patterns over REGEX_MAX_LEN bytes (glibc's regcomp grows without bound
 * on them).
 *
 * A pattern is compiled once per rule or selector; matching a compiled
 * one costs no allocation, so there is no cache. */
#ifndef GITSEAL_RE2POSIX_H
#define GITSEAL_RE2POSIX_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

enum { REGEX_MAX_LEN = 1024, REGEX_MAX_REPEAT = 256 };

/* Compiles pattern into re (free it with regfree). */
int re2posix_compile(regex_t *re, const char *pattern) __attribute__((warn_unused_result));
/* 1 when re matches s, 0 when not; a negative gs_err when s is not UTF-8
 * and its copy with U+FFFD could not be made (out of memory). */
int re2posix_match(const regex_t *re, const char *s) __attribute__((warn_unused_result));
/* The same for len bytes of s, which may hold NUL bytes (a key). */
int re2posix_match_n(const regex_t *re, const char *s, size_t len)
	__attribute__((warn_unused_result));

/* The POSIX ERE for an RE2 pattern (a leading (?i) is compile's, not
 * translated here), malloc'd into *posix. */
int re2posix_translate(const char *pattern, char **posix) __attribute__((warn_unused_result));

#endif
