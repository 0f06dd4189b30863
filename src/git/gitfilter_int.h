/* Private to src/git/: the state behind struct gitfilter, and the helpers
 * its modules share. */
#ifndef GITSEAL_GITFILTER_INT_H
#define GITSEAL_GITFILTER_INT_H

#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <git2.h>

#include "gitseal/age.h"
#include "gitseal/config.h"
#include "gitseal/gitfilter.h"
#include "gitseal/sops.h"

enum { GITSEAL_KEY_ID_SIZE = 32, GITSEAL_HASH_KEY_SIZE = 32 };

/* An open-addressing hash set of GITSEAL_KEY_ID_SIZE-byte ids. */
struct idset {
	uint8_t *ids;
	size_t count, cap;
};

/* The data keys made or trusted here (trust.c): each path-bound key id
 * with everyone the key was ever wrapped for there, open addressing. */
struct key_record {
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	char **recipients; /* the union of every record of id */
	size_t count;
};
struct keymap {
	struct key_record *slots;
	size_t count, cap;
};

/* What this clone has accepted and made (trust.c), loaded on first use. */
struct gittrust {
	bool loaded;
	bool have_record;            /* `gitseal git init` or updatekeys wrote one */
	char **recipients;           /* accepted, sorted */
	size_t recipient_count;
	struct sops_config *config;  /* the .sops.yaml last accepted, or NULL */
	struct keymap key_ids;       /* data keys made or trusted here */
	bool keys_loaded;            /* key_ids read from data-keys (on first use) */
	struct idset sealed;         /* seals this clone cannot open: keyed hashes of blob and plaintext */
	uint8_t *hash_key;           /* secure; the key of those hashes, NULL until needed */
	bool locked;                 /* `gitseal git lock`: smudge leaves ciphertext */
	int key_fd;                  /* data-keys, open for appending; -1 until needed */
	int sealed_fd;               /* sealed, likewise */
	bool narrowed;               /* a file's record dropped a recipient it no longer names (not a file gone) */
	bool hold;                   /* records changed in memory only, until gittrust_write_held */
	bool held_changes;           /* and some were */
};

/* The records of accepted, sealed and data-keys read into t (zeroed) as
 * the filter reads those files (trust.c; fuzz_git_state). */
int gittrust_parse_records(struct gittrust *t, const struct gs_buf *accepted, const struct gs_buf *sealed,
			   const struct gs_buf *data_keys) __attribute__((warn_unused_result));

/* The last files smudged in this process (filter.c): the blob and a hash
 * of what it opened to, per path; and the last changes sealed, each with
 * a hash of the committed version it was sealed against and whether that
 * version's data key was re-used. */
enum { GITFILTER_SMUDGED_KEEP = 8, GITFILTER_PLAIN_HASH_SIZE = 32 };
struct gitfilter_smudged {
	char *path;
	uint8_t *blob;
	size_t len;
	uint8_t plain_hash[GITFILTER_PLAIN_HASH_SIZE];
	uint8_t base_hash[GITFILTER_PLAIN_HASH_SIZE]; /* cleaned only */
	bool reused;                                  /* cleaned only */
};

struct keycache;

struct gitfilter {
	git_repository *repo;
	git_index *index;
	int index_fd;               /* the index file index last read, held open; -1 (filter.c) */
	struct stat index_st;       /* index_fd's, when it was opened */
	unsigned long index_reads;  /* times index was read (from the file), to tell a new one */
	unsigned long conflicts_read; /* index_reads when index_conflicted was asked, 0 before */
	bool index_conflicted;      /* index held a conflicted path then */
	git_object *head_tree;      /* HEAD^{tree}, read once per process */
	char head_name[24];         /* what messages call head_tree: "" for HEAD, "commit 1a2b3c4d5e6f" */
	git_tree *head_dir;         /* the tree of the last directory looked up in it */
	char *head_dir_path;
	bool head_tried;
	char *workdir;              /* with a trailing '/' */
	char *statedir;             /* <common dir>/gitseal/, with a trailing '/' */
	bool libgit2_ready;
	bool config_tried;
	struct sops_config *config;
	int config_code;
	char *config_error;
	bool ids_tried;
	struct age_identity_list ids;
	char *ids_error;
	int ids_code;               /* why ids could not be loaded, or 0 */
	bool id_recipients_tried;
	char **id_recipients;       /* the recipients of ids, for clean (main thread) */
	size_t id_recipient_count;
	struct gittrust trust;
	bool blame;                 /* serving `git blame`: clean hands plaintext back */
	bool archive;               /* serving `git archive`: smudge hands the ciphertext back */
	int parent_unread;          /* git's command line not read whole (an errno): smudge refuses */
	bool compare_only;          /* serving a git command that only compares: see gitfilter_serve */
	struct readahead *ahead;    /* new files cleaned ahead of git's requests, or NULL */
	struct keycache *keycache;  /* opened data keys kept (keycache.c), filter-process only, or NULL */
	struct githistory *history; /* answers of githistory_key_current, or NULL */
	struct githolders *holders; /* the data keys of the index's files, or NULL (holders.c) */
	struct {                    /* core.autocrlf and core.eol as attrs.c read them */
		bool read;
		unsigned long index_reads; /* index_reads then */
		char autocrlf[16], eol[16];
	} line_ends;
	struct gitattrs_git *attrs_git; /* git's own `check-attr`, kept running (attrs.c), or NULL */
	pthread_mutex_t smudged_lock; /* smudges run on worker threads too */
	struct gitfilter_smudged smudged[GITFILTER_SMUDGED_KEEP];
	size_t smudged_next;
	struct gitfilter_smudged cleaned[GITFILTER_SMUDGED_KEEP]; /* under smudged_lock */
	size_t cleaned_next;
	uint8_t *memo_key; /* secure: the memos' hash key, made at first use (under smudged_lock) */
};

/* The memos' hash of a plaintext (filter.c): BLAKE2b keyed with a random
 * key of this filter, held in secure memory, so that a hash left in the
 * heap (a core file, swap) cannot be matched against guesses of a short
 * plaintext. false: no key (out of secure memory), no hash. */
bool gitfilter_memo_hash(struct gitfilter *f, const uint8_t *plain, size_t len,
			 uint8_t hash[static GITFILTER_PLAIN_HASH_SIZE]) __attribute__((warn_unused_result));

/* A submodule under the filter's pattern (check.c, status.c). */
#define GITFILTER_SUBMODULE                                                                                 \
	"a submodule under the filter's pattern: git runs no filter in it, so its files are committed in clear " \
	"in its own repository; move it out of the pattern, or add '%s -filter' and '%s/** -filter' to "        \
	".git/info/attributes if it holds no secret"

/* A submodule outside the pattern whose commit holds a file it covers
 * (check.c, status.c): the file, then the submodule. */
#define GITFILTER_SUBMODULE_HOLDING                                                                      \
	"a submodule holding '%s', which the filter's pattern covers: git runs no filter in it, so the file " \
	"is committed in clear in its own repository; keep it out of the submodule, or add '%s/** -filter' " \
	"to .git/info/attributes if the submodule holds no secret"
/* Whether the commit id of the submodule checked out at sub (a path of
 * the index) holds a file this repository's pattern covers, by the
 * attributes of this repository's index and info/attributes only (the
 * submodule's own .gitattributes, its author's, is not asked); the first
 * such path into path. False when the submodule is not checked out or
 * lacks the commit (submodule.c). */
bool gitfilter_submodule_covered(struct gitfilter *f, const char *sub, const git_oid *id, char *path, size_t size);

/* The hooks `gitseal git init` installs in the common git directory's
 * hooks (setup.c). */
enum gitfilter_hook { GITFILTER_HOOK_PRE_COMMIT, GITFILTER_HOOK_PRE_MERGE_COMMIT, GITFILTER_HOOK_PRE_PUSH };
const char *gitfilter_hook_name(enum gitfilter_hook h);
/* the line a hook of that name runs to check */
const char *gitfilter_hook_line(enum gitfilter_hook h);
/* gitseal's hook h, installed there, is not the one git runs: core.hooksPath
 * names another directory (husky and the like set one, from a repository's
 * scripts) whose hook of that name (or, for husky 9's .husky/_, the
 * .husky/HOOK that runs) does not call the check. setting: the value of
 * core.hooksPath. */
bool gitfilter_hook_elsewhere(struct gitfilter *f, enum gitfilter_hook h, char *setting, size_t size);
/* The hook, name, setting, name, line, name. */
#define GITFILTER_HOOK_ELSEWHERE                                                                       \
	"the %s hook 'gitseal git init' installed does not run: git runs hooks from core.hooksPath " \
	"'%s', whose %s does not run '%s'; add that line to the %s it runs"
/* Whether init installed the pre-commit hook here and h is missing: an
 * older gitseal's init, before it installed h. */
bool gitfilter_hook_missing(struct gitfilter *f, enum gitfilter_hook h);

/* Where a symbolic link of the index under the filter's pattern leads
 * (links.c): to a file under the pattern too (or not a link under the
 * pattern: SEALED), to a path of the repository the pattern does not
 * cover (UNSEALED: target is that path), or out of the repository
 * (OUTSIDE: target is the link's text). Read from the link's blob and
 * the links of idx it passes through, as a pull request made them. */
enum gitfilter_link { GITFILTER_LINK_SEALED, GITFILTER_LINK_UNSEALED, GITFILTER_LINK_OUTSIDE };
int gitfilter_link_where(struct gitfilter *f, git_index *idx, const git_index_entry *e, char *target, size_t size,
			 enum gitfilter_link *where) __attribute__((warn_unused_result));
/* The walk of a link's text (links.c): dir (the link's directory, "" at
 * the top) joined with target and cleaned word by word, each prefix that
 * link_text says is a link (its text into text) replaced by its text, into
 * out; false when it climbs above the top, meets an absolute or empty link,
 * or more than 40 links. */
typedef bool gitfilter_link_text_fn(void *ctx, const char *path, struct gs_buf *text);
bool gitfilter_link_resolve(const char *dir, const char *target, size_t tlen, gitfilter_link_text_fn *link_text,
			    void *ctx, char *out, size_t size);
#define GITFILTER_LINK_UNSEALED_MSG                                                                    \
	"a symbolic link under the filter's pattern to '%s', %s: what is written through it is stored " \
	"there, never sealed; remove the link, point it at a file under the pattern, or add '%s -filter' " \
	"to .git/info/attributes if nothing secret is written through it"

/* The filter's lines in $GIT_DIR/info/attributes (pins.c). */
#define GITPINS_EXPOSED                                                                                \
	"a macro of a pulled .gitattributes can take the filter off '%s' "                            \
	"(a line written before the drivers were named last, or a later line setting an attribute): " \
	"run 'gitseal git init' again"
/* The patterns of text's filter lines (an info/attributes) that a macro of
 * a pulled .gitattributes can take the filter off, each NUL-terminated,
 * appended to patterns. */
int gitpins_exposed(const struct gs_buf *text, struct gs_buf *patterns) __attribute__((warn_unused_result));
/* The path of repo's info/attributes. */
int gitpins_path(git_repository *repo, char *path, size_t size) __attribute__((warn_unused_result));
/* The first such pattern of this clone's info/attributes, malloc'd, or NULL. */
int gitfilter_pins_exposed(struct gitfilter *f, char **pattern) __attribute__((warn_unused_result));
/* A filter line of the top-level .gitattributes that init keeps in
 * info/attributes (setup.c) and that is not there yet: a teammate's
 * pattern pulled since, which a later line can take the filter off. */
#define GITPINS_MISSING                                                                                 \
	"'%s' is not kept in .git/info/attributes yet: a later line (a pull request's) "              \
	"can take the filter off new files there; run 'gitseal git init' again"
/* The first such line, malloc'd in *kept_line, or NULL; *file: the
 * .gitattributes holding it, malloc'd ("config/.gitattributes"). */
int gitfilter_pins_missing(struct gitfilter *f, char **kept_line, char **file) __attribute__((warn_unused_result));
#define GITPINS_NAME ".gitattributes"
/* git's blanks between a line's words (attr.c), and its limit on a line:
 * one of GITPINS_LINE_MAX bytes or more is ignored, with a warning. */
#define GITPINS_BLANKS " \t\r\n"
enum { GITPINS_LINE_MAX = 2048 };
/* The length of line's pattern as git reads it: a C-quoted string
 * ("a b.yaml", closing quote included), else up to the first blank. */
size_t gitpins_pattern_token(const char *line);
/* A UTF-8 byte order mark opening text dropped, as git drops it from a
 * .gitattributes it reads from a file (not from a blob of the index). */
void gitpins_drop_bom(struct gs_buf *text);
/* The len bytes of pattern (a token as gitpins_pattern_token reads it),
 * a pattern of the .gitattributes in dir ("" at the top, else ending in
 * '/'), appended to out as a pattern of info/attributes matching the same
 * paths (C-quoted where a blank or a control byte needs it): 1, or 0 when
 * it cannot be written so (a negative or empty pattern, which git ignores
 * below the top; a "**" after a literal start below a directory whose
 * name holds a wildcard, which git would read otherwise there). */
int gitpins_pattern_at_top(const char *dir, const char *pattern, size_t len, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* fn for each .gitattributes below the top that git reads (the index's,
 * or HEAD's in a clone made with --no-checkout), with its directory
 * (ending in '/') and its text as git reads it; stops at fn's error. */
typedef int gitpins_file_fn(struct gitfilter *f, const char *dir, const struct gs_buf *text, void *ctx);
int gitpins_each_below(struct gitfilter *f, gitpins_file_fn *fn, void *ctx) __attribute__((warn_unused_result));

/* The filter process's cache of opened data keys (keycache.c), set for
 * every age file the process opens or makes: NULL without a native
 * identity or a git directory. keycache_free writes what is pending. */
struct keycache *keycache_start(struct gitfilter *f);
void keycache_free(struct keycache *c);
/* Whether a data key was looked up and not found (then opened with an
 * identity: an X25519 a file) since the cache started; any thread. */
bool keycache_missed(const struct keycache *c);

/* Whether a git config value is true as git reads it: true, yes, on, an
 * integer not 0, or a bare key (NULL). */
bool gitrepo_config_true(const char *v);
/* Records libgit2's last error as "WHAT: message"; returns GS_ERR_IO. */
int gitrepo_fail(const char *what);
/* Loads libgit2 on first use (libgit2.c); every libgit2 call comes after. */
int gitfilter_libgit2_load(void) __attribute__((warn_unused_result));
/* A blob's bytes appended to out; one a partial clone lacks is fetched
 * from its promisor remote first, as git fetches it. */
int gitrepo_read_blob(struct gitfilter *f, const git_oid *id, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* The same for a blob the clone holds, never fetched: a partial clone's
 * missing version of a file's history counts as carrying another key. */
int gitrepo_read_blob_held(struct gitfilter *f, const git_oid *id, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* f->index as the index file is now: read again when git wrote another
 * since (f->index_reads counts up then). */
int gitrepo_index_now(struct gitfilter *f) __attribute__((warn_unused_result));
/* The version git holds of path: the index entry (stage 0), else, for a
 * conflicted path whose keys theirs changed (as the merge driver takes
 * them, accepted here), theirs' (stage 3), else HEAD's. out is left empty and *found
 * false when there is none. */
int gitrepo_committed(struct gitfilter *f, const char *path, struct gs_buf *out, bool *found)
	__attribute__((warn_unused_result));
/* Whether a conflicted path's keys come from theirs once resolved, as the
 * merge driver takes them, and this clone accepted them (merge.c): blobs
 * are the index stages 1-3 (NULL where missing). */
bool gitfilter_conflict_takes_theirs(struct gitfilter *f, const char *path, const struct gs_buf *const blobs[3]);
/* HEAD^{tree}, read once per process; NULL on an unborn branch. */
git_tree *gitrepo_head_tree(struct gitfilter *f);
/* tree (owned from now on; NULL: none) taken for HEAD's from now on: a
 * commit's parent, for check_commits. */
void gitrepo_head_set(struct gitfilter *f, git_tree *tree);
/* check.c's rules over idx, what a commit is made of, against HEAD's tree
 * (gitrepo_head_tree): the files whose blob it does not hold. */
int gitfilter_check_index(struct gitfilter *f, git_index *idx, struct gitfilter_findings *fs)
	__attribute__((warn_unused_result));
/* run over the repository at start_dir, fs zeroed first and released when
 * it fails: the frame of each check (check.c, commits.c). */
typedef int gitfilter_check_fn(struct gitfilter *f, const void *ctx, struct gitfilter_findings *fs);
int gitfilter_check_run(const char *start_dir, gitfilter_check_fn *run, const void *ctx,
			struct gitfilter_findings *fs) __attribute__((warn_unused_result));
/* Whether HEAD holds exactly the blob id at path. */
bool gitrepo_head_same(struct gitfilter *f, const char *path, const git_oid *id);
/* HEAD's version of path only. */
int gitrepo_head_blob(struct gitfilter *f, const char *path, struct gs_buf *out, bool *found)
	__attribute__((warn_unused_result));
/* Whether HEAD holds a symbolic link at path (a blob holding its target). */
bool gitrepo_head_is_link(struct gitfilter *f, const char *path);
/* True when path has the gitseal filter attribute. */
bool gitrepo_filtered(struct gitfilter *f, const char *path);

/* An attribute on path that makes git change the sealed text (attrs.c):
 * what, shown, and whether only at checkout (line ends). */
struct gitattrs_change {
	char what[160];
	bool at_checkout;
	bool at_merge; /* merge=union: git joins both sides' sealed text */
	bool at_archive; /* export-subst: git archive rewrites the text it exports */
};
/* 1 and *out when git would change text (clean's output, smudge's input
 * or the staged blob) between the filter and the blob; checkout: text is
 * the smudge's input (the index's .gitattributes first, as git reads them
 * then), else the work tree's first, as for `git add`. */
int gitattrs_changing(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool checkout,
		      struct gitattrs_change *out) __attribute__((warn_unused_result));
/* GS_ERR_CONFIG, one line naming path and the attribute, when it does. */
int gitattrs_refuse(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool clean)
	__attribute__((warn_unused_result));
const char *gitattrs_effect(const struct gitattrs_change *c, bool clean);
/* Whether text may be two sealed versions joined line by line (two sops
 * MACs): the smudge asks the attributes then (merge=union). */
bool gitattrs_maybe_joined(const uint8_t *text, size_t len);
/* The attributes attrs.c reads, as `git check-attr` is asked them (addset.c). */
#define GITATTRS_NAMES "text", "crlf", "eol", "ident", "working-tree-encoding", "merge", "export-subst"
enum { GITATTRS_COUNT = 7, GITATTRS_BATCH_MAX = 64 };
/* What `git check-attr` printed for the GITATTRS_NAMES of many paths:
 * each distinct answer once (most paths share one), a small id per path. */
struct gitattrs_batch {
	char *answers[GITATTRS_BATCH_MAX]; /* GITATTRS_COUNT NUL-ended values each */
	size_t lens[GITATTRS_BATCH_MAX];
	size_t count;
};
/* The id (1 on) of the values printed for one path, added when new; 0
 * when it cannot be kept (no answer is then kept for that path). */
uint8_t gitattrs_batch_id(struct gitattrs_batch *b, const char *const printed[GITATTRS_COUNT]);
/* The values of an id gitattrs_batch_id gave, pointing into b. */
void gitattrs_batch_get(const struct gitattrs_batch *b, uint8_t id, const char *printed[GITATTRS_COUNT]);
void gitattrs_batch_release(struct gitattrs_batch *b);
/* Starts git with argv (argv[0] "git"), stdin from in (/dev/null when
 * -1), stdout to out, stderr to /dev/null, env (environ when NULL): 0, or
 * posix_spawnp's error (addset.c). */
int gitrepo_spawn(char *const *argv, int in, int out, char *const *env, pid_t *pid);
/* Runs git with argv (argv[0] "git"), stdin empty: its whole output
 * into out and *status its exit code; 0, or -1 when it could not start or
 * be read (addset.c). */
int gitrepo_run(char *const *argv, struct gs_buf *out, int *status) __attribute__((warn_unused_result));
/* What the kept `git check-attr` (gitattrs_changing's, started when
 * none runs) prints for the n NUL-ended paths of list, asked filter and
 * then GITATTRS_NAMES, appended to out: 0, or -1 (nothing said why; the
 * process is ended, the next question starts another). Main thread. */
int gitattrs_ask_many(struct gitfilter *f, const struct gs_buf *list, size_t n, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* Ends the `git check-attr` gitattrs_changing started, if any: it reads
 * each .gitattributes once, so a checkout that writes one makes it stale
 * (the next question starts another). */
void gitattrs_end(struct gitfilter *f);
/* NULL when no identity is available. */
const struct age_identity_list *gitfilter_identities(struct gitfilter *f);
/* The passphrase-protected key (its name) that alone of the identities
 * opens cipher, which git never asks a passphrase for, or NULL; why (unless
 * NULL): why it did not open, NULL when it was not tried. */
const char *gitfilter_locked_key_only(struct gitfilter *f, struct doc *cipher, const char **why);
/* The same, from the file's keys. */
const char *gitfilter_locked_key_for(struct gitfilter *f, const struct sops_key_summary *keys, const char **why);
/* Why a passphrase-protected key did not open the sops text in, when it
 * alone opens it; else NULL. */
const char *gitfilter_locked_failure_for(struct gitfilter *f, enum doc_format format, const uint8_t *in, size_t len);
/* The working tree's .sops.yaml (error when there is none). */
int gitfilter_config(struct gitfilter *f, const struct sops_config **out) __attribute__((warn_unused_result));
/* The path of the work tree's .sops.yaml in path: 0 when it is a regular
 * file, GS_ERR_NOT_FOUND when there is none, GS_ERR_CONFIG (one line) when
 * it is anything else: committed as a symbolic link, it would have gitseal
 * read git's pipe (/dev/stdin), a terminal or its own environment
 * (/proc/self/environ, which init copied into .git/gitseal/). */
int gitrepo_config_path(struct gitfilter *f, char *path, size_t size) __attribute__((warn_unused_result));

/* gitfilter_clean's work once the version git holds of path is known
 * (prev, when found). Safe on several threads at once for a file not
 * found, once gitfilter_prepare has run. */
int gitfilter_clean_given(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
			  const struct gs_buf *prev, bool found, struct gs_buf *out) __attribute__((warn_unused_result));
/* Whether git holds a version of path (the index as gitrepo_committed
 * last read it, or HEAD); true when that is not known. */
bool gitrepo_has_committed(struct gitfilter *f, const char *path);

/* ---- readahead.c: new files cleaned before git asks ----
 * git add sends a directory's new files one by one, in the order of their
 * names, and waits for each answer: the next ones are read from the work
 * tree and sealed on worker threads meanwhile. A result is handed to git
 * only for the very bytes git sends, for a file git still holds no
 * version of; anything else is cleaned as it comes. */

/* Starts the workers (f->ahead); nothing when they cannot start. */
void readahead_start(struct gitfilter *f);
void readahead_stop(struct gitfilter *f);
/* The result made ahead for path from exactly in (true: out holds it). */
bool readahead_take(struct readahead *ra, const char *path, const uint8_t *in, size_t len, struct gs_buf *out);
/* path, new to the repository, was just cleaned: the files after it are
 * queued by readahead_answered, once git has the answer (its planning,
 * system calls and the workers' wake, then run while git stores the file). */
void readahead_plan(struct readahead *ra, const char *path);
void readahead_answered(struct readahead *ra);
/* The values `git check-attr` printed for path's GITATTRS_NAMES, when
 * they were asked with the filter's (main thread; ra may be NULL). */
bool readahead_attrs(const struct readahead *ra, const char *path, const char *printed[GITATTRS_COUNT]);
/* want[i] = whether `git add` would send dir + names[i] through the
 * gitseal filter, as git's check-attr and check-ignore say (addset.c),
 * for the first names (as many as one exchange takes, at most n): how
 * many (0 for a name that git cannot be asked about), or -1 when git could
 * not tell (nothing said why: libgit2 is asked then). dir is "" or ends with '/'; run from the top of the work tree.
 * attr_ids[i]: the id in attrs of what check-attr printed for the name's
 * GITATTRS_NAMES, 0 when none was kept. */
long gitrepo_add_sends(struct gitfilter *f, const char *dir, char *const *names, size_t n, bool *want,
		       struct gitattrs_batch *attrs, uint8_t *attr_ids);

/* The check before a fresh data key seals path for keys (its metadata's,
 * outside the MAC) when a version of it opened with the key of id, not made
 * here for path (the filter; the merge driver, for each version; updatekeys
 * --rotate in gitfilter_update_check_copies): another
 * filtered file whose committed version holds that key (a ciphertext
 * copied) must name every recipient of keys, each accepted for it.
 * A stanza of the metadata that wraps nothing (a reader's decoy) would
 * otherwise get the fresh key, and with it what the copy holds. */
int gitfilter_check_copied_key(struct gitfilter *f, const char *path, const uint8_t id[GITSEAL_KEY_ID_SIZE],
			       const struct sops_key_summary *keys) __attribute__((warn_unused_result));

/* ---- holders.c: which files of the index hold a data key ----
 * The copy check asks, for a file whose key this clone did not make, which
 * other files hold that key: every filtered file of the index is opened
 * once per index read (at the first file that asks), not once per file
 * checked. */

struct githolders;
/* The filtered files of the index (stage 0, regular files) whose version
 * there opens here with the data key of id, in the index's order: *paths
 * (malloc'd; its strings borrowed until the next call) and *count. */
int githolders_find(struct gitfilter *f, const uint8_t id[GITSEAL_KEY_ID_SIZE], const char ***paths,
		    size_t *count) __attribute__((warn_unused_result));
void githolders_free(struct githolders *h);
/* .git/gitseal/holder-keys: records of a blob id, a data key id and a
 * digest of both. How many records of data (len bytes) are used (whole,
 * their digest matching), or -1 when the file is not whole records or
 * holds more than GITHOLDERS_MAX: then it starts again empty (fuzz_git_state). */
enum { GITHOLDERS_RECORD_SIZE = 60, GITHOLDERS_MAX = 100000 };
long githolders_parse(const uint8_t *data, size_t len);

/* ---- seal.c: the sops side of the filter ---- */

/* Loads data as the encrypted form of format: 1, or 0 (d left empty) when
 * it is not a sops file (empty data is not), or GS_ERR_NOMEM when it could
 * not be told for want of memory: never to be taken for either. */
int gitseal_load_sealed(enum doc_format format, const uint8_t *data, size_t len, struct doc *d);
/* The version of path git holds (index, else HEAD): d (initialised here,
 * released by the caller) holds it when *sealed, it being a sops file. */
int gitseal_committed_load(struct gitfilter *f, const char *path, enum doc_format format, struct doc *d,
			   bool *sealed) __attribute__((warn_unused_result));
/* What the work tree holds at path (status and updatekeys ask). */
enum gitseal_worktree { GITSEAL_WT_MISSING, GITSEAL_WT_PLAIN, GITSEAL_WT_SEALED };
/* Reads the work tree's file at path: d (initialised here, released by the
 * caller) holds it when it is a sops file of format. */
int gitseal_worktree_load(struct gitfilter *f, const char *path, enum doc_format format, struct doc *d,
			  enum gitseal_worktree *state) __attribute__((warn_unused_result));
/* Decrypts a sealed version (the MAC checked) to its plaintext bytes, the
 * document taken over (left empty): not parsed again. */
int gitseal_open_text_doc(struct gitfilter *f, struct doc *cipher, struct gs_buf *plain)
	__attribute__((warn_unused_result));
/* Opens a sealed version (the MAC checked): its plaintext tree, keys and
 * data key, ready to seal again. */
int gitseal_open(struct gitfilter *f, const struct doc *cipher, struct sops_file **out)
	__attribute__((warn_unused_result));
/* gitseal_open, and the version's plaintext bytes (as the smudge filter
 * gives them): opened once, it serves for both (the merge driver). */
int gitseal_open_with_text(struct gitfilter *f, const struct doc *cipher, struct sops_file **out,
			   struct gs_buf *plain) __attribute__((warn_unused_result));
/* Opens sealed bytes of format (text taken over, left empty), the MAC
 * checked, only to read its keys and its data key's id: nothing is kept
 * to seal again. */
int gitseal_open_keys(struct gitfilter *f, enum doc_format format, struct gs_buf *text, struct sops_file **out)
	__attribute__((warn_unused_result));
/* An opened version's plaintext, as the smudge filter would give it. */
int gitseal_opened_text(struct sops_file *sf, const struct doc *cipher, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* Whether sf's data key may seal a new version of the file at path for
 * keys: this clone made it for that path, the keys are exactly its own,
 * and the file's history allows it (githistory_key_current). */
bool gitseal_may_reuse(struct gitfilter *f, const char *path, const struct sops_file *sf,
		       const struct sops_key_summary *keys);
/* Whether an opened version's data key may stay at path whatever the keys
 * (updatekeys): made or vouched for here for path, and its history allows
 * it. */
bool gitseal_key_keepable(struct gitfilter *f, const char *path, const struct sops_file *sf);
/* The same for a sealed version not opened yet (false when it does not open). */
bool gitseal_keeps_key(struct gitfilter *f, const char *path, const struct doc *previous);
/* Seals plain with an opened version's keys, data key and unchanged
 * ciphertexts (gitseal_may_reuse said yes), proven. */
int gitseal_seal_opened(struct gitfilter *f, struct sops_file *sf, struct doc *plain, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* The same as a tree, and the id of its data key. */
int gitseal_open_doc(struct gitfilter *f, const struct doc *cipher, struct doc *plain,
		     uint8_t key_id[GITSEAL_KEY_ID_SIZE]) __attribute__((warn_unused_result));
/* Which data key a seal uses. */
enum gitseal_key_policy {
	/* previous's, when its keys are exactly the new ones, it verifies, and
	 * this clone made it (the filter, the merge driver) */
	GITSEAL_KEY_IF_MADE_HERE,
	/* previous's whatever the keys (updatekeys: the user saw the change),
	 * when gitseal_key_keepable; else a new one */
	GITSEAL_KEY_KEEP,
	/* a new one (rotation) */
	GITSEAL_KEY_FRESH,
};

/* Seals plain (a plaintext tree; changed) of the file at path for keys,
 * proven by loading the result again. previous (a sealed version of the
 * file, may be NULL) lends its data key and unchanged ciphertexts as policy
 * says; a fresh data key is remembered as this clone's for path. */
int gitseal_seal(struct gitfilter *f, const char *path, struct doc *plain, const struct sops_key_summary *keys,
		 const struct doc *previous, enum gitseal_key_policy policy, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* gitseal_seal with GITSEAL_KEY_IF_MADE_HERE for a previous version
 * already opened (gitseal_open; NULL: a fresh key), which stays the
 * caller's. */
int gitseal_seal_reusing(struct gitfilter *f, const char *path, struct doc *plain,
			 const struct sops_key_summary *keys, struct sops_file *opened, struct gs_buf *out)
	__attribute__((warn_unused_result));
bool gitseal_keys_equal(const struct sops_key_summary *a, const struct sops_key_summary *b);
/* Whether one of this clone's age identities is among keys' recipients
 * (else it may open a file only through gpg or Vault, or not at all). */
bool gitseal_opens_by_age(struct gitfilter *f, const struct sops_key_summary *keys);
/* Works out the recipients of this clone's identities now (they are
 * otherwise worked out on first use, on the thread that asks). */
void gitseal_prepare_recipients(struct gitfilter *f);
/* The same, the selection rule aside. */
bool gitseal_keys_equal_groups(const struct sops_key_summary *a, const struct sops_key_summary *b);
/* Whether key is one of g's age recipients, PGP fingerprints or Vault URIs. */
bool gitseal_group_has(const struct sops_key_group *g, const char *key);
/* The keys for a file new to the repository: the working tree's creation
 * rule for path, if this clone accepted what it names. */
int gitseal_new_file_keys(struct gitfilter *f, const char *path, struct sops_key_summary *out)
	__attribute__((warn_unused_result));
/* The rule's keys, whatever this clone accepted (updatekeys shows them). */
int gitfilter_rule_keys_unchecked(struct gitfilter *f, const char *path, struct sops_key_summary *out)
	__attribute__((warn_unused_result));
/* The test build counts what a process does, for tests that catch work
 * done once per file that should be done once (a line `what` appended to
 * the file the environment variable names): GITSEAL_TEST_BLOB_LOG a blob
 * read, GITSEAL_TEST_INDEX_LOG an index written. Release builds: nothing,
 * not even the variable's name. */
#ifdef GITSEAL_TEST_HOOKS
void gitrepo_test_count(const char *variable, const char *what);
#else
#define gitrepo_test_count(variable, what) ((void)0)
#endif
/* GITSEAL_TEST_CACHE_LOG=FILE: the bytes of objects libgit2 holds in its
 * cache when the repository is closed, a line appended (test build). */
void gitrepo_test_log_cache(void);
/* Sets an index entry's blob (id, unless NULL) and, when full is given,
 * its stat data from that file. */
int gitrepo_index_set(struct gitfilter *f, git_index *idx, const git_index_entry *e, const git_oid *id,
		      const char *full) __attribute__((warn_unused_result));

/* A dotenv text with CRLF line ends as LF (into norm, *in and *len moved
 * to it); unchanged when it has none. */
int gitfilter_dotenv_lf(const uint8_t **in, size_t *len, struct gs_buf *norm) __attribute__((warn_unused_result));

/* ---- history.c: a data key against the file's history ---- */

struct githistory;
/* A digest of everything that says whom path is accepted for here (the
 * accepted rule's keys, the path's records, this clone's own recipients), for
 * the verdicts kept across commands (history.c): any change is another
 * digest. */
enum { GITTRUST_DIGEST_SIZE = 32 };
int gittrust_digest(struct gitfilter *f, const char *path, uint8_t out[GITTRUST_DIGEST_SIZE])
	__attribute__((warn_unused_result));
/* Whether the data key of this id may be re-used for the file at path
 * (relative to the work tree), as the file's versions in the commits the
 * next one descends from (HEAD, MERGE_HEAD) say: none of those that carry
 * the key names a recipient not accepted for path now, and on no line of
 * descent does a version without the key follow one with it. Doubt (a
 * failed read) is a no. Kept for the process per path, tips and key, and
 * across commands in .git/gitseal/history (history.c). */
bool githistory_key_current(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE]);
void githistory_free(struct githistory *h);

/* ---- conflict.c: a conflict, sealed ---- */

/* Whether data is a sealed conflict (its first key is gitseal_conflict). */
bool gitseal_conflict_is(const uint8_t *data, size_t len);
/* Whether text holds a git-style conflict: a '<<<<<<<' line, then a
 * '=======' line, then a '>>>>>>>' line (marker size 7, as the merge
 * driver and git write them). */
bool gitseal_conflict_marked(const uint8_t *text, size_t len);
/* Whether line (n bytes, its LF included) is a git-style marker of size 7
 * made of c ('<', '|', '=', '>'): the run alone, or but for '=' followed
 * by a space and a label. */
bool gitseal_conflict_marker_line(const uint8_t *line, size_t n, char c);
/* Whether the sealed conflict holds exactly text: the same bytes (a clone
 * without the key shows the ciphertext), sealed from text by this clone,
 * or opened (its MAC checked) to text. Then it is clean's answer for text,
 * as an unchanged file's committed blob is. */
bool gitseal_conflict_same(struct gitfilter *f, const struct gs_buf *sealed, const uint8_t *text, size_t len);
/* The version a resolution of the staged conflict sealed is sealed as:
 * HEAD's (its rule, its data key), when its key groups are the conflict's
 * (the conflict is sealed for what a resolution takes, every value
 * sealed); into out, *found false when there is none such. */
int gitseal_conflict_behind(struct gitfilter *f, const char *path, const struct gs_buf *sealed, struct gs_buf *out,
			    bool *found) __attribute__((warn_unused_result));
int gitseal_conflict_seal(struct gitfilter *f, const char *path, const struct sops_key_summary *keys,
			  const struct gs_buf *marked, struct gs_buf *out) __attribute__((warn_unused_result));
int gitseal_conflict_open(struct gitfilter *f, const uint8_t *data, size_t len, struct gs_buf *marked)
	__attribute__((warn_unused_result));

/* ---- trust.c: what this clone accepted and made (under .git/gitseal/) ---- */

int gittrust_load(struct gitfilter *f) __attribute__((warn_unused_result));
/* Where the accepted rule for path splits the key into groups: keys must
 * have those groups and need as many of them (GS_ERR_CONFIG, one line
 * naming both, when not). */
int gittrust_check_groups(struct gitfilter *f, const char *path, const struct sops_key_summary *keys)
	__attribute__((warn_unused_result));
/* "+r1, +r2" for the recipients keys names that this clone did not accept
 * for path (relative to the work tree): neither the accepted .sops.yaml's
 * rule for path names them nor a record for path; empty when none. */
int gittrust_unaccepted(struct gitfilter *f, const char *path, const struct sops_key_summary *keys,
			struct gs_buf *list) __attribute__((warn_unused_result));
/* "+r1, +r2" for the recipients a rule of config names that the accepted
 * .sops.yaml's rule of the same path_regex does not, and each accepted
 * rule config no longer has. */
int gittrust_config_changes(struct gitfilter *f, const struct sops_config *config, struct gs_buf *list)
	__attribute__((warn_unused_result));
/* GS_ERR_CONFIG "recipients changed: ...; run 'gitseal updatekeys' to
 * accept" unless every recipient keys names is accepted for path. */
int gitseal_check_accepted(struct gitfilter *f, const char *path, const struct sops_key_summary *keys)
	__attribute__((warn_unused_result));
/* Whether the accepted .sops.yaml had this selection for path (or the
 * selection is the default, which seals every value). */
bool gittrust_selection_accepted(struct gitfilter *f, const char *path, const struct sops_selection *sel);
/* A file's own rule is outside the MAC, so a pull request can narrow it:
 * GS_ERR_CONFIG, naming the value, when plain sealed under keys' rule would
 * leave in clear a value that the accepted .sops.yaml's rule for path seals
 * (every value when none matches) and that no version in kept (opened with
 * the MAC checked, not mac_only_encrypted) holds in clear already, that
 * very value (a value changed there is the user's; who wrote that version
 * and its rule, no one can tell), unless the user's environment says
 * GITSEAL_KEEP_FILE_RULE=1. */
int gittrust_check_narrowed(struct gitfilter *f, const char *path, struct doc *plain,
			    const struct sops_key_summary *keys, struct doc *const *kept, size_t nkept)
	__attribute__((warn_unused_result));
/* A sops file new to the repository goes in with its own rule, which is
 * in its metadata: one made by sops under a planted .sops.yaml leaves in
 * clear what the accepted rule seals. GS_ERR_CONFIG, naming the value,
 * when sealed holds in clear a value that the accepted .sops.yaml's rule
 * for path seals (every value when none matches), unless the user's
 * environment says GITSEAL_KEEP_FILE_RULE=1. */
int gittrust_check_own_rule(struct gitfilter *f, const char *path, struct doc *sealed,
			    const struct sops_key_summary *keys, bool *kept) __attribute__((warn_unused_result));
/* *kept above: the check found such a value and the user's
 * GITSEAL_KEEP_FILE_RULE=1 let it through. gittrust_keep_rule records
 * that blob (its path and bytes) in kept-rules, so that `gitseal git check`
 * (the hook) lets that very blob through as the add did; a blob of another
 * file or other bytes is checked. */
void gittrust_keep_rule(struct gitfilter *f, const char *path, const uint8_t *blob, size_t len);
bool gittrust_rule_kept(struct gitfilter *f, const char *path, const uint8_t *blob, size_t len);
/* Whether this clone made (or vouched for) the data key of this id for the
 * file at path (relative to the work tree), and everyone it was ever
 * wrapped for there is still accepted for path: a key is trusted for the
 * file it was made for only, and not after a reader it was wrapped for
 * was revoked (an old version, its stanza removed, brought back). */
bool gittrust_key_made_here(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE]);
/* A clone that cannot open what it seals (no identity of the file's, as
 * a recipient-only or PGP-only clone) remembers each seal: whether blob
 * is what this clone sealed plain into. */
bool gittrust_sealed_here(struct gitfilter *f, const struct gs_buf *blob, const uint8_t *plain, size_t len);
int gittrust_remember_sealed(struct gitfilter *f, const struct gs_buf *blob, const uint8_t *plain, size_t len)
	__attribute__((warn_unused_result));
/* Records that the data key of this id is wrapped for keys' recipients at
 * path: made here or vouched for; with known_only, only a key recorded
 * there already (kept for new recipients by updatekeys: a key this clone
 * did not make stays one it does not re-use). */
int gittrust_remember_key(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE],
			  const struct sops_key_summary *keys, bool known_only) __attribute__((warn_unused_result));
/* Drops the records that accept a recipient for path that keys (the
 * file's keys now) no longer name: only ever narrows. */
int gittrust_narrow_file(struct gitfilter *f, const char *path, const struct sops_key_summary *keys)
	__attribute__((warn_unused_result));
/* The paths at or below dir ("" for all) that records accept recipients
 * for, each once, sorted (malloc'd, as the list; on error what was found). */
int gittrust_recorded_paths(struct gitfilter *f, const char *dir, char ***paths, size_t *count)
	__attribute__((warn_unused_result));
/* "r1, r2": the recipients records accept for path, appended to list. */
int gittrust_recorded_for(struct gitfilter *f, const char *path, struct gs_buf *list)
	__attribute__((warn_unused_result));
/* Whether a record for path reads back as one for path alone: none for a
 * path with a leading or trailing blank or a control byte. */
bool gittrust_path_recordable(const char *path);
/* Marks the error just set as a refusal of keys or a rule this clone
 * did not accept (whose way out is updatekeys); returns code.
 * gittrust_is_unaccepted: whether the error now is that refusal (a name
 * prefixed as it travelled up). A git command that only compares answers
 * such a clean with a line in the edit's place (filter.c). */
int gittrust_refused_unaccepted(int code);
bool gittrust_is_unaccepted(void);
/* How that line begins; `gitseal git check` names a blob that holds it. */
#define GITFILTER_REFUSED_EDIT "gitseal: in place of an edit that cannot be sealed: "
/* What to do about recipients of path not accepted yet: run updatekeys,
 * or, for a path no record can name (updatekeys refuses it), rename it. */
const char *gittrust_accept_hint(const char *path);
/* Record changes kept in memory until gittrust_write_held writes them
 * once (updatekeys: a write per file rewrote every record each time). */
void gittrust_hold_records(struct gitfilter *f);
int gittrust_write_held(struct gitfilter *f) __attribute__((warn_unused_result));
/* Drops every record of each of paths (files gone): only ever narrows. */
int gittrust_forget_files(struct gitfilter *f, char *const *paths, size_t n) __attribute__((warn_unused_result));
/* Forgets every data key made or vouched for here (data-keys emptied):
 * after a revocation, since the ids cannot be mapped back to paths. */
int gittrust_retire_keys(struct gitfilter *f) __attribute__((warn_unused_result));
/* Records that each paths[i] may be sealed for the recipients keys[i]
 * names (those the accepted .sops.yaml's rule for it does not name); a
 * path given twice gets its last keys. One pass over the records, one
 * sort, one write: a pass or a sort per path was quadratic. */
int gittrust_accept_files(struct gitfilter *f, char *const *paths, const struct sops_key_summary *keys, size_t n)
	__attribute__((warn_unused_result));
/* Accepts a .sops.yaml, config_text or the working tree's when it is NULL:
 * its snapshot replaces the accepted one, and the recipients of its rule
 * for a path may seal that path. */
int gittrust_accept_config(struct gitfilter *f, const struct gs_buf *config_text) __attribute__((warn_unused_result));
int gittrust_set_locked(struct gitfilter *f, bool locked) __attribute__((warn_unused_result));
void gittrust_release(struct gittrust *t);
/* Every age entry of c's rules is a recipient gitseal seals for; else
 * GS_ERR_CONFIG naming the rule and the entry, not the file (before
 * anyone is shown one as a recipient to trust). */
int gittrust_check_config_recipients(const struct sops_config *c) __attribute__((warn_unused_result));
/* A .sops.yaml text whose rules match paths of f's work tree. */
int gittrust_parse_config(struct gitfilter *f, const struct gs_buf *text, struct sops_config **out)
	__attribute__((warn_unused_result));

#endif
