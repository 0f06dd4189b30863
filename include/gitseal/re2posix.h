/* sops's regular expressions (Go's RE2 syntax, unanchored: path_regex,
 * encrypted_regex and the other selection regexes) run on POSIX ERE.
 *
 * Translated: \d \D \s \S \w \W (\d \s \w also inside brackets; RE2's \s
 * is [\t\n\f\r ], no \v), escaped punctuation inside brackets, (?: groups,
 * a leading (?i) (with RE2's Unicode folds of 'k' and 's', the Kelvin sign
 * and the long s, as alternatives), lazy quantifiers
 * (the same yes/no answer), \A \z, \n \t, a brace that RE2 reads as no
 * repeat ("{,5}", "{,}", "{01}", "{x}": a literal '{', as RE2 does),
 * '.' (no newline, as RE2's), escaped punctuation that is no ERE operator
 * (the bare byte: glibc reads "\<" "\>" "\`" "\'" as anchors).
 * Refused with GS_ERR_CONFIG: \b \B, a '[' member before '.', '=' or '\'
 * (POSIX would open a collating symbol or class: "[[.a.]]"), \p{..}, other
 * (?flags), named groups, (?i) with non-ASCII bytes (RE2 folds all of
 * Unicode, glibc in the C locale ASCII only) or with \W or a negated
 * bracket holding 'k' or 's' (RE2 leaves their folds out too, which
 * bytewise matching cannot say),
 * stacked repetitions, counts over 1000 and a maximum below the minimum
 * ("a{2,1}": RE2 refuses them too), more than REGEX_MAX_REPEAT counted
 * repetitions in all, or as a product through groups ("(a{1,100}){100}":
 * glibc's matching is not linear as RE2's, and a file's encrypted_regex is
 * outside the MAC), and patterns over REGEX_MAX_LEN bytes (glibc's regcomp
 * grows without bound on them).
 * Matching is by bytes in the C locale's sense, not by UTF-8 runes.
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
bool re2posix_match(const regex_t *re, const char *s);
/* The same for len bytes of s, which may hold NUL bytes (a key). */
bool re2posix_match_n(const regex_t *re, const char *s, size_t len);

/* The POSIX ERE for an RE2 pattern (a leading (?i) is compile's, not
 * translated here), malloc'd into *posix. */
int re2posix_translate(const char *pattern, char **posix) __attribute__((warn_unused_result));

#endif
