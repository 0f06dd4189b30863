/* Known secret values found again in text: `render` refuses a build that
 * carried plaintext it decrypted somewhere other than a Secret's values
 * (`git check`, which looks for a sealed file's plaintext in another file,
 * uses the same minimum length).
 *
 * A set holds each value and the padded standard base64 of it (what a
 * Kubernetes Secret's data holds) in secure memory, wiped when it is
 * freed; text is searched for either, base64 also with line breaks and
 * blanks anywhere in it (kustomize wraps long base64 over lines). */
#ifndef GITSEAL_SECRET_SCAN_H
#define GITSEAL_SECRET_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values shorter than this are not looked for: they occur by chance ("admin",
 * "5432", "true"), and a search for them would refuse honest text. */
enum { GS_SECRET_MIN_LEN = 6 };

struct gs_secret_set;

int gs_secret_set_new(struct gs_secret_set **out) __attribute__((warn_unused_result));
void gs_secret_set_free(struct gs_secret_set *s);
/* Values added from now on come from another file (a group of their own). */
void gs_secret_set_group(struct gs_secret_set *s);
/* Adds value and its base64 (each once in its group); a value shorter
 * than GS_SECRET_MIN_LEN is kept apart, never searched for by find or
 * drop_found (only by gs_secret_set_short_unpaired). */
int gs_secret_set_add(struct gs_secret_set *s, const uint8_t *value, size_t len)
	__attribute__((warn_unused_result));
/* Drops every value that text holds, or holds the base64 of, verbatim:
 * they are no longer looked for or counted. GS_ERR_LIMIT as for find. */
int gs_secret_set_drop_found(struct gs_secret_set *s, const char *text, size_t len)
	__attribute__((warn_unused_result));
/* The values added and not dropped (not counting their base64 forms or skipped ones). */
size_t gs_secret_set_count(const struct gs_secret_set *s);
/* The values added that were shorter than GS_SECRET_MIN_LEN (and not
 * empty): never looked for, so a caller that must know where they go has
 * to refuse what could move them. */
size_t gs_secret_set_short_count(const struct gs_secret_set *s);
/* *found: text holds a value of the set or the base64 of one. GS_ERR_LIMIT
 * when the set's budget of comparisons is spent (many values sharing
 * their first bytes, and text that repeats them): the caller fails closed. */
int gs_secret_set_find(struct gs_secret_set *s, const char *text, size_t len, bool *found)
	__attribute__((warn_unused_result));
/* *unpaired: text holds a short value of the set, or its base64, anywhere
 * (a byte or two is found almost everywhere: the answer errs towards
 * true), and no value of GS_SECRET_MIN_LEN bytes or more of its group
 * (nor its base64) not dropped: a text (a Secret's values) that would be
 * guessed offline from a hash of it. GS_ERR_LIMIT as for find. */
int gs_secret_set_short_unpaired(struct gs_secret_set *s, const char *text, size_t len, bool *unpaired)
	__attribute__((warn_unused_result));

#endif
