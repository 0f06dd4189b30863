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
#include "gitseal/sops.h"

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

/* smudge: decrypts a sops file (a sealed conflict: its marked text).
 * Content that is not a sops file, or that no available identity opens,
 * is copied through unchanged; then *passed (may be NULL) says why, else
 * it is NULL. A MAC or value failure is an error. Safe to call from
 * several threads at once once gitfilter_prepare() has run. */
int gitfilter_smudge(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
		     struct gs_buf *out, const char **passed) __attribute__((warn_unused_result));

/* 1 when the git running this process keeps textconv's output under
 * .git (`git commit -v` writes its diff into COMMIT_EDITMSG; Linux /proc,
 * elsewhere 0), 0 when not, a negative gs_err when its command line could
 * not be read whole (it may be a commit's). */
int gitfilter_textconv_kept_in_git(void) __attribute__((warn_unused_result));
/* True when the git running the merge driver was given a strategy
 * option (`-X theirs`, `--strategy-option=ours`), which git passes to no
 * merge driver (Linux /proc; elsewhere, or after `--continue`, false). */
bool gitfilter_merge_asks_strategy_option(void);
/* True when git keeps textconv's output as notes in .git
 * (diff.gitseal.cachetextconv, asked of `git config`; true when git does
 * not say false). */
bool gitfilter_textconv_cached(void);

/* Loads what the filter reads lazily (identities, this clone's records),
 * before smudges run on several threads. */
void gitfilter_prepare(struct gitfilter *f);

struct gitfilter_events {
	/* A file failed and was answered status=error; the error message is set. */
	void (*file_failed)(void *ctx, const char *path, bool clean);
	/* A sops file was passed through as ciphertext (no identity opens it);
	 * may be called from a worker thread. */
	void (*passed_through)(void *ctx, const char *path, const char *reason);
	/* A clean refused for keys this clone did not accept (unaccepted),
	 * or of an edit that does not load in its format, was answered with
	 * a line in its place, for a git command that only compares (status,
	 * diff); the error message is set. Main thread. */
	void (*compared_refused)(void *ctx, const char *path, bool unaccepted);
	void *ctx;
};

/* Serves git's long-running filter protocol on in/out until git closes
 * the pipe. Per-file failures are answered status=error and reported
 * through ev; the return value is a protocol or I/O failure. */
int gitfilter_serve(struct gitfilter *f, FILE *in, FILE *out, const struct gitfilter_events *ev)
	__attribute__((warn_unused_result));

struct gitfilter_merge_result {
	bool conflict;
	struct gs_buf where;   /* the conflicting key paths (names only), "" for the whole file */
	/* why the versions merged as lines, when the merge as trees was
	 * refused (then always a conflict); "" otherwise */
	struct gs_buf reason;
};

/* Merge driver (%O %A %B %P): merges the decrypted versions as trees (maps
 * at every depth; lists and scalars as atoms). The result, or on a
 * conflict the text with git-style markers around the conflicting values,
 * is sealed into ours_file (the smudge filter shows the markers). Keys
 * and rules: a side that changed them wins; the recipients must be
 * accepted. A tree merge that is refused while both sides open merges as
 * lines, a conflict (res->reason says why). A failure (a side this clone
 * cannot or may not open) leaves both sides' ciphertexts between markers
 * in ours_file, so that the file cannot pass for a resolution. res->where
 * and res->reason are the caller's to release. */
int gitfilter_merge(struct gitfilter *f, const char *base_file, const char *ours_file,
		    const char *theirs_file, const char *path, struct gitfilter_merge_result *res)
	__attribute__((warn_unused_result));

/* Merges plaintext documents as trees; base may be empty. The result
 * follows ours' layout; each conflicting key takes the value of pick. */
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
	bool hook;              /* install the pre-commit, pre-merge-commit and pre-push hooks */
};

enum { GITFILTER_LOCKED_SHOWN = 3, GITFILTER_HOOKS = 3 };

struct gitfilter_init_result {
	size_t attributes_added;
	size_t recipients_accepted; /* the first time: whom this clone now seals files for */
	char *recipients_shown; /* the first time: those, a line each with where it was found
				 * (malloc'd: the caller frees it); NULL otherwise */
	char *paths_refused;    /* the first time: a line for each file whose recipients were not
				 * accepted (GITFILTER_PATH_REFUSED); malloc'd, or NULL */
	char *pins_shown;       /* the lines of a subdirectory's .gitattributes now kept in
				 * .git/info/attributes, a line each with the file (malloc'd, or NULL) */
	size_t files_smudged;   /* ciphertext in the work tree turned to plaintext */
	char hook_messages[GITFILTER_HOOKS][512]; /* why each hook was not installed or does not run, "" */
	size_t files_failed;    /* could not be decrypted */
	char failed_message[512]; /* why the last of them failed */
	size_t files_locked;    /* left as ciphertext: no identity opens them */
	size_t files_locked_key; /* of those, files a passphrase-protected key alone opens */
	struct gitfilter_locked_key {
		size_t files;
		char why[512];  /* why the key did not open them ("": unused) */
	} locked[GITFILTER_LOCKED_SHOWN]; /* the first keys' reasons */
	size_t locked_more;     /* files of the keys past those */
	bool no_pattern;        /* .gitattributes puts no file under the filter */
	bool no_config;         /* no .sops.yaml at the root, in the work tree or HEAD */
};

/* Writes the local git config (filter, diff, merge driver), appends the
 * missing .gitattributes lines, optionally installs the hook, then turns
 * matching files still checked out as ciphertext into plaintext. */
int gitfilter_init(const char *start_dir, const struct gitfilter_init_opts *o,
		   struct gitfilter_init_result *res) __attribute__((warn_unused_result));

/* Lines about files, for check and status. */
struct gitfilter_finding {
	char *path;
	char *problem;   /* one line, never a value */
	bool submodule;  /* a submodule's: `git add` does not seal its files */
	char commit[13]; /* check --commits: the commit's id, abbreviated; "" for the index */
};

enum { GITFILTER_UNOPENED_SHOWN = 3 };

struct gitfilter_findings {
	struct gitfilter_finding *items;
	size_t count;
	size_t unopened; /* sops files none of the user's keys opens: not decrypted, not checked whole */
	char *unopened_paths[GITFILTER_UNOPENED_SHOWN]; /* the first of them (malloc'd) */
	size_t unopened_locked; /* of them, those only a passphrase-protected key of the user's opens */
	char *locked_key;       /* the first such key's name (malloc'd) */
};

/* `gitseal git check`: what is staged under the filter, read as the
 * repository reader will see it (see check.c for the rules). */
int gitfilter_check(const char *start_dir, struct gitfilter_findings *fs) __attribute__((warn_unused_result));
/* `gitseal git check --commits [REV...]`: each commit of the revisions
 * (git rev-list's words A..B, ^A and A; none: HEAD's commits that no
 * remote-tracking ref holds, what a push sends), oldest first, by the same
 * rules: its tree read as the index, its first parent's as HEAD (commits.c).
 * Each finding names its commit. */
int gitfilter_check_commits(const char *start_dir, char *const *revs, size_t n, struct gitfilter_findings *fs)
	__attribute__((warn_unused_result));
/* The pre-push hook: the commits of git's input lines (`<local ref> <local
 * id> <remote ref> <remote id>`) that neither the remote id nor a
 * remote-tracking ref holds, checked as above; a deletion passes. */
int gitfilter_check_push(const char *start_dir, const struct gs_buf *lines, struct gitfilter_findings *fs)
	__attribute__((warn_unused_result));
void gitfilter_findings_release(struct gitfilter_findings *fs);

/* `gitseal git lock`: the work tree back to ciphertext (identities are
 * left alone), and checkouts leave ciphertext until unlock. Refuses when a
 * file has changes not committed, unless force. */
int gitfilter_lock(const char *start_dir, bool force, size_t *locked) __attribute__((warn_unused_result));
/* `gitseal git unlock`: decrypts the work tree in place, as init does. */
int gitfilter_unlock(const char *start_dir, struct gitfilter_init_result *res)
	__attribute__((warn_unused_result));
/* `gitseal git status`: one line per staged file under the filter (and
 * for .sops.yaml when it names recipients this clone did not accept, and
 * for "." when recipients are still accepted for files gone). */
int gitfilter_status(const char *start_dir, struct gitfilter_findings *out) __attribute__((warn_unused_result));

/* `gitseal updatekeys` on files under the filter (updatekeys.c). */
struct gitfilter_staged;
struct gitfilter_update {
	char *path;                   /* relative to the work tree */
	bool is_new;                  /* not committed yet: only whom .sops.yaml names is accepted */
	bool accept_only;             /* no rule matches: the file's own recipients are accepted */
	bool no_rule;                 /* new, plaintext, and no creation rule matches it */
	bool changes;                 /* anything to apply or accept */
	bool adds;                    /* someone gets to read it who did not */
	bool link;                    /* new, and a symbolic link in the work tree: left as it is */
	bool refused;                 /* a path no record can name (gittrust_path_recordable) */
	bool fresh_key;               /* adds, and its data key is not one the filter would re-use here */
	struct sops_key_summary from; /* the committed version's keys and rule */
	struct sops_key_summary to;   /* .sops.yaml's */
	struct gs_buf diff;           /* "+++ key" / "--- key" lines and the rule change, for the prompt */
	struct gitfilter_staged *staged; /* re-sealed, to stage (gitfilter_update_finish), or NULL */
	bool applied;                 /* its recipients to accept (gitfilter_update_finish) */
};

/* `gitseal git trust` (vouch.c): this clone vouches for the data key of a
 * file's committed version, which it did not make, so that the filter
 * re-uses it (the only way to keep keys gitseal cannot wrap for, such as
 * kms, through an edit). */
struct gitfilter_vouch {
	char *path;
	bool already;                 /* made or trusted here before */
	uint8_t key_id[SOPS_KEY_ID_SIZE];
	struct gs_buf shown;          /* the file's keys, one "    KEY" line each */
};

/* Opens the committed version (its MAC checked) and reads its keys, which
 * this clone must have accepted. */
int gitfilter_vouch_plan(struct gitfilter *f, const char *path, struct gitfilter_vouch *v)
	__attribute__((warn_unused_result));
int gitfilter_vouch_apply(struct gitfilter *f, const struct gitfilter_vouch *v)
	__attribute__((warn_unused_result));
void gitfilter_vouch_release(struct gitfilter_vouch *v);

/* What updatekeys would change for path (relative to the work tree). */
int gitfilter_update_plan(struct gitfilter *f, const char *path, struct gitfilter_update *u)
	__attribute__((warn_unused_result));
/* Re-seals the committed version (rotate: with a new data key), proven,
 * and writes its blob (and the work tree file, if it held the old
 * ciphertext); gitfilter_update_finish stages it and accepts its
 * recipients. */
int gitfilter_update_apply(struct gitfilter *f, struct gitfilter_update *u, bool rotate)
	__attribute__((warn_unused_result));
/* After the last apply, or after one failed (what was applied before it
 * is kept): the applied plans' versions staged in one write of the
 * index, then their recipients accepted and the records of apply and
 * refresh written once. Nothing is accepted when the index is not
 * written. */
int gitfilter_update_finish(struct gitfilter *f, struct gitfilter_update *plans, size_t n)
	__attribute__((warn_unused_result));
/* For a file already up to date: a recipient accepted for it beyond its
 * rule that its keys no longer name (a reader a teammate removed) is no
 * longer accepted for it here. Never accepts anyone. */
int gitfilter_update_refresh(struct gitfilter *f, struct gitfilter_update *u) __attribute__((warn_unused_result));
void gitfilter_update_release(struct gitfilter_update *u);
/* Refuses plans that add recipients to a file whose data key is also the
 * current data key of another filtered file (a ciphertext copied over it):
 * adding them would wrap that file's key for them. A key made or vouched
 * for here for the path itself is not refused. A plan sealing such a file
 * again (rotate, or a change adding no one: the key, not made here, is not
 * kept) for a reader the other file lacks (a decoy entry in its metadata)
 * is refused too. */
int gitfilter_update_check_copies(struct gitfilter *f, const struct gitfilter_update *plans, size_t n, bool rotate)
	__attribute__((warn_unused_result));
/* Records of files gone (gone.c): recipients accepted for a path that no
 * worktree of the repository holds any more (not in its work tree, its
 * index nor its HEAD). Such a record is a latent grant: a pull request
 * that re-creates the file naming them would have the next edit sealed
 * for them without a prompt. */
struct gitfilter_gone {
	char **paths;                 /* relative to the work tree */
	size_t count;
	struct gs_buf shown;          /* "forget PATH: R1, R2 (file gone)" lines, for the prompt */
};

void gitfilter_gone_init(struct gitfilter_gone *g);
/* Adds to g the paths at or below dir ("" for all) whose records are of
 * files gone (each path once, however many dirs name it). */
int gitfilter_gone_plan(struct gitfilter *f, const char *dir, struct gitfilter_gone *g)
	__attribute__((warn_unused_result));
/* Drops every record of g's paths. */
int gitfilter_gone_apply(struct gitfilter *f, const struct gitfilter_gone *g) __attribute__((warn_unused_result));
void gitfilter_gone_release(struct gitfilter_gone *g);
/* Accepts the working tree's .sops.yaml (its rules: whom and what a path
 * is sealed for); with diff, only lists the recipients it would add to a
 * rule, and the rules it removes. An age entry that is not a recipient is
 * neither (GS_ERR_CONFIG: "'.sops.yaml': creation rule N: ..."). */
int gitfilter_accept_config(struct gitfilter *f, struct gs_buf *diff) __attribute__((warn_unused_result));
/* How the work tree's .sops.yaml changes the creation rules this clone
 * accepted: rules added, removed or moved (told apart by path_regex), and
 * each kept rule's recipients, key groups and selection, one "    rule
 * PATH_REGEX: ..." line each; nothing when they are the same or there is
 * no .sops.yaml. */
int gitfilter_config_changes(struct gitfilter *f, struct gs_buf *out) __attribute__((warn_unused_result));
/* Whether accepting the work tree's .sops.yaml takes a recipient off a rule
 * (or drops a rule) of the one accepted now: a revocation. */
int gitfilter_config_narrows(struct gitfilter *f, bool *narrows) __attribute__((warn_unused_result));
/* After a revocation was accepted (narrows, or a per-path record dropped a
 * recipient in this process): every data key made or vouched for here is
 * forgotten, so each file gets a new one on its next change. The history
 * check sees only the history of HEAD, which a branch forked before the
 * reader was added, or a shallow fetch, lets another choose. */
int gitfilter_retire_keys(struct gitfilter *f, bool narrows, bool *retired) __attribute__((warn_unused_result));
/* Warns (gs_warn, one line) when a macro of a pulled .gitattributes can
 * take the filter off a line of $GIT_DIR/info/attributes (pins.c); fails
 * (the error set) when the file cannot be read or checked. */
int gitfilter_warn_pins(struct gitfilter *f) __attribute__((warn_unused_result));
/* A command-line path as a path in f's work tree (malloc'd). */
int gitfilter_path_in_repo(struct gitfilter *f, const char *arg, char **rel) __attribute__((warn_unused_result));
/* The paths under the filter below dir ("" for all), malloc'd: staged ones,
 * and files git would add (not ignored). */
int gitfilter_filtered_paths(struct gitfilter *f, const char *dir, char ***paths, size_t *count)
	__attribute__((warn_unused_result));
bool gitfilter_path_filtered(struct gitfilter *f, const char *path);
/* Why a path with a leading or trailing blank or a control byte gets no
 * record in .git/gitseal/accepted (updatekeys and init say it). */
#define GITFILTER_PATH_REFUSED                                                                                       \
	"a path with a leading or trailing blank or a control byte: its recipients cannot be accepted"
/* Whether the index (else HEAD) holds a sops file at path. */
bool gitfilter_committed_sealed(struct gitfilter *f, const char *path);
/* Whether `gitseal git init` set the filter up in f's repository. */
bool gitfilter_configured(struct gitfilter *f);
/* The repository of start_dir when `gitseal git init` set the filter up
 * there, else the clone it is a submodule of (of a submodule's, ...) when
 * that one is set up; *out NULL when neither. An error: start_dir is in
 * no repository. */
int gitfilter_open_configured(const char *start_dir, struct gitfilter **out) __attribute__((warn_unused_result));
/* Whether this clone accepted recipient r (age recipient, PGP fingerprint
 * or Vault URI) for arg, a command-line path in f's work tree: the
 * accepted .sops.yaml's rule for it names r, `gitseal updatekeys`
 * accepted r for it, or r is the recipient of one of this clone's age
 * identities. */
int gitfilter_recipient_accepted(struct gitfilter *f, const char *arg, const char *r, bool *yes)
	__attribute__((warn_unused_result));
/* gitfilter_recipient_accepted for r in key group `group` of a file: where
 * the accepted rule for arg has key groups, r must also be one of that
 * group's. */
int gitfilter_recipient_accepted_in(struct gitfilter *f, const char *arg, size_t group, const char *r, bool *yes)
	__attribute__((warn_unused_result));
/* Whether keys, those a .sops.yaml found for arg (a command-line path in
 * f's work tree) gives it, seal it as this clone accepted beyond their
 * recipients: with the accepted rule's selection (checked when selection),
 * and, where that rule has key groups, with its groups and as many of them
 * needed (when groups). GS_ERR_CONFIG and a phrase when not. */
int gitfilter_found_rule_accepted(struct gitfilter *f, const char *arg, const struct sops_key_summary *keys,
				  bool selection, bool groups) __attribute__((warn_unused_result));
/* The key groups the .sops.yaml this clone accepted gives arg (a
 * command-line path in f's work tree): their count and shamir_threshold
 * (0: all of them). *groups is 0 when no accepted rule matches arg. */
int gitfilter_accepted_groups(struct gitfilter *f, const char *arg, size_t *groups, int *threshold)
	__attribute__((warn_unused_result));

#endif
