/* The git integration: the clean/smudge filter (long-running process),
 * textconv, the key-by-key merge driver, `git init` and `git check`.
 * libgit2 opens the repository once per process. */
#ifndef GITSEAL_GITFILTER_H
#define GITSEAL_GITFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gitseal/doc.h"
#include "gitseal/secmem.h"

/* A repository and what filtering needs of it: the .sops.yaml at its
 * root and the user's identities, each loaded once, on first use. */
struct gitfilter;

/* start_dir: any directory inside the work tree; NULL for no repository
 * (smudge and textconv need none). */
int gitfilter_open(const char *start_dir, struct gitfilter **out) __attribute__((warn_unused_result));
void gitfilter_free(struct gitfilter *f);
const char *gitfilter_workdir(const struct gitfilter *f);

/* True when data is a sops-encrypted document of that format. */
bool gitfilter_is_sops(enum doc_format format, const uint8_t *data, size_t len);

/* clean: a sops file passes through unchanged; anything else is
 * encrypted for the .sops.yaml rule matching path (relative to the work
 * tree), reusing the previous version (index, else HEAD) so an unchanged
 * file cleans to the same blob. Fails closed: no rule, no recipient or any
 * error is an error, and out is left empty. */
int gitfilter_clean(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
		    struct gs_buf *out) __attribute__((warn_unused_result));

/* smudge: decrypts a sops file. Content that is not a sops file, or that no
 * available identity opens, is copied through unchanged and *passed_through
 * set (may be NULL). A MAC or value failure is an error. */
int gitfilter_smudge(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
		     struct gs_buf *out, bool *passed_through) __attribute__((warn_unused_result));

/* Why the last smudge passed a sops file through, or NULL. */
const char *gitfilter_pass_reason(const struct gitfilter *f);

struct gitfilter_events {
	/* A file failed and was answered status=error; the error message is set. */
	void (*file_failed)(void *ctx, const char *path, bool clean);
	/* A sops file was passed through as ciphertext (no identity opens it). */
	void (*passed_through)(void *ctx, const char *path, const char *reason);
	void *ctx;
};

/* Serves git's long-running filter protocol on in/out until git closes
 * the pipe. Per-file failures are answered status=error and reported
 * through ev; the return value is a protocol or I/O failure. */
int gitfilter_serve(struct gitfilter *f, FILE *in, FILE *out, const struct gitfilter_events *ev)
	__attribute__((warn_unused_result));

/* Merge driver (%O %A %B %P): merges the decrypted versions key by key.
 * Without conflicts the result is re-encrypted (reusing %A's ciphertext)
 * into ours_file and *conflict is false. With conflicts ours_file gets the
 * plaintext with git-style conflict markers and *conflict is true. */
int gitfilter_merge(struct gitfilter *f, const char *base_file, const char *ours_file,
		    const char *theirs_file, const char *path, bool *conflict)
	__attribute__((warn_unused_result));

/* Merges plaintext documents key by key (top-level and nested map keys);
 * base may be empty. The result follows ours' layout; each conflicting
 * key takes the value of pick_theirs ? theirs : ours. */
int gitfilter_merge_text(enum doc_format format, const struct gs_buf *base, const struct gs_buf *ours,
			 const struct gs_buf *theirs, int pick, struct gs_buf *out, size_t *conflicts)
	__attribute__((warn_unused_result));
enum { MERGE_PICK_OURS, MERGE_PICK_THEIRS, MERGE_PICK_BASE };

/* The conflict-marker-size attribute of protected paths (a string for the
 * attribute line): not the driver's 7, so that rerere finds no conflict to
 * record in plaintext (see setup.c). */
#define GITFILTER_RERERE_MARKER_SIZE "32"

struct gitfilter_init_opts {
	const char *const *patterns;
	size_t pattern_count;
	bool hook;              /* install a pre-commit hook running `git check` */
};

struct gitfilter_init_result {
	size_t attributes_added;
	size_t files_smudged;   /* ciphertext in the work tree turned to plaintext */
	size_t files_failed;    /* could not be decrypted (message of the last one set) */
	size_t files_locked;    /* left as ciphertext: no identity opens them */
};

/* Writes the local git config (filter, diff, merge driver), appends the
 * missing .gitattributes lines, optionally installs the hook, then turns
 * matching files still checked out as ciphertext into plaintext. */
int gitfilter_init(const char *start_dir, const struct gitfilter_init_opts *o,
		   struct gitfilter_init_result *res) __attribute__((warn_unused_result));

/* Staged files (index) whose filter attribute is gitseal but whose blob is
 * not sops-encrypted. *paths is a malloc'd array of malloc'd strings. */
int gitfilter_check(const char *start_dir, char ***paths, size_t *count)
	__attribute__((warn_unused_result));
void gitfilter_paths_free(char **paths, size_t count);

#endif
