/* `gitseal git check` (and the pre-commit hook): what the next commit
 * changes (staged blobs HEAD does not hold), read as the repository reader
 * will see it. Refused, one finding per file:
 *   - a blob under the filter that is not a sops file (plaintext staged
 *     past the filter, or the line git diff showed for an edit the filter
 *     refused, staged from the diff), or a sealed conflict not yet
 *     resolved (or, in the binary store, git-style markers sealed as its
 *     data);
 *   - a sops blob with a value in clear that its own rule or the committed
 *     version's rule seals (a selection downgrade, a line added by hand in
 *     a clone without keys), or, for a file new to the repository, that
 *     the accepted .sops.yaml rule for its path seals (as `git add`
 *     refuses it, with the same way out: GITSEAL_KEEP_FILE_RULE=1), or
 *     recipients this clone did not accept;
 *   - a blob that is not whole: its MAC fails where a key opens it, or,
 *     without a key, it keeps the committed MAC while its values changed
 *     (a part of a change staged, as `git add -p` would);
 *   - a file moved out of the filter's pattern that holds the plaintext of
 *     a file that was sealed under it, or a copy of a sealed file beside it
 *     (FILE.orig of git mergetool) outside the pattern that holds its values;
 *   - a new commit of a submodule under the pattern, or holding a file the
 *     pattern covers (git runs no filter in a submodule);
 *   - a file outside the pattern that a symbolic link under it leads to
 *     (what is written through the link is committed in clear there). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>
#include <git2/sys/repository.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/secret_scan.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

static int add_finding(struct gitfilter_findings *fs, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_finding(struct gitfilter_findings *fs, const char *path, const char *fmt, ...)
{
	struct gitfilter_finding *grown = gs_realloc(fs->items, (fs->count + 1) * sizeof(*grown));
	va_list ap;
	int n;

	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	fs->items = grown;
	grown[fs->count].problem = NULL;
	grown[fs->count].submodule = false;
	grown[fs->count].commit[0] = '\0';
	if (!(grown[fs->count].path = gs_strdup(path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	va_start(ap, fmt);
	n = gs_vasprintf(&grown[fs->count].problem, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(grown[fs->count].path);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	fs->count++;
	return 0;
}

void gitfilter_findings_release(struct gitfilter_findings *fs)
{
	for (size_t i = 0; i < fs->count; i++) {
		free(fs->items[i].path);
		free(fs->items[i].problem);
	}
	free(fs->items);
	for (size_t i = 0; i < GITFILTER_UNOPENED_SHOWN; i++)
		free(fs->unopened_paths[i]);
	free(fs->locked_key);
	memset(fs, 0, sizeof(*fs));
}

/* A sops file none of the user's keys opens: its decrypt check is not
 * made, which the check says rather than passing it in silence. */
static int note_unopened(struct gitfilter_findings *fs, const char *path, const char *locked_key)
{
	/* check --commits meets a file once per commit that changes it */
	for (size_t i = 0; i < fs->unopened && i < GITFILTER_UNOPENED_SHOWN; i++)
		if (!strcmp(fs->unopened_paths[i], path))
			return 0;
	if (fs->unopened < GITFILTER_UNOPENED_SHOWN &&
	    !(fs->unopened_paths[fs->unopened] = gs_strdup(path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	fs->unopened++;
	/* a key of the user's that git asks no passphrase for: "none of your
	 * keys" would not be so (red team 23, C1) */
	if (locked_key) {
		if (!fs->locked_key && !(fs->locked_key = gs_strdup(locked_key)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		fs->unopened_locked++;
	}
	return 0;
}

static const struct doc_node *metadata_field(const struct doc *d, const char *key)
{
	const struct doc_entry *meta = sops_metadata_entry(d);
	const struct doc_entry *e = meta && meta->value->kind == DOC_MAP ? doc_map_find(meta->value, key) : NULL;

	return e && e->value->kind == DOC_SCALAR && e->value->len ? e->value : NULL;
}

static bool same_scalar(const struct doc_node *a, const struct doc_node *b)
{
	return a && b && a->len == b->len && !memcmp(a->text, b->text, a->len);
}

static int append_sized(struct gs_buf *b, const void *data, size_t len)
{
	int ret = gs_buf_printf(b, "%zu:", len);

	return ret ? ret : gs_buf_append(b, data, len);
}

/* The leaves of a version, each with its path, in order, the metadata
 * aside: what its MAC covers (non-null scalars and comments, sops's
 * walk). Keys without one (an empty list or map, a null) are not covered,
 * so a change to them alone keeps the MAC and lastmodified. */
static int leaves_of(const struct doc_node *n, struct gs_buf *path, bool top, struct gs_buf *out)
{
	size_t mark = path->len;
	int ret = 0;

	if (n->kind == DOC_SCALAR || n->kind == DOC_COMMENT) {
		if (n->kind == DOC_SCALAR && n->type == DOC_NULL)
			return 0;
		if ((ret = append_sized(out, path->data, path->len)) ||
		    (ret = gs_buf_printf(out, "%d,%d,", (int)n->kind, (int)n->type)))
			return ret;
		return append_sized(out, n->text, n->len);
	}
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		/* by its length: a key "sops\0x" is a value */
		if (e->removed || !e->value || (top && e->key && e->key_len == 4 && !memcmp(e->key, "sops", 4)))
			continue;
		if ((e->key && (ret = append_sized(path, e->key, e->key_len))) ||
		    (ret = leaves_of(e->value, path, false, out)))
			goto out;
		path->len = mark;
	}
out:
	path->len = mark;
	return ret;
}

/* Whether two versions hold the same leaves (what a kept MAC vouches for).
 * The MAC covers the values of every document in turn, not where one
 * document ends: a document without a value (`---` / `{}`) added or
 * removed keeps it, as a key without one does. */
static bool same_leaves(const struct doc *a, const struct doc *b)
{
	struct gs_buf path, la, lb;
	bool same;
	int ret = 0;

	gs_buf_init(&path, false);
	gs_buf_init(&la, false);
	gs_buf_init(&lb, false);
	for (size_t i = 0; !ret && i < a->count; i++)
		ret = leaves_of(a->branches[i], &path, true, &la);
	for (size_t i = 0; !ret && i < b->count; i++)
		ret = leaves_of(b->branches[i], &path, true, &lb);
	if (ret)
		gs_error_clear(); /* out of memory: say they differ, the check then refuses */
	same = !ret && la.len == lb.len && !memcmp(la.data, lb.data, la.len);
	gs_buf_release(&path);
	gs_buf_release(&la);
	gs_buf_release(&lb);
	return same;
}

/* Against the committed version: no value its rule seals in clear, no MAC
 * mode that covers less, no committed MAC kept over changed values. */
static int check_against_head(struct gitfilter *f, const char *path, struct doc *staged,
			      const struct sops_key_summary *own, struct gitfilter_findings *fs, bool *head_sealed)
{
	struct sops_key_summary old;
	struct gs_buf blob;
	struct doc head;
	char where[256];
	bool found;
	int ret;

	*head_sealed = false;
	gs_buf_init(&blob, false);
	if ((ret = gitrepo_head_blob(f, path, &blob, &found)) || !found ||
	    (ret = gitseal_load_sealed(staged->format, blob.data, blob.len, &head)) <= 0) {
		if (found)
			doc_release(&head);
		gs_buf_release(&blob);
		return ret;
	}
	*head_sealed = true;
	ret = 0;
	if (sops_doc_keys(&head, &old) == 0) {
		if (sops_doc_check_sealed(staged, &old.selection, where, sizeof(where)))
			ret = add_finding(fs, path, "the value at '%s' is in clear, but the committed version "
						    "encrypts it", gs_shown(where));
		else if (own->selection.mac_only_encrypted && !old.selection.mac_only_encrypted)
			ret = add_finding(fs, path, "its MAC no longer covers the values in clear "
						    "(mac_only_encrypted), unlike the committed version's");
		sops_key_summary_release(&old);
	}
	gs_error_clear();
	if (ret)
		goto out;
	if (same_scalar(metadata_field(staged, "mac"), metadata_field(&head, "mac")) &&
	    !same_leaves(staged, &head))
		ret = add_finding(fs, path, "only a part of a change is staged (git add -p?): its MAC "
					    "cannot match; stage the whole file with 'git add %s'", gs_shown(path));
out:
	doc_release(&head);
	gs_buf_release(&blob);
	return ret;
}

/* Whether a key of this clone may open the file: an age identity, or gpg
 * or Vault, which only trying tells (a PGP-only clone checks the MAC too). */
static bool may_open(struct gitfilter *f, const struct sops_key_summary *keys)
{
	if (gitfilter_identities(f))
		return true;
	for (size_t g = 0; g < keys->group_count; g++)
		if (keys->groups[g].pgp_count || keys->groups[g].vault_count)
			return true;
	return false;
}

/* A sops file new to the repository, as `git add` checks it: its own rule
 * may not leave in clear what the accepted rule for its path seals (a file
 * sops made under a planted .sops.yaml, staged past the filter), unless
 * the user kept it: this very blob added with GITSEAL_KEEP_FILE_RULE=1
 * (kept-rules), or that variable set now. 1 when a finding was added. */
static int check_new_rule(struct gitfilter *f, const char *path, struct doc *d, const struct sops_key_summary *own,
			  const struct gs_buf *blob, struct gitfilter_findings *fs)
{
	bool kept, recorded = gittrust_rule_kept(f, path, blob->data, blob->len);
	int ret = gittrust_check_own_rule(f, path, d, own, &kept);

	if (ret == GS_ERR_CONFIG && recorded)
		ret = 0;
	if (ret == GS_ERR_CONFIG) {
		ret = add_finding(fs, path, "%s", gs_error_message());
		ret = ret < 0 ? ret : 1;
	}
	gs_error_clear();
	return ret;
}

static int check_sealed(struct gitfilter *f, const char *path, struct doc *d, const struct gs_buf *blob,
			struct gitfilter_findings *fs)
{
	enum doc_format format = d->format;
	struct sops_key_summary own;
	struct gs_buf plain, list;
	char where[256];
	bool head_sealed;
	int ret, err;

	if (sops_doc_keys(d, &own) != 0 || !metadata_field(d, "mac") || !metadata_field(d, "lastmodified")) {
		ret = add_finding(fs, path, "its sops metadata is damaged (%s)",
				  gs_error_code() ? gs_error_message() : "no mac or lastmodified");
		gs_error_clear();
		return ret;
	}
	gs_buf_init(&plain, true);
	gs_buf_init(&list, false);
	if ((ret = gittrust_unaccepted(f, path, &own, &list)))
		goto out;
	if (list.len) {
		ret = add_finding(fs, path, "recipients changed: %s; %s", (const char *)list.data,
				  gittrust_accept_hint(path));
		goto out;
	}
	/* every recipient accepted says nothing of how many must come
	 * together: the groups and threshold are outside the MAC */
	if ((ret = gittrust_check_groups(f, path, &own)) == GS_ERR_CONFIG) {
		ret = add_finding(fs, path, "%s", gs_error_message());
		gs_error_clear();
		goto out;
	}
	if (ret)
		goto out;
	if (sops_doc_check_sealed(d, &own.selection, where, sizeof(where))) {
		gs_error_clear();
		ret = add_finding(fs, path, "the value at '%s' is not encrypted", gs_shown(where));
		goto out;
	}
	if ((ret = check_against_head(f, path, d, &own, fs, &head_sealed)))
		goto out;
	if (!head_sealed && (ret = check_new_rule(f, path, d, &own, blob, fs))) {
		ret = ret < 0 ? ret : 0;
		goto out;
	}
	if (!may_open(f, &own)) {
		ret = note_unopened(fs, path, NULL);
		goto out;
	}
	err = gitseal_open_text_doc(f, d, &plain);
	if (err == GS_ERR_NO_DATA_KEY || err == GS_ERR_AGE_NO_MATCH)
		ret = note_unopened(fs, path, gitfilter_locked_key_for(f, &own, NULL));
	else if (err)
		ret = add_finding(fs, path, "it does not decrypt: %s", gs_error_message());
	/* the binary store seals any bytes: a conflict sealed as its data (by
	 * an earlier gitseal, or by hand) would pass for a resolution */
	else if (!err && format == DOC_FORMAT_BINARY && gitseal_conflict_marked(plain.data, plain.len))
		ret = add_finding(fs, path, "it holds an unresolved merge conflict (markers sealed as its data)");
	gs_error_clear();
out:
	sops_key_summary_release(&own);
	gs_buf_release(&plain);
	gs_buf_release(&list);
	return ret;
}

/* What messages call HEAD's tree: a commit's parent for check --commits. */
static const char *head_shown(const struct gitfilter *f)
{
	return *f->head_name ? f->head_name : "HEAD";
}

static int check_filtered(struct gitfilter *f, const char *path, const struct gs_buf *blob,
			  struct gitfilter_findings *fs)
{
	struct gitattrs_change c;
	struct doc d;
	int ret = 0;

	if (!blob->len)
		return 0;
	if ((ret = gitattrs_changing(f, path, blob->data, blob->len, false, &c)))
		return ret < 0 ? ret : add_finding(fs, path, "%s %s", c.what, gitattrs_effect(&c, true));
	if (gitseal_conflict_is(blob->data, blob->len))
		return add_finding(fs, path, "it holds an unresolved merge conflict");
	/* staged from a diff that showed it (git apply --cached) */
	if (blob->len > strlen(GITFILTER_REFUSED_EDIT) &&
	    !memcmp(blob->data, GITFILTER_REFUSED_EDIT, strlen(GITFILTER_REFUSED_EDIT)))
		return add_finding(fs, path,
				   "it holds the line git status and git diff get in place of an edit that "
				   "cannot be sealed, not the file: 'git restore --staged' unstages it");
	if ((ret = gitseal_load_sealed(store_format_for_path(path), blob->data, blob->len, &d)) == 0)
		ret = add_finding(fs, path, "it is staged unencrypted");
	else if (ret > 0)
		ret = check_sealed(f, path, &d, blob, fs);
	doc_release(&d);
	return ret;
}

/* A path that HEAD holds sealed, staged in clear where the filter is now
 * off for it: .gitattributes changed (by a pull request, perhaps). */
static int check_unfiltered(struct gitfilter *f, const git_index_entry *e, struct gs_buf *blob,
			    struct gitfilter_findings *fs)
{
	enum doc_format format = store_format_for_path(e->path);
	struct doc d;
	bool found = false, sealed;
	int ret = gitrepo_head_blob(f, e->path, blob, &found);

	if (ret || !found)
		return ret;
	ret = gitseal_load_sealed(format, blob->data, blob->len, &d);
	doc_release(&d);
	if (ret <= 0)
		return ret;
	gs_buf_reset(blob);
	if ((ret = gitrepo_read_blob(f, &e->id, blob)))
		return ret;
	if (blob->len && (ret = gitseal_load_sealed(format, blob->data, blob->len, &d)) < 0)
		return ret;
	sealed = !blob->len || ret == 1;
	if (blob->len)
		doc_release(&d);
	return sealed ? 0
		      : add_finding(fs, e->path, "it is staged unencrypted, but %s holds it encrypted: the filter is "
						 "off for it (see .gitattributes; 'gitseal git init' keeps its patterns)",
				    head_shown(f));
}

/* ---- the filter as HEAD's attributes set it ---- */

/* HEAD's own attributes: its .gitattributes files (with this clone's
 * info/attributes, the user's word), read by libgit2 from an index in the
 * repository opened without its work tree. The index holds HEAD's
 * .gitattributes of the directories of the paths asked so far, added on
 * first need (a whole tree read in is 20 million instructions in a 5,000
 * file repository: a quarter of the hook). A commit's parent for check
 * --commits, which read the work tree's alone: a commit taking a path off
 * the filter in .gitattributes and adding a file there in clear passed, as
 * did one pushed from a work tree whose attributes were another branch's. */
struct head_attrs {
	bool tried;
	git_repository *repo;
	git_index *idx;
	char **dirs; /* added, each with its trailing '/' ("" at the top) */
	size_t dir_count;
};

static void head_attrs_release(struct head_attrs *h)
{
	git_repository_free(h->repo);
	git_index_free(h->idx);
	for (size_t i = 0; i < h->dir_count; i++)
		free(h->dirs[i]);
	free(h->dirs);
}

/* HEAD's .gitattributes of the directory path[0, len) into h->idx, once. */
static int head_attrs_add(struct head_attrs *h, git_tree *head, const char *path, size_t len)
{
	char name[PATH_MAX];
	git_tree_entry *te = NULL;
	git_index_entry e;

	for (size_t i = 0; i < h->dir_count; i++)
		if (strlen(h->dirs[i]) == len && !memcmp(h->dirs[i], path, len))
			return 0;
	if (len + sizeof(GITPINS_NAME) > sizeof(name))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(path));
	memcpy(name, path, len);
	memcpy(name + len, GITPINS_NAME, sizeof(GITPINS_NAME));
	if (gs_strings_push(&h->dirs, &h->dir_count, path, len))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* a directory none holds: nothing to add */
	if (git_tree_entry_bypath(&te, head, name) < 0) {
		git_error_clear();
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.mode = git_tree_entry_filemode(te);
	e.id = *git_tree_entry_id(te);
	e.path = name;
	git_tree_entry_free(te);
	/* git reads a link's blob too, its target's text (pins.c) */
	if ((e.mode == GIT_FILEMODE_BLOB || e.mode == GIT_FILEMODE_BLOB_EXECUTABLE || e.mode == GIT_FILEMODE_LINK) &&
	    git_index_add(h->idx, &e) < 0)
		return gitrepo_fail("cannot read HEAD's gitattributes");
	return 0;
}

static int filtered_in_head(struct gitfilter *f, struct head_attrs *h, const char *path, bool *yes)
{
	git_tree *head = gitrepo_head_tree(f);
	const char *value = NULL;
	int ret;

	*yes = false;
	if (!head)
		return 0;
	if (!h->tried) {
		h->tried = true;
		if (git_repository_open_ext(&h->repo, git_repository_path(f->repo),
					    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, NULL) < 0 ||
		    git_index_new(&h->idx) < 0 || git_repository_set_index(h->repo, h->idx) < 0) {
			git_repository_free(h->repo);
			h->repo = NULL;
		}
	}
	if (!h->repo)
		return gitrepo_fail("cannot read the gitattributes of HEAD's tree (a commit's parent's, for --commits)");
	for (const char *slash = path; slash; slash = strchr(slash + 1, '/'))
		if ((ret = head_attrs_add(h, head, path, slash == path ? 0 : (size_t)(slash - path) + 1)))
			return ret;
	if (git_attr_get(&value, h->repo, GIT_ATTR_CHECK_INDEX_ONLY, path, "filter") < 0)
		return gitrepo_fail("cannot read the gitattributes of HEAD's tree (a commit's parent's, for --commits)");
	*yes = git_attr_value(value) == GIT_ATTR_VALUE_STRING && !strcmp(value, "gitseal");
	return 0;
}

/* A file HEAD's attributes put under the filter and the work tree's no
 * longer do: staged in clear, refused as under the filter. */
static int check_filter_dropped(struct gitfilter *f, const git_index_entry *e, struct gs_buf *blob,
				struct gitfilter_findings *fs)
{
	struct doc d;
	int ret;

	if ((ret = gitrepo_read_blob(f, &e->id, blob)) || !blob->len)
		return ret;
	ret = gitseal_load_sealed(store_format_for_path(e->path), blob->data, blob->len, &d);
	doc_release(&d);
	if (ret)
		return ret < 0 ? ret : 0;
	return add_finding(fs, e->path, "it is staged unencrypted, but the .gitattributes of %s put it under the "
					"filter, which is off for it now (see .gitattributes; a line 'PATH -filter' in "
					".git/info/attributes is your word that it holds no secret)",
			   head_shown(f));
}

/* ---- files moved out of the pattern ---- */

/* The plaintext values of the sealed files gone from the index. */
struct secrets {
	char **values;       /* secure copies */
	size_t *lens;
	size_t *from;        /* index into paths */
	size_t count;
	char **paths;
	size_t path_count;
};

static void secrets_release(struct secrets *s)
{
	for (size_t i = 0; i < s->count; i++)
		gs_secure_free(s->values[i]);
	for (size_t i = 0; i < s->path_count; i++)
		free(s->paths[i]);
	free(s->values);
	free(s->lens);
	free(s->from);
	free(s->paths);
	memset(s, 0, sizeof(*s));
}

static int secrets_add(struct secrets *s, const char *text, size_t len)
{
	char **v = gs_realloc(s->values, (s->count + 1) * sizeof(*v));
	size_t *l = v ? gs_realloc(s->lens, (s->count + 1) * sizeof(*l)) : NULL;
	size_t *fr = l ? gs_realloc(s->from, (s->count + 1) * sizeof(*fr)) : NULL;

	if (v)
		s->values = v;
	if (l)
		s->lens = l;
	if (!fr)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	s->from = fr;
	if (!(s->values[s->count] = gs_secure_alloc(len + 1)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(s->values[s->count], text, len);
	s->lens[s->count] = len;
	s->from[s->count++] = s->path_count - 1;
	return 0;
}

/* The plaintext of every value that is sealed in cipher (plain is the same
 * document decrypted: the same shape, the metadata aside). */
static int collect_values(struct secrets *s, const struct doc_node *cipher, const struct doc_node *plain)
{
	int ret = 0;

	if (!cipher || !plain || cipher->kind != plain->kind)
		return 0;
	if (cipher->kind == DOC_SCALAR)
		return plain->len >= GS_SECRET_MIN_LEN && cipher->len > strlen(SOPS_ENC_OPEN) && !memcmp(cipher->text, SOPS_ENC_OPEN, strlen(SOPS_ENC_OPEN))
			       ? secrets_add(s, plain->text, plain->len)
			       : 0;
	for (size_t i = 0; i < cipher->count && i < plain->count && !ret; i++)
		ret = collect_values(s, cipher->entries[i].value, plain->entries[i].value);
	return ret;
}

struct moved_walk {
	struct gitfilter *f;
	git_index *idx;
	struct secrets *secrets;
	struct gs_buf blob;
	int ret;
};

static int add_path(struct secrets *s, const char *path)
{
	return gs_strings_push(&s->paths, &s->path_count, path, strlen(path));
}

/* The values sealed in blob, the version of path, when it is a sops file
 * an identity opens (nothing otherwise). */
static int collect_blob(struct gitfilter *f, const char *path, const struct gs_buf *blob, struct secrets *s)
{
	struct doc cipher, plain;
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	int ret = 0, sealed;

	if ((sealed = gitseal_load_sealed(store_format_for_path(path), blob->data, blob->len, &cipher)) < 0)
		return sealed;
	if (sealed && gitseal_open_doc(f, &cipher, &plain, id) == 0 && !(ret = add_path(s, path))) {
		for (size_t b = 0; b < cipher.count && b < plain.count && !ret; b++)
			ret = collect_values(s, cipher.branches[b], plain.branches[b]);
		doc_release(&plain);
	}
	gs_error_clear();
	doc_release(&cipher);
	return ret;
}

static int note_moved(const char *root, const git_tree_entry *te, void *ctx)
{
	struct moved_walk *w = ctx;
	char path[4096];

	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(te)) >= sizeof(path) ||
	    git_index_get_bypath(w->idx, path, 0) || !gitrepo_filtered(w->f, path))
		return 0;
	gs_buf_reset(&w->blob);
	if ((w->ret = gitrepo_read_blob(w->f, git_tree_entry_id(te), &w->blob)) ||
	    (w->ret = collect_blob(w->f, path, &w->blob, w->secrets)))
		return -1;
	return 0;
}

static bool holds_bytes(const char *text, size_t text_len, const char *value, size_t len)
{
	return len && text_len >= len && memmem(text, text_len, value, len);
}

/* The value as it is, or the longest line of a value of several: a moved
 * file holds a YAML block scalar's lines indented (a PEM key under
 * 'tls_key: |'), a JSON string's with '\n' between them, never the value
 * whole. */
static bool holds(const char *text, size_t text_len, const char *value, size_t len)
{
	const char *p = value, *end = value + len, *best = NULL;
	size_t best_len = 0;

	if (holds_bytes(text, text_len, value, len))
		return true;
	if (!memchr(value, '\n', len))
		return false;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *stop = eol ? eol : end;

		while (p < stop && (*p == ' ' || *p == '\t'))
			p++;
		while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r'))
			stop--;
		if ((size_t)(stop - p) > best_len) {
			best = p;
			best_len = (size_t)(stop - p);
		}
		p = eol ? eol + 1 : end;
	}
	return best_len >= GS_SECRET_MIN_LEN && holds_bytes(text, text_len, best, best_len);
}

/* The sealed file a secret of which text holds, or NULL. */
static const char *holder_of(const struct secrets *s, const char *text, size_t len)
{
	for (size_t i = 0; i < s->count; i++)
		if (holds(text, len, s->values[i], s->lens[i]))
			return s->paths[s->from[i]];
	return NULL;
}

/* The same in a key or value of a loaded document: a file's own format
 * writes a value escaped (a JSON string's '\"', '\\' and '\t', YAML's
 * '' in single quotes, a folded block), so its bytes need not hold it. */
static const char *holder_in_node(const struct secrets *s, const struct doc_node *n)
{
	const char *from = NULL;

	if (n->kind == DOC_SCALAR)
		return holder_of(s, n->text, n->len);
	for (size_t i = 0; n->kind != DOC_COMMENT && i < n->count && !from; i++) {
		if (n->entries[i].key)
			from = holder_of(s, n->entries[i].key, n->entries[i].key_len);
		if (!from)
			from = holder_in_node(s, n->entries[i].value);
	}
	return from;
}

/* The sealed file a secret of which the staged file at path holds, as its
 * bytes or, when the next commit changes it (read), read in the store its
 * name gives, as a value. */
static int holder_in(const struct secrets *s, const char *path, const struct gs_buf *blob, bool read,
		     const char **from)
{
	enum doc_format format = store_format_for_path(path);
	struct doc d;
	int ret;

	if ((*from = holder_of(s, (const char *)blob->data, blob->len)) || !read)
		return 0;
	/* any other name: YAML reads JSON too (a config.json.orig) */
	if (format == DOC_FORMAT_BINARY)
		format = DOC_FORMAT_YAML;
	doc_init(&d, format);
	if ((ret = store_load_data(format, blob->data, blob->len, &d)) == 0) {
		for (size_t b = 0; b < d.count && !*from; b++)
			if (d.branches[b])
				*from = holder_in_node(s, d.branches[b]);
	} else if (ret != GS_ERR_NOMEM) {
		/* not that format: its bytes were all there was to search */
		gs_error_clear();
		ret = 0;
	}
	doc_release(&d);
	return ret;
}

static int check_moved_out(struct gitfilter *f, git_index *idx, struct gitfilter_findings *fs)
{
	struct secrets secrets = { 0 };
	struct moved_walk w = { f, idx, &secrets, { 0 }, 0 };
	git_tree *head = gitrepo_head_tree(f);
	struct gs_buf blob;
	int ret = 0;

	/* without a key the moved file held ciphertext: nothing to find */
	if (!head || !gitfilter_identities(f))
		return 0;
	gs_buf_init(&w.blob, true);
	gs_buf_init(&blob, true);
	if (git_tree_walk(head, GIT_TREEWALK_PRE, note_moved, &w) < 0 && !w.ret)
		w.ret = gitrepo_fail("cannot read HEAD's tree");
	ret = w.ret;
	for (size_t i = 0; i < git_index_entrycount(idx) && secrets.count && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		const char *from = NULL;

		if (git_index_entry_stage(e) != 0 || gitrepo_filtered(f, e->path))
			continue;
		gs_buf_reset(&blob);
		if ((ret = gitrepo_read_blob(f, &e->id, &blob)) || (ret = holder_in(&secrets, e->path, &blob, !gitrepo_head_same(f, e->path, &e->id), &from)))
			break;
		if (from)
			ret = add_finding(fs, e->path, "it holds secrets of '%s', which is encrypted; keep it under "
						       "the filter's pattern (see .gitattributes)", gs_shown(from));
	}
	secrets_release(&secrets);
	gs_buf_release(&w.blob);
	gs_buf_release(&blob);
	return ret;
}

/* ---- a sealed file's copies beside it ---- */

/* The name's stem: up to its first dot, a leading one aside. */
static size_t stem_len(const char *name)
{
	if (*name == '.')
		name++;
	return strcspn(name, ".");
}

/* Whether e (outside the pattern) is named like a copy of sealed, a file of
 * the same directory (dir_len bytes): its name, a leading dot aside, begins
 * with sealed's stem. */
static bool named_beside(const git_index_entry *sealed, const git_index_entry *e, size_t dir_len)
{
	const char *name = sealed->path + dir_len, *copy = e->path + dir_len;
	size_t n = stem_len(name);

	if (*name == '.')
		name++;
	if (*copy == '.')
		copy++;
	return sealed != e && n && git_index_entry_stage(sealed) == 0 && !strchr(sealed->path + dir_len, '/') &&
	       (sealed->mode & 0170000) == 0100000 && !strncmp(copy, name, n);
}

/* git mergetool leaves FILE.orig (mergetool.keepBackup, on by default): the
 * conflict, each side's values between markers; `git apply --reject` leaves
 * FILE.rej, editors FILE~ or .FILE.swp. Under a pattern such as
 * `*.enc.yaml` these are outside it, and `git add -A` stages them in clear.
 * A changed file outside the pattern named like a copy of a sealed file
 * beside it is read for that file's values (HEAD's and the index's); moves
 * elsewhere are check_moved_out's. */
static int check_beside(struct gitfilter *f, git_index *idx, const git_index_entry *e, struct gs_buf *blob,
			struct gitfilter_findings *fs)
{
	const char *slash = strrchr(e->path, '/');
	size_t dir_len = slash ? (size_t)(slash + 1 - e->path) : 0, lo = 0, hi = git_index_entrycount(idx);
	struct secrets secrets = { 0 };
	const char *from = NULL;
	bool found, read = false;
	int ret = 0;

	if (!gitfilter_identities(f))
		return 0;
	/* the first entry of the directory: the index is sorted by path */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strncmp(git_index_get_byindex(idx, mid)->path, e->path, dir_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < git_index_entrycount(idx) && !ret && !from; i++) {
		const git_index_entry *s = git_index_get_byindex(idx, i);
		struct gs_buf version;

		if (strncmp(s->path, e->path, dir_len))
			break;
		if (!named_beside(s, e, dir_len) || !gitrepo_filtered(f, s->path))
			continue;
		if (!read) {
			gs_buf_reset(blob);
			if ((ret = gitrepo_read_blob(f, &e->id, blob)))
				break;
			read = true;
		}
		secrets_release(&secrets);
		gs_buf_init(&version, true);
		if (!(ret = gitrepo_read_blob(f, &s->id, &version)) &&
		    !(ret = collect_blob(f, s->path, &version, &secrets))) {
			gs_buf_reset(&version);
			if (!(ret = gitrepo_head_blob(f, s->path, &version, &found)) && found)
				ret = collect_blob(f, s->path, &version, &secrets);
		}
		gs_buf_release(&version);
		for (size_t v = 0; v < secrets.count && !ret && !from; v++)
			if (holds((const char *)blob->data, blob->len, secrets.values[v], secrets.lens[v]))
				from = s->path;
	}
	if (from)
		ret = add_finding(fs, e->path,
				  "it holds secrets of '%s', which is encrypted: remove this copy (git mergetool keeps "
				  "FILE.orig unless mergetool.keepBackup is false), or keep it under the filter's "
				  "pattern (see .gitattributes)",
				  gs_shown(from));
	secrets_release(&secrets);
	return ret;
}

/* ---- files copied out of the pattern ---- */

/* Whether the work tree's copy of s is staged at e (read into staged when
 * first needed), s is under the pattern and the index holds it sealed: a
 * plaintext copied out. The attributes are looked up only for the same
 * bytes. */
static int copy_of(struct gitfilter *f, const git_index_entry *e, const git_index_entry *s, struct gs_buf *staged,
		   bool *yes)
{
	struct gs_buf plain, sealed;
	char path[PATH_MAX];
	struct stat st;
	struct doc d;
	int ret;

	*yes = false;
	if ((size_t)snprintf(path, sizeof(path), "%s%s", f->workdir, s->path) >= sizeof(path) || lstat(path, &st) ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size != e->file_size)
		return 0;
	if (!staged->len && (ret = gitrepo_read_blob(f, &e->id, staged)))
		return ret;
	gs_buf_init(&plain, true);
	gs_buf_init(&sealed, false);
	if (gs_read_file(path, &plain, staged->len) || plain.len != staged->len ||
	    memcmp(plain.data, staged->data, staged->len)) {
		gs_error_clear();
		ret = 0;
		goto out;
	}
	if (!gitrepo_filtered(f, s->path))
		goto out;
	if ((ret = gitrepo_read_blob(f, &s->id, &sealed)) ||
	    (ret = gitseal_load_sealed(store_format_for_path(s->path), sealed.data, sealed.len, &d)) < 0)
		goto out;
	doc_release(&d);
	/* sealed in the index, and the work tree holds its plaintext (not, in
	 * a clone without a key, the ciphertext as committed) */
	*yes = ret == 1 && !(sealed.len == plain.len && !memcmp(sealed.data, plain.data, plain.len));
	ret = 0;
out:
	gs_buf_release(&plain);
	gs_buf_release(&sealed);
	return ret;
}

/* The staged files outside the pattern the next commit changes, by their
 * position in the index (gitfilter_check's loop gathers them). */
struct outside {
	size_t *at;
	size_t count;
};

static int outside_add(struct outside *o, size_t i)
{
	size_t *grown = gs_realloc(o->at, (o->count + 1) * sizeof(*grown));

	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	o->at = grown;
	o->at[o->count++] = i;
	return 0;
}

static int position_order(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static int size_order(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* ---- copies of sealed versions the work tree does not hold ---- */

/* At most this many sealed versions are opened a check: a commit checked
 * long after it was made (a branch pushed late) differs from the work tree
 * in every sealed file changed since. */
enum { COPY_VERSIONS_MAX = 64 };

struct versions {
	const struct outside *o;
	const git_index_entry **from;
	struct gs_buf blob, plain, staged;
	size_t opened, passed; /* versions opened; those left unopened past the limit */
};

/* The plaintext of a sealed version (blob id) of s's path, compared with
 * each staged file outside the pattern of its size not found yet. */
static int version_copies(struct gitfilter *f, git_index *idx, struct versions *v, const git_index_entry *s,
			  const git_oid *id)
{
	struct doc cipher;
	int ret;

	if (v->opened == COPY_VERSIONS_MAX) {
		v->passed++;
		return 0;
	}
	gs_buf_reset(&v->blob);
	gs_buf_reset(&v->plain);
	if ((ret = gitrepo_read_blob(f, id, &v->blob)) ||
	    (ret = gitseal_load_sealed(store_format_for_path(s->path), v->blob.data, v->blob.len, &cipher)) <= 0) {
		if (ret == 0)
			doc_release(&cipher);
		return ret;
	}
	ret = 0;
	v->opened++;
	/* a version no key of this clone opens holds nothing to find */
	ret = gitseal_open_text_doc(f, &cipher, &v->plain);
	doc_release(&cipher);
	if (ret) {
		gs_error_clear();
		return 0;
	}
	for (size_t j = 0; j < v->o->count && !ret; j++) {
		const git_index_entry *e = git_index_get_byindex(idx, v->o->at[j]);

		if (v->from[j] || e->file_size != v->plain.len)
			continue;
		gs_buf_reset(&v->staged);
		if (!(ret = gitrepo_read_blob(f, &e->id, &v->staged)) && v->staged.len == v->plain.len &&
		    !memcmp(v->staged.data, v->plain.data, v->plain.len))
			v->from[j] = s;
	}
	return ret;
}

/* The sealed versions whose plaintext the work tree does not hold, and a
 * copy of which copy_of cannot find: HEAD's (a commit's parent's) version
 * of a sealed file the commit changes (changed: their positions in idx;
 * `cp secrets/app.yaml app.bak`, then an edit of the secret), and for check
 * --commits the commit's own version of a file the work tree holds
 * otherwise now. Opened with this clone's keys. */
static int check_copied_versions(struct gitfilter *f, git_index *idx, const struct outside *o,
				 const struct outside *changed, const git_index_entry **from)
{
	struct versions v = { o, from, { 0 }, { 0 }, { 0 }, 0, 0 };
	git_tree *head = gitrepo_head_tree(f);
	git_index *repo_idx = NULL;
	git_tree_entry *te = NULL;
	int ret = 0;

	if (!gitfilter_identities(f))
		return 0;
	/* a commit's tree: the work tree holds the index's versions */
	if (*f->head_name && git_repository_index(&repo_idx, f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	gs_buf_init(&v.blob, false);
	gs_buf_init(&v.plain, true);
	gs_buf_init(&v.staged, true);
	for (size_t k = 0; head && k < changed->count && !ret; k++) {
		const git_index_entry *s = git_index_get_byindex(idx, changed->at[k]);

		if (!git_tree_entry_bypath(&te, head, s->path)) {
			if (git_tree_entry_type(te) == GIT_OBJECT_BLOB)
				ret = version_copies(f, idx, &v, s, git_tree_entry_id(te));
			git_tree_entry_free(te);
			te = NULL;
		}
		git_error_clear();
	}
	for (size_t i = 0; repo_idx && i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *s = git_index_get_byindex(idx, i), *w;

		if (git_index_entry_stage(s) == 0 && (s->mode & 0170000) == 0100000 &&
		    (!(w = git_index_get_bypath(repo_idx, s->path, 0)) || !git_oid_equal(&w->id, &s->id)) &&
		    gitrepo_filtered(f, s->path))
			ret = version_copies(f, idx, &v, s, &s->id);
	}
	if (!ret && v.passed)
		gs_warn("%zu sealed version(s) not searched for copies outside the filter's pattern: at most %d are "
			"opened a check", v.passed, COPY_VERSIONS_MAX);
	git_index_free(repo_idx);
	gs_buf_release(&v.blob);
	gs_buf_release(&v.plain);
	gs_buf_release(&v.staged);
	return ret;
}

/* Staged files outside the pattern whose bytes are a sealed file's
 * plaintext in the work tree: `cp secrets/app.yaml config/`, where `git mv`
 * is a move (check_moved_out). Compared whole, so no value a file shares by
 * chance with one of the pattern refuses anything. The index's sizes come
 * first: an entry's work tree copy is read only when its size is one a
 * changed file outside has (those files aside: o->at is in index order). */
static int check_copied_out(struct gitfilter *f, git_index *idx, const struct outside *o, const struct outside *changed,
			    struct gitfilter_findings *fs)
{
	const git_index_entry **from = NULL;
	uint32_t *sizes = NULL;
	struct gs_buf staged;
	int ret = 0;

	if (!o->count || !f->workdir)
		return 0;
	sizes = gs_calloc(o->count, sizeof(*sizes));
	from = sizes ? gs_calloc(o->count, sizeof(*from)) : NULL;
	if (!from) {
		free(sizes);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	for (size_t j = 0; j < o->count; j++)
		sizes[j] = git_index_get_byindex(idx, o->at[j])->file_size;
	qsort(sizes, o->count, sizeof(*sizes), size_order);
	gs_buf_init(&staged, true);
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *s = git_index_get_byindex(idx, i);
		uint32_t size = s->file_size;

		/* one of the files outside itself is no file of the pattern */
		if (git_index_entry_stage(s) != 0 || (s->mode & 0170000) != 0100000 || size < GS_SECRET_MIN_LEN ||
		    !bsearch(&size, sizes, o->count, sizeof(*sizes), size_order) ||
		    bsearch(&i, o->at, o->count, sizeof(*o->at), position_order))
			continue;
		for (size_t j = 0; j < o->count && !ret; j++) {
			const git_index_entry *e = git_index_get_byindex(idx, o->at[j]);
			bool yes;

			if (from[j] || e->file_size != size)
				continue;
			gs_buf_reset(&staged);
			if (!(ret = copy_of(f, e, s, &staged, &yes)) && yes)
				from[j] = s;
		}
	}
	gs_buf_release(&staged);
	if (!ret)
		ret = check_copied_versions(f, idx, o, changed, from);
	for (size_t j = 0; j < o->count && !ret; j++)
		if (from[j])
			ret = add_finding(fs, git_index_get_byindex(idx, o->at[j])->path,
					  "it is a copy of the plaintext of '%s', which is encrypted; keep it under the "
					  "filter's pattern (see .gitattributes)", gs_shown(from[j]->path));
	free(sizes);
	free(from);
	return ret;
}

/* ---- files written through a link under the pattern ---- */

/* The links of the index under the pattern that lead to a path of the
 * repository the pattern does not cover, read once when first needed. */
struct link_targets {
	bool read;
	char **targets, **links;
	size_t count, cap;
};

static void link_targets_release(struct link_targets *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->targets[i]);
		free(t->links[i]);
	}
	free(t->targets);
	free(t->links);
}

static int link_targets_read(struct gitfilter *f, git_index *idx, struct link_targets *t)
{
	char target[PATH_MAX];
	int ret = 0;

	t->read = true;
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		enum gitfilter_link where;

		if ((e->mode & 0170000) != 0120000 || git_index_entry_stage(e) != 0 ||
		    (ret = gitfilter_link_where(f, idx, e, target, sizeof(target), &where)) || where != GITFILTER_LINK_UNSEALED)
			continue;
		if (t->count == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 8;
			char **a = gs_realloc(t->targets, cap * sizeof(*a)), **b;

			if (a)
				t->targets = a;
			if (!a || !(b = gs_realloc(t->links, cap * sizeof(*b))))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			t->links = b;
			t->cap = cap;
		}
		if (!(t->targets[t->count] = gs_strdup(target)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		if (!(t->links[t->count] = gs_strdup(e->path))) {
			free(t->targets[t->count]);
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		t->count++;
	}
	return ret;
}

/* A staged file outside the pattern that a link under it leads to (a pull
 * request's secrets/payments.yaml -> ../config/payments-template.yaml):
 * what the user typed into the secrets file is committed in clear here. */
static int check_link_target(struct gitfilter *f, git_index *idx, const git_index_entry *e, struct link_targets *t,
			     struct gitfilter_findings *fs)
{
	int ret;

	if (!t->read && (ret = link_targets_read(f, idx, t)))
		return ret;
	for (size_t i = 0; i < t->count; i++) {
		size_t n = strlen(t->targets[i]);

		/* the file, or one below it (a link to a directory) */
		if (strncmp(t->targets[i], e->path, n) || (e->path[n] && e->path[n] != '/'))
			continue;
		return add_finding(fs, e->path, "it is written through '%s', a symbolic link under the filter's "
						"pattern: what is typed there is committed in clear here; remove the "
						"link, point it at a file under the pattern, or add '%s -filter' to "
						".git/info/attributes if nothing secret is written through it",
				   gs_shown(t->links[i]), gs_shown(t->links[i]));
	}
	return 0;
}

/* A submodule staged at e whose commit differs from HEAD's: a finding when
 * its path is under the pattern, or when its commit (read from its own
 * repository, when checked out) holds a file the pattern covers. */
static int submodule_finding(struct gitfilter *f, const git_index_entry *e, struct gitfilter_findings *fs)
{
	char path[PATH_MAX];

	if (gitrepo_filtered(f, e->path))
		return add_finding(fs, e->path, GITFILTER_SUBMODULE, gs_shown(e->path), gs_shown(e->path));
	if (!gitfilter_submodule_covered(f, e->path, &e->id, path, sizeof(path)))
		return 0;
	return add_finding(fs, e->path, GITFILTER_SUBMODULE_HOLDING, gs_shown(path), gs_shown(e->path));
}

/* marked as a submodule's (git add seals none of its files) */
static int check_submodule(struct gitfilter *f, const git_index_entry *e, struct gitfilter_findings *fs)
{
	size_t before = fs->count;
	int ret = submodule_finding(f, e, fs);

	if (fs->count > before)
		fs->items[before].submodule = true;
	return ret;
}

int gitfilter_check_index(struct gitfilter *f, git_index *idx, struct gitfilter_findings *fs)
{
	struct outside outside = { 0 }, sealed_changed = { 0 };
	struct link_targets links = { 0 };
	struct head_attrs head_attrs = { 0 };
	struct gs_buf blob;
	int ret = 0;

	gs_buf_init(&blob, true); /* the blobs it reads may be staged plaintext */
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		/* what the next commit changes: a blob HEAD holds was checked
		 * when it was committed (a hook over every file of a large
		 * repository would make each commit slow) */
		if (git_index_entry_stage(e) != 0 || gitrepo_head_same(f, e->path, &e->id))
			continue;
		/* git runs no filter in a submodule: another repository, with
		 * attributes and a config of its own, where its files are
		 * committed in clear (a pull request can turn a directory under
		 * the pattern into one, pointing at a repository of its own) */
		if ((e->mode & 0170000) == 0160000) {
			ret = check_submodule(f, e, fs);
			continue;
		}
		/* nor on a link (git stores its text): only files are sealed */
		if ((e->mode & 0170000) != 0100000)
			continue;
		gs_buf_reset(&blob);
		if (!gitrepo_filtered(f, e->path)) {
			size_t before = fs->count;
			bool was_filtered;

			if ((ret = filtered_in_head(f, &head_attrs, e->path, &was_filtered)))
				break;
			if (was_filtered) {
				ret = check_filter_dropped(f, e, &blob, fs);
				continue;
			}
			/* one finding a file: a copy beside a sealed file, else
			 * gathered for the copies of plaintext (after the loop) */
			if (!(ret = check_link_target(f, idx, e, &links, fs)) &&
			    !(ret = check_unfiltered(f, e, &blob, fs)) && fs->count == before &&
			    !(ret = check_beside(f, idx, e, &blob, fs)) && fs->count == before &&
			    e->file_size >= GS_SECRET_MIN_LEN)
				ret = outside_add(&outside, i);
		} else if (!(ret = gitrepo_read_blob(f, &e->id, &blob)) && !(ret = check_filtered(f, e->path, &blob, fs))) {
			ret = outside_add(&sealed_changed, i);
		}
	}
	if (!ret && !(ret = check_moved_out(f, idx, fs)))
		ret = check_copied_out(f, idx, &outside, &sealed_changed, fs);
	link_targets_release(&links);
	head_attrs_release(&head_attrs);
	free(outside.at);
	free(sealed_changed.at);
	gs_buf_release(&blob);
	return ret;
}

int gitfilter_check_run(const char *start_dir, gitfilter_check_fn *run, const void *ctx,
			struct gitfilter_findings *fs)
{
	struct gitfilter *f = NULL;
	int ret;

	memset(fs, 0, sizeof(*fs));
	if ((ret = gitfilter_open(start_dir, &f)))
		return ret;
	if ((ret = run(f, ctx, fs)))
		gitfilter_findings_release(fs);
	gitfilter_free(f);
	return ret;
}

static int check_staged(struct gitfilter *f, const void *ctx, struct gitfilter_findings *fs)
{
	git_index *idx = NULL;
	int ret;

	(void)ctx;
	if ((ret = gitfilter_warn_pins(f)))
		return ret;
	/* git commit -a and git commit FILE stage into an index of their own,
	 * which they name to the pre-commit hook: the one the commit is made of */
	if ((getenv("GIT_INDEX_FILE") && *getenv("GIT_INDEX_FILE") ? git_index_open(&idx, getenv("GIT_INDEX_FILE"))
								  : git_repository_index(&idx, f->repo)) < 0)
		return gitrepo_fail("cannot open the index");
	ret = gitfilter_check_index(f, idx, fs);
	git_index_free(idx);
	return ret;
}

int gitfilter_check(const char *start_dir, struct gitfilter_findings *fs)
{
	return gitfilter_check_run(start_dir, check_staged, NULL, fs);
}
