/* clean and smudge for one repository, opened once per process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/config.h"
#include "gitseal/dynlib.h"
#include "gitseal/error.h"
#include "gitseal/gitfilter.h"
#include "gitseal/proc.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "git_int.h"
#include "gitfilter_int.h"


int gitrepo_fail(const char *what)
{
	const git_error *e = git_error_last();

	/* libgit2 says "Out of memory"; gitseal's word for it is the same for
	 * every cause */
	if (e && e->klass == GIT_ERROR_NOMEMORY)
		return GS_FAIL(GS_ERR_NOMEM, "%s: out of memory", what);
	/* libgit2's messages quote paths and names it read (no way found for a
	 * repository to reach one, but they are its text): shown as names are */
	return GS_FAIL(GS_ERR_IO, "%s: %s", what, e && e->message ? gs_shown(e->message) : "libgit2 error");
}

static int make_statedir(struct gitfilter *f)
{
	const char *common = git_repository_commondir(f->repo);
	size_t n = strlen(common);

	if (!(f->statedir = gs_malloc(n + sizeof("/gitseal/"))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(f->statedir, common, n);
	strcpy(f->statedir + n, n && common[n - 1] == '/' ? "gitseal/" : "/gitseal/");
	return 0;
}

/* Under extensions.worktreeConfig (set by `git sparse-checkout`) git reads
 * the work tree's config.worktree after the repository's config, which
 * libgit2 1.5 does not: added to the repository's config above it, so
 * that core.autocrlf and the filter's keys set there (`git config
 * --worktree`) are read as git reads them. */
static int add_worktree_config(struct gitfilter *f)
{
	git_config *cfg = NULL;
	git_config_entry *e = NULL;
	char path[PATH_MAX];
	bool on;
	int ret = 0;

	if (git_repository_config(&cfg, f->repo) < 0)
		return gitrepo_fail("cannot read the git config");
	on = git_config_get_entry(&e, cfg, "extensions.worktreeconfig") == 0 && gitrepo_config_true(e->value);
	git_error_clear();
	git_config_entry_free(e);
	if (on && (size_t)snprintf(path, sizeof(path), "%sconfig.worktree", git_repository_path(f->repo)) >= sizeof(path))
		ret = GS_FAIL(GS_ERR_IO, "config.worktree: path too long");
	else if (on && access(path, F_OK) == 0 &&
		 git_config_add_file_ondisk(cfg, path, GIT_CONFIG_LEVEL_APP, f->repo, 0) < 0)
		ret = gitrepo_fail("cannot read config.worktree");
	git_config_free(cfg);
	return ret;
}

int gitfilter_open(const char *start_dir, struct gitfilter **out)
{
	struct gitfilter *f = gs_calloc(1, sizeof(*f));
	const char *wd;
	int ret;

	if (!f)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&f->smudged_lock, NULL);
	f->index_fd = -1;
	/* no repository (textconv, once per file of a `git log -p`): no
	 * libgit2, whose start-up reads the system's CA certificates */
	if (!start_dir) {
		*out = f;
		return 0;
	}
	ret = gitfilter_libgit2_load();
	if (ret) {
		free(f);
		return ret;
	}
	/* out of memory, libgit2's setup fails (and what it set up is undone
	 * by the shutdown); its functions must not be called then */
	if (git_libgit2_init() < 0) {
		ret = gitrepo_fail("cannot set up libgit2");
		git_libgit2_shutdown();
		free(f);
		return ret;
	}
	f->libgit2_ready = true;
	if (git_repository_open_ext(&f->repo, start_dir, 0, NULL) < 0) {
		ret = gitrepo_fail("cannot open the git repository");
		goto fail;
	}
	if ((ret = add_worktree_config(f)))
		goto fail;
	wd = git_repository_workdir(f->repo);
	if (!wd) {
		ret = GS_FAIL(GS_ERR_USAGE, "the repository has no work tree");
		goto fail;
	}
	f->workdir = gs_strdup(wd);
	if (!f->workdir) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((ret = make_statedir(f)))
		goto fail;
	*out = f;
	return 0;
fail:
	gitfilter_free(f);
	return ret;
}

void gitfilter_free(struct gitfilter *f)
{
	if (!f)
		return;
	if (f->config)
		sops_config_free(f->config);
	gittrust_release(&f->trust);
	githistory_free(f->history);
	githolders_free(f->holders);
	gitattrs_end(f);
	age_identity_list_release(&f->ids);
	if (f->libgit2_ready) {
		gitrepo_test_log_cache();
		git_tree_free(f->head_dir);
		git_object_free(f->head_tree);
		git_index_free(f->index);
		git_repository_free(f->repo);
	}
	if (f->index_fd >= 0)
		close(f->index_fd);
	free(f->head_dir_path);
	free(f->workdir);
	free(f->statedir);
	free(f->config_error);
	free(f->ids_error);
	for (size_t i = 0; i < f->id_recipient_count; i++)
		free(f->id_recipients[i]);
	free(f->id_recipients);
	for (size_t i = 0; i < GITFILTER_SMUDGED_KEEP; i++) {
		free(f->smudged[i].path);
		free(f->smudged[i].blob);
		free(f->cleaned[i].path);
		free(f->cleaned[i].blob);
	}
	gs_secure_free(f->memo_key);
	pthread_mutex_destroy(&f->smudged_lock);
	if (f->libgit2_ready)
		git_libgit2_shutdown();
	free(f);
}

const char *gitfilter_workdir(const struct gitfilter *f)
{
	return f->workdir;
}

void gitfilter_prepare(struct gitfilter *f)
{
	/* every sops file needs it (the values' AES-GCM), and with it loaded
	 * the age headers' HMACs take OpenSSL's SHA-256 (gitseal/hmac.h) from
	 * the first file on */
	if (gs_libcrypto_load())
		gs_error_clear();
	(void)gitfilter_identities(f);
	/* a failure is loaded again where it is needed (gittrust_load takes
	 * one thread at a time) */
	if (f->statedir && gittrust_load(f))
		gs_error_clear();
}

bool gitfilter_is_sops(enum doc_format format, const uint8_t *data, size_t len)
{
	struct doc d;
	bool yes = gitseal_load_sealed(format, data, len, &d) == 1;

	doc_release(&d);
	return yes;
}

/* Loaded once; why none could be loaded is kept for the warning. */
const struct age_identity_list *gitfilter_identities(struct gitfilter *f)
{
	if (!f->ids_tried) {
		f->ids_tried = true;
		if ((f->ids_code = sops_identities_load(&f->ids)) != 0) {
			f->ids_error = gs_strdup(gs_error_message());
			age_identity_list_release(&f->ids);
			f->ids = (struct age_identity_list){ 0 };
		}
	}
	return f->ids.count ? &f->ids : NULL;
}

int gitrepo_config_path(struct gitfilter *f, char *path, size_t size)
{
	struct stat st;

	if (!f->workdir)
		return GS_FAIL(GS_ERR_CONFIG, "not in a git work tree");
	if ((size_t)snprintf(path, size, "%s.sops.yaml", f->workdir) >= size)
		return GS_FAIL(GS_ERR_LIMIT, "work tree path too long");
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? GS_FAIL(GS_ERR_NOT_FOUND, "no .sops.yaml at the repository root '%s'",
						 gs_shown(f->workdir))
				       : GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(path), strerror(errno));
	if (!S_ISREG(st.st_mode))
		return GS_FAIL(GS_ERR_CONFIG, "'.sops.yaml' at the repository root is not a regular file (%s): the "
			       "repository's rules must be a file in it",
			       S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory"
											: "a special file");
	return 0;
}

int gitfilter_config(struct gitfilter *f, const struct sops_config **out)
{
	char path[PATH_MAX];
	int found;

	if (!f->config_tried) {
		f->config_tried = true;
		/* none is a configuration error here (updatekeys tells it apart) */
		if ((found = gitrepo_config_path(f, path, sizeof(path))) == GS_ERR_NOT_FOUND)
			gs_error_set(GS_ERR_CONFIG, "no .sops.yaml at the repository root '%s'", gs_shown(f->workdir));
		else if (found == 0 && sops_config_load(path, &f->config) == 0) {
			*out = f->config;
			return 0;
		}
		f->config_code = gs_error_code();
		f->config_error = gs_strdup(gs_error_message());
	}
	if (f->config) {
		*out = f->config;
		return 0;
	}
	return GS_FAIL(f->config_code ? f->config_code : GS_ERR_CONFIG, "%s",
		       f->config_error ? f->config_error : "cannot load .sops.yaml");
}

#ifdef GITSEAL_TEST_HOOKS
void gitrepo_test_count(const char *variable, const char *what)
{
	const char *path = getenv(variable);
	FILE *log = path && *path ? fopen(path, "a") : NULL;

	if (log) {
		fprintf(log, "%s\n", what);
		fclose(log);
	}
}
#endif

/* A blob a partial clone lacks (init after `git clone --no-checkout
 * --filter=blob:none` reads HEAD's .gitattributes and files), fetched as
 * git fetches it: libgit2 knows no promisor remote (git 2.39 marks one
 * by remote.NAME.promisor, other versions by extensions.partialClone), so
 * git is asked on a miss, which elsewhere only a damaged repository has.
 * 0 once git has it. */
static int fetch_promised(struct gitfilter *f, const git_oid *id)
{
	char hex[2 * GIT_OID_RAWSZ + 1], gitdir[PATH_MAX + 16];
	char *argv[] = { "git", gitdir, "cat-file", "-e", hex, NULL };
	int devnull, status = -1;
	pid_t pid;

	if ((size_t)snprintf(gitdir, sizeof(gitdir), "--git-dir=%s", git_repository_path(f->repo)) >= sizeof(gitdir))
		return -1;
	sodium_bin2hex(hex, sizeof(hex), id->id, GIT_OID_RAWSZ);
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (gitrepo_spawn(argv, -1, devnull, NULL, &pid) == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	close(devnull);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int read_blob(struct gitfilter *f, const git_oid *id, bool fetch, struct gs_buf *out)
{
	git_blob *blob = NULL;
	int ret = 0, rc;

	gitrepo_test_count("GITSEAL_TEST_BLOB_LOG", "blob");
	rc = git_blob_lookup(&blob, f->repo, id);
	if (rc == GIT_ENOTFOUND && fetch && fetch_promised(f, id) == 0)
		rc = git_blob_lookup(&blob, f->repo, id);
	if (rc < 0)
		return gitrepo_fail("cannot read a blob");
	ret = gs_buf_append(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return ret;
}

int gitrepo_read_blob(struct gitfilter *f, const git_oid *id, struct gs_buf *out)
{
	return read_blob(f, id, true, out);
}

int gitrepo_read_blob_held(struct gitfilter *f, const git_oid *id, struct gs_buf *out)
{
	return read_blob(f, id, false, out);
}

git_tree *gitrepo_head_tree(struct gitfilter *f)
{
	git_object *obj;

	/* HEAD does not move while one git command runs its filter; if it did
	 * (a rebase), a stale tree only means less reuse, never a wrong value */
	if (f->repo && !f->head_tried) {
		f->head_tried = true;
		if (git_revparse_single(&obj, f->repo, "HEAD^{tree}") < 0)
			git_error_clear(); /* unborn branch */
		else
			f->head_tree = obj;
	}
	return (git_tree *)f->head_tree;
}

void gitrepo_head_set(struct gitfilter *f, git_tree *tree)
{
	git_tree_free(f->head_dir);
	free(f->head_dir_path);
	f->head_dir = NULL;
	f->head_dir_path = NULL;
	git_object_free(f->head_tree);
	f->head_tree = (git_object *)tree;
	f->head_tried = true;
}

/* HEAD's tree of the directory of path (borrowed), or NULL. The last one
 * is kept: git hands a directory's files in a row, and loading a tree of
 * thousands of entries again for each of them costs more than the rest of
 * the clean. */
static git_tree *head_dir(struct gitfilter *f, const char *path, const char **name)
{
	git_tree *root = gitrepo_head_tree(f);
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	git_tree_entry *te = NULL;
	char *dir;

	*name = slash ? slash + 1 : path;
	if (!root || !dlen)
		return root;
	if (f->head_dir_path && strlen(f->head_dir_path) == dlen && !memcmp(f->head_dir_path, path, dlen))
		return f->head_dir;
	git_tree_free(f->head_dir);
	free(f->head_dir_path);
	f->head_dir = NULL;
	f->head_dir_path = NULL;
	if (!(dir = gs_strndup(path, dlen)))
		return NULL;
	if (git_tree_entry_bypath(&te, root, dir) == 0 && git_tree_entry_type(te) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&f->head_dir, f->repo, git_tree_entry_id(te)) == 0) {
		f->head_dir_path = dir;
	} else {
		free(dir);
		f->head_dir = NULL;
	}
	git_error_clear();
	git_tree_entry_free(te);
	return f->head_dir;
}

bool gitrepo_head_same(struct gitfilter *f, const char *path, const git_oid *id)
{
	const git_tree_entry *te;
	const char *name;
	git_tree *dir = head_dir(f, path, &name);

	te = dir ? git_tree_entry_byname(dir, name) : NULL;
	/* a file's blob, or a submodule's commit */
	return te && (git_tree_entry_type(te) == GIT_OBJECT_BLOB || git_tree_entry_type(te) == GIT_OBJECT_COMMIT) &&
	       git_oid_equal(git_tree_entry_id(te), id);
}

int gitrepo_head_blob(struct gitfilter *f, const char *path, struct gs_buf *out, bool *found)
{
	const git_tree_entry *te;
	const char *name;
	git_tree *dir = head_dir(f, path, &name);
	int ret = 0;

	*found = false;
	if (!dir)
		return 0;
	te = git_tree_entry_byname(dir, name);
	if (te && git_tree_entry_type(te) == GIT_OBJECT_BLOB) {
		ret = gitrepo_read_blob(f, git_tree_entry_id(te), out);
		*found = !ret;
	}
	return ret;
}

bool gitrepo_head_is_link(struct gitfilter *f, const char *path)
{
	const char *name;
	git_tree *dir = head_dir(f, path, &name);
	const git_tree_entry *te = dir ? git_tree_entry_byname(dir, name) : NULL;

	return te && git_tree_entry_filemode(te) == GIT_FILEMODE_LINK;
}

bool gitrepo_has_committed(struct gitfilter *f, const char *path)
{
	const git_tree_entry *te;
	const char *name;
	git_tree *dir;

	/* unknown counts as held: the caller then waits for git. The index
	 * as gitrepo_committed read it for this request, not checked again:
	 * the answer only plans work ahead, asked again of a fresh index when
	 * git sends the file */
	if (!f->repo || !f->index)
		return true;
	if (git_index_get_bypath(f->index, path, 0))
		return true;
	dir = head_dir(f, path, &name);
	te = dir ? git_tree_entry_byname(dir, name) : NULL;
	return te != NULL;
}

/* A conflicted path (index stages 2 and 3) whose keys theirs changed:
 * theirs' version into out (*found), as the merge driver seals a clean
 * merge for them; else nothing. */
static int conflict_theirs(struct gitfilter *f, const char *path, struct gs_buf *out, bool *found)
{
	struct gs_buf blob[3];
	const struct gs_buf *have[3] = { NULL, NULL, NULL };
	int ret = 0;

	for (int i = 0; i < 3; i++)
		gs_buf_init(&blob[i], true);
	for (int i = 0; i < 3 && !ret; i++) {
		const git_index_entry *e = git_index_get_bypath(f->index, path, i + 1);

		if (e && !(ret = gitrepo_read_blob(f, &e->id, &blob[i])))
			have[i] = &blob[i];
	}
	if (!ret && have[1] && have[2] && gitfilter_conflict_takes_theirs(f, path, have)) {
		ret = gs_buf_append(out, blob[2].data, blob[2].len);
		*found = !ret;
	}
	for (int i = 0; i < 3; i++)
		gs_buf_release(&blob[i]);
	return ret;
}

/* The same inode, and (for file systems that make inode numbers up) the
 * same size and times. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* f->index as the index file is now. git_index_read checks the file at
 * every call (six system calls: a tenth of the main thread's time in a
 * `git add` of new files, while git waits). git and libgit2 never write
 * an index in place: they write a lock file and rename it over the index,
 * a new inode; and the descriptor held open on the file last read keeps
 * its inode number from going to another file. So while the index path
 * names the held inode (and its size and times are the same), the index
 * is the one read: one stat. Held before libgit2 reads: a file renamed
 * over it in between is read now and seen as new at the next call, read
 * again then. */
static int index_refresh(struct gitfilter *f)
{
	const char *path = git_index_path(f->index);
	struct stat now;

	if (path && f->index_fd >= 0 && !stat(path, &now) && same_file(&now, &f->index_st))
		return 0;
	if (f->index_fd >= 0)
		close(f->index_fd);
	f->index_fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (f->index_fd >= 0 && fstat(f->index_fd, &now) == 0) {
		f->index_st = now;
	} else if (f->index_fd >= 0) {
		close(f->index_fd);
		f->index_fd = -1;
	}
	f->index_reads++;
	if (git_index_read(f->index, 0) < 0) {
		if (f->index_fd >= 0)
			close(f->index_fd);
		f->index_fd = -1;
		return -1;
	}
	return 0;
}

int gitrepo_index_now(struct gitfilter *f)
{
	if (!f->index && git_repository_index(&f->index, f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	/* git may have rewritten the index since the last file */
	if (index_refresh(f) < 0)
		return gitrepo_fail("cannot read the index");
	return 0;
}

int gitrepo_committed(struct gitfilter *f, const char *path, struct gs_buf *out, bool *found)
{
	const git_index_entry *e;
	int ret;

	*found = false;
	if (!f->repo)
		return 0;
	if ((ret = gitrepo_index_now(f)))
		return ret;
	e = git_index_get_bypath(f->index, path, 0);
	if (e) {
		ret = gitrepo_read_blob(f, &e->id, out);
		*found = !ret;
		return ret;
	}
	/* a new file's three failed lookups of stages 1-3 each format a
	 * libgit2 error (about 1 K instructions): none in an index without a
	 * conflict, which libgit2 tells by a walk of every entry, once per read
	 * (in this process conflicts are only ever resolved) */
	if (f->conflicts_read != f->index_reads) {
		f->conflicts_read = f->index_reads;
		f->index_conflicted = git_index_has_conflicts(f->index);
	}
	if (f->index_conflicted && ((ret = conflict_theirs(f, path, out, found)) || *found))
		return ret;
	return gitrepo_head_blob(f, path, out, found);
}

bool gitrepo_filtered(struct gitfilter *f, const char *path)
{
	const char *value = NULL;

	if (git_attr_get(&value, f->repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "filter") < 0) {
		git_error_clear();
		return false;
	}
	return git_attr_value(value) == GIT_ATTR_VALUE_STRING && !strcmp(value, "gitseal");
}

bool gitfilter_configured(struct gitfilter *f)
{
	git_config *cfg = NULL;
	git_config_entry *e = NULL;
	bool yes;

	if (!f->repo || git_repository_config(&cfg, f->repo) < 0) {
		git_error_clear();
		return false;
	}
	yes = git_config_get_entry(&e, cfg, "filter.gitseal.process") == 0;
	git_error_clear();
	git_config_entry_free(e);
	git_config_free(cfg);
	return yes;
}

/* Whether outer's index holds a submodule at rel. */
static bool holds_submodule(struct gitfilter *outer, const char *rel)
{
	const git_index_entry *e;

	if (!outer->index && git_repository_index(&outer->index, outer->repo) < 0) {
		git_error_clear();
		return false;
	}
	e = git_index_get_bypath(outer->index, rel, 0);
	return e && (e->mode & 0170000) == 0160000;
}

int gitfilter_open_configured(const char *start_dir, struct gitfilter **out)
{
	struct gitfilter *f = NULL, *outer = NULL;
	char inner[PATH_MAX], *slash;
	int ret;

	*out = NULL;
	if ((ret = gitfilter_open(start_dir, &f)))
		return ret;
	/* a submodule's repository has no filter, its .sops.yaml no record
	 * here: the clone it is a submodule of decides (one level at a time,
	 * for a submodule's submodules) */
	for (int depth = 0; depth < 16 && !gitfilter_configured(f); depth++) {
		size_t n = strlen(f->workdir), ol;

		if (n < 2 || n >= sizeof(inner))
			break;
		memcpy(inner, f->workdir, n - 1); /* less its final '/' */
		inner[n - 1] = '\0';
		if (!(slash = strrchr(inner, '/')) || slash == inner)
			break;
		*slash = '\0';
		if (gitfilter_open(inner, &outer)) {
			gs_error_clear();
			break;
		}
		*slash = '/';
		ol = strlen(outer->workdir);
		if (strncmp(inner, outer->workdir, ol) || !holds_submodule(outer, inner + ol))
			break;
		gitfilter_free(f);
		f = outer;
		outer = NULL;
	}
	gitfilter_free(outer);
	if (gitfilter_configured(f))
		*out = f;
	else
		gitfilter_free(f);
	return 0;
}

bool gitfilter_path_filtered(struct gitfilter *f, const char *path)
{
	return f->repo && gitrepo_filtered(f, path);
}

/* ---- the last files smudged ----
 * `git checkout -m` (git 2.39, merge-recursive) writes the merged file and
 * at once refreshes its index entry: it cleans what it wrote and aborts
 * unless that gives the merged blob back ("add_cacheinfo failed to
 * refresh"). The index on disk still holds the old branch's version, so a
 * clean would seal anew (a fresh IV and lastmodified). So the process keeps
 * the last few blobs it opened, each with a hash of its plaintext: the same
 * bytes at the same path get that blob back. That tells nothing new (the
 * blob holds those bytes, for its own keys) and the blob was opened with
 * its MAC checked. The hash never leaves the process, and is keyed
 * (gitfilter_memo_hash). */

bool gitfilter_memo_hash(struct gitfilter *f, const uint8_t *plain, size_t len,
			 uint8_t hash[static GITFILTER_PLAIN_HASH_SIZE])
{
	uint8_t *key;

	pthread_mutex_lock(&f->smudged_lock);
	if (!f->memo_key && (f->memo_key = gs_secure_alloc(crypto_generichash_KEYBYTES)))
		randombytes_buf(f->memo_key, crypto_generichash_KEYBYTES);
	key = f->memo_key;
	pthread_mutex_unlock(&f->smudged_lock);
	if (!key) {
		gs_error_clear();
		return false;
	}
	crypto_generichash(hash, GITFILTER_PLAIN_HASH_SIZE, plain, len, key, crypto_generichash_KEYBYTES);
	return true;
}

/* blob kept as the latest entry of ring (f->smudged or f->cleaned) for
 * path, with key's hashes and flag; kept at best: a blob not kept is only
 * sealed anew when cleaned. */
static void memo_keep(struct gitfilter *f, struct gitfilter_smudged *ring, size_t *next, const char *path,
		      const uint8_t *blob, size_t len, const struct gitfilter_smudged *key)
{
	struct gitfilter_smudged *s;
	char *p = gs_strdup(path);
	uint8_t *b = gs_malloc(len ? len : 1);

	if (!p || !b) {
		free(p);
		free(b);
		return;
	}
	memcpy(b, blob, len);
	pthread_mutex_lock(&f->smudged_lock);
	s = &ring[(*next)++ % GITFILTER_SMUDGED_KEEP];
	free(s->path);
	free(s->blob);
	*s = *key;
	s->path = p;
	s->blob = b;
	s->len = len;
	pthread_mutex_unlock(&f->smudged_lock);
}

/* 1 with out holding the latest blob of ring at path when its hashes and
 * flag are key's, 0 when there is none, or a negative gs_err. */
static int memo_take(struct gitfilter *f, const struct gitfilter_smudged *ring, const size_t *next,
		     const char *path, const struct gitfilter_smudged *key, struct gs_buf *out)
{
	int ret = 0;

	pthread_mutex_lock(&f->smudged_lock);
	for (size_t n = 1; n <= GITFILTER_SMUDGED_KEEP && !ret; n++) {
		const struct gitfilter_smudged *s = &ring[(*next - n) % GITFILTER_SMUDGED_KEEP];

		if (!s->path || strcmp(s->path, path))
			continue;
		if (s->reused == key->reused && !sodium_memcmp(s->plain_hash, key->plain_hash, sizeof(s->plain_hash)) &&
		    !sodium_memcmp(s->base_hash, key->base_hash, sizeof(s->base_hash)))
			ret = gs_buf_append(out, s->blob, s->len) ? GS_ERR_NOMEM : 1;
		break; /* only the latest entry of path counts */
	}
	pthread_mutex_unlock(&f->smudged_lock);
	return ret < 0 ? GS_FAIL(ret, "out of memory") : ret;
}

static void smudged_keep(struct gitfilter *f, const char *path, const uint8_t *blob, size_t len,
			 const struct gs_buf *plain)
{
	struct gitfilter_smudged key = { 0 };

	if (gitfilter_memo_hash(f, plain->data, plain->len, key.plain_hash))
		memo_keep(f, f->smudged, &f->smudged_next, path, blob, len, &key);
}

/* 1 with out holding the blob smudged last at path into exactly in, 0 when
 * there is none, or a negative gs_err. */
static int smudged_take(struct gitfilter *f, const char *path, const uint8_t *in, size_t len, struct gs_buf *out)
{
	struct gitfilter_smudged key = { 0 };

	if (!gitfilter_memo_hash(f, in, len, key.plain_hash))
		return 0;
	return memo_take(f, f->smudged, &f->smudged_next, path, &key, out);
}

/* ---- the last changes sealed ----
 * git cleans a changed file twice in one command where it both names its
 * blob and reads it: `git diff --no-textconv --binary` takes the index
 * line from one clean and the delta from the other. Each seal of a change
 * takes fresh IVs, so the patch named a blob its delta did not make and
 * `git apply` refused it ("creates incorrect result"). So the process
 * keeps the last few seals of a committed file's change: the same bytes at
 * the same path, against the same committed version (base) and with its
 * data key re-used or not as then, get that blob again, once every check
 * of the clean has passed again (the hashes never leave the process). */

/* false: no key for the hashes (out of secure memory): no memo */
static bool cleaned_key(struct gitfilter *f, const struct gs_buf *base, bool reused, const uint8_t *plain,
			size_t len, struct gitfilter_smudged *key)
{
	memset(key, 0, sizeof(*key));
	key->reused = reused;
	return gitfilter_memo_hash(f, plain, len, key->plain_hash) &&
	       gitfilter_memo_hash(f, base->data, base->len, key->base_hash);
}

/* ---- clean ---- */

/* a '<<<<<<<' line, labelled or bare (as the merge driver writes it where
 * rerere would read it) */
static bool has_conflict_markers(const uint8_t *in, size_t len)
{
	for (const uint8_t *p = in, *end = in + len; p < end;) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

		if (gitseal_conflict_marker_line(p, n, '<'))
			return true;
		p += n;
	}
	return false;
}

/* A sops file handed to clean (a clone without keys, or a file encrypted
 * by hand) passes as it is, once it is shown to be whole: its recipients
 * accepted, every value the committed version's rule seals (and its own)
 * sealed, and its MAC right when an identity opens it. */
static int clean_sealed(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, struct doc *in,
			struct doc *committed, bool committed_sealed)
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	struct sops_key_summary own, old;
	struct gs_buf plain;
	char where[256];
	bool kept = false;
	int ret;

	memset(&old, 0, sizeof(old));
	gs_buf_init(&plain, true);
	if ((ret = sops_doc_keys(in, &own)))
		return ret;
	ret = gitseal_check_accepted(f, path, &own);
	if (!ret && (ret = sops_doc_check_sealed(in, &own.selection, where, sizeof(where))))
		gs_error_set(ret, "the value at '%s' is not encrypted", gs_shown(where));
	if (!ret && committed_sealed && !(ret = sops_doc_keys(committed, &old)) &&
	    (ret = sops_doc_check_sealed(in, &old.selection, where, sizeof(where))))
		gs_error_set(ret, "the value at '%s' is in clear, but the committed version encrypts it", gs_shown(where));
	if (!ret && !committed_sealed)
		ret = gittrust_check_own_rule(f, path, in, &own, &kept);
	if (!ret && ids) {
		ret = gitseal_open_text_doc(f, in, &plain);
		/* a key that does not open it cannot check it: the checks above stand */
		if (ret == GS_ERR_NO_DATA_KEY || ret == GS_ERR_AGE_NO_MATCH) {
			gs_error_clear();
			ret = 0;
		}
	}
	/* the user's choice, for the hook to see: these bytes are what git stores */
	if (!ret && kept)
		gittrust_keep_rule(f, path, text, len);
	sops_key_summary_release(&own);
	sops_key_summary_release(&old);
	gs_buf_release(&plain);
	return ret;
}

/* The keys of an existing file are its committed version's; .sops.yaml
 * decides only for a file new to the repository. */
static int keys_for(struct gitfilter *f, const char *path, struct doc *committed, bool committed_sealed,
		    struct sops_key_summary *keys)
{
	int ret = committed_sealed ? sops_doc_keys(committed, keys) : gitseal_new_file_keys(f, path, keys);

	if (ret)
		return ret;
	return gitseal_check_accepted(f, path, keys);
}

/* The committed version, opened when an identity of ours opens it: what
 * it decrypts to, and the data key that may seal the new one. */
static struct sops_file *open_committed(struct gitfilter *f, struct doc *committed)
{
	struct sops_file *sf = NULL;

	if (gitseal_open(f, committed, &sf))
		gs_error_clear();
	return sf;
}

/* Whether the committed version decrypts to exactly these bytes: then it
 * is the answer, whatever the file's type. */
static bool committed_is_same(struct sops_file *sf, struct doc *committed, const uint8_t *in, size_t len)
{
	struct gs_buf plain;
	bool same;

	gs_buf_init(&plain, true);
	same = sf && gitseal_opened_text(sf, committed, &plain) == 0 && plain.len == len &&
	       !sodium_memcmp(plain.data, in, len);
	gs_error_clear();
	gs_buf_release(&plain);
	return same;
}

/* A key gitseal cannot wrap for (kms, ...) stays only with the data key,
 * which this clone did not make: the way out is to vouch for it. */
static int explain_foreign(const char *path, const struct sops_key_summary *keys)
{
	const char *name = NULL;

	for (size_t g = 0; g < keys->group_count && !name; g++)
		if (keys->groups[g].foreign_count)
			name = keys->groups[g].foreign[0];
	if (!name)
		return gs_error_code();
	gs_error_clear();
	return GS_FAIL(GS_ERR_UNSUPPORTED_KEY,
		       "its %s key '%s' is kept only with the file's data key, which this clone did not make: "
		       "'gitseal git trust %s' shows the file's keys and accepts it",
		       gs_shown_n(name, strcspn(name, " ")),
		       gs_shown(name + strcspn(name, " ") + (name[strcspn(name, " ")] != '\0')), gs_shown(path));
}

/* gitfilter_check_copied_key for the key of the committed version. */
static int check_copied(struct gitfilter *f, const char *path, const struct sops_file *opened,
			const struct sops_key_summary *keys)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];

	return sops_file_key_id(opened, id) ? gitfilter_check_copied_key(f, path, id, keys) : 0;
}

/* base: the committed version's blob (its keys are the file's), or NULL
 * for a file new to the repository. */
static int clean_plain(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, struct doc *in,
		       struct doc *committed, const struct gs_buf *base, struct sops_file *opened,
		       struct gs_buf *out)
{
	struct sops_key_summary keys;
	struct gitfilter_smudged memo;
	bool reuse = false, memoed;
	int ret = keys_for(f, path, committed, base != NULL, &keys);

	if (ret)
		goto out;
	/* values the committed version holds in clear under its MAC stay so */
	if (base &&
	    (ret = gittrust_check_narrowed(f, path, in, &keys, &committed,
					   opened && !keys.selection.mac_only_encrypted)))
		goto out;
	/* the committed data key only when this clone made it (a planted key is not) */
	reuse = opened && gitseal_may_reuse(f, path, opened, &keys);
	if (!reuse && opened && (ret = check_copied(f, path, opened, &keys)))
		goto out;
	/* a new file's keys come from the accepted rules, which may change
	 * between two cleans: only a committed file's seal is given again */
	memoed = base && cleaned_key(f, base, reuse, text, len, &memo);
	if (memoed && (ret = memo_take(f, f->cleaned, &f->cleaned_next, path, &memo, out)))
		ret = ret < 0 ? ret : 0;
	else if (!(ret = reuse ? gitseal_seal_opened(f, opened, in, out) :
				 gitseal_seal(f, path, in, &keys, NULL, GITSEAL_KEY_FRESH, out)) && memoed)
		memo_keep(f, f->cleaned, &f->cleaned_next, path, out->data, out->len, &memo);
	/* what this clone cannot open again, it remembers having sealed */
	if (!ret && !gitseal_opens_by_age(f, &keys))
		ret = gittrust_remember_sealed(f, out, text, len);
out:
	if (ret == GS_ERR_UNSUPPORTED_KEY && opened)
		ret = explain_foreign(path, &keys);
	sops_key_summary_release(&keys);
	return ret;
}

/* Text with conflict markers is sealed as a conflict, for the keys the
 * file has: `git diff` shows it, `gitseal git check` refuses to commit it. */
static int clean_conflict(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
			  struct doc *committed, bool committed_sealed, struct gs_buf *out)
{
	struct sops_key_summary keys;
	struct gs_buf text;
	int ret = keys_for(f, path, committed, committed_sealed, &keys);

	gs_buf_init(&text, true);
	if (ret || (ret = gs_buf_append(&text, in, len)))
		goto out;
	ret = gitseal_conflict_seal(f, path, &keys, &text, out);
	/* a clone that cannot open it knows it again by these bytes */
	if (!ret && !gitseal_opens_by_age(f, &keys))
		ret = gittrust_remember_sealed(f, out, in, len);
out:
	sops_key_summary_release(&keys);
	gs_buf_release(&text);
	return ret;
}

/* git's `text eol=lf` turns CRLF into LF after the clean filter: in the
 * ciphertext, where a YAML, JSON or INI file's line ends are, the values
 * never holding them. A dotenv value runs to the LF (as sops reads it),
 * so a CR would be sealed into every value and come back in each. The
 * file is taken as git stores any text file: with LF line ends. */
int gitfilter_dotenv_lf(const uint8_t **in, size_t *len, struct gs_buf *norm)
{
	const uint8_t *p = *in, *end = p + *len;
	int ret;

	if (!memmem(p, *len, "\r\n", 2))
		return 0;
	if ((ret = gs_buf_reserve(norm, *len)))
		return ret;
	for (; p < end; p++)
		if (!(*p == '\r' && p + 1 < end && p[1] == '\n'))
			norm->data[norm->len++] = *p;
	norm->data[norm->len] = '\0';
	*in = norm->data;
	*len = norm->len;
	return 0;
}

/* A file's clean once the version git holds is known (prev, when found):
 * the work of gitfilter_clean, also run ahead of git's request for a file
 * new to the repository (readahead.c, found false), on another thread. */
int gitfilter_clean_given(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
			  const struct gs_buf *prev, bool found, struct gs_buf *out)
{
	enum doc_format format = store_format_for_path(path);
	struct gs_buf norm, behind;
	struct doc committed, doc;
	struct sops_file *opened = NULL;
	bool committed_sealed = false, behind_found = false;
	int ret;

	gs_buf_init(&norm, true);
	gs_buf_init(&behind, true); /* HEAD may hold a version committed before the filter: plaintext */
	doc_init(&committed, format);
	doc_init(&doc, format);
	if (format == DOC_FORMAT_DOTENV && (ret = gitfilter_dotenv_lf(&in, &len, &norm)))
		goto out;
	if (found && gitseal_conflict_is(prev->data, prev->len)) {
		/* a conflict staged with its markers in (git add): the same text
		 * keeps that blob, so git sees no change and `git merge --abort` works */
		if (gitseal_conflict_same(f, prev, in, len)) {
			ret = gs_buf_append(out, prev->data, prev->len);
			goto out;
		}
		/* its resolution keeps the file's rule (a conflict seals every value) */
		if ((ret = gitseal_conflict_behind(f, path, prev, &behind, &behind_found)))
			goto out;
		if (behind_found)
			prev = &behind;
	}
	/* unchanged ciphertext (a clone without keys): nothing to prove anew */
	if (found && prev->len == len && !memcmp(prev->data, in, len) && gitfilter_is_sops(format, in, len)) {
		ret = gs_buf_append(out, in, len);
		goto out;
	}
	if (found && (ret = gitseal_load_sealed(format, prev->data, prev->len, &committed)) < 0)
		goto out;
	committed_sealed = found && ret == 1;
	ret = 0;
	if (gitseal_conflict_is(in, len)) {
		ret = GS_FAIL(GS_ERR_CONFLICT, "it holds an unresolved merge conflict");
		goto out;
	}
	/* sealed here from these very bytes: a clone that cannot open it knows */
	if (committed_sealed && gittrust_sealed_here(f, prev, in, len)) {
		ret = gs_buf_append(out, prev->data, prev->len);
		goto out;
	}
	if (committed_sealed)
		opened = open_committed(f, &committed);
	if (committed_is_same(opened, &committed, in, len)) {
		ret = gs_buf_append(out, prev->data, prev->len);
		goto out;
	}
	/* the binary store takes any bytes as its data: markers are what tell
	 * a conflict (theirs' side and the markers would be sealed as data) */
	if (format == DOC_FORMAT_BINARY && gitseal_conflict_marked(in, len)) {
		ret = clean_conflict(f, path, in, len, &committed, committed_sealed, out);
		goto out;
	}
	if ((ret = store_load(format, in, len, &doc))) {
		/* a conflict being resolved: git diff and git add read it too */
		if (has_conflict_markers(in, len)) {
			gs_error_clear();
			ret = clean_conflict(f, path, in, len, &committed, committed_sealed, out);
		}
		goto out;
	}
	if (!sops_doc_is_encrypted(&doc)) {
		ret = clean_plain(f, path, in, len, &doc, &committed, committed_sealed ? prev : NULL, opened, out);
		goto out;
	}
	/* a sops file given to clean: checked, then passed as it is */
	if ((ret = clean_sealed(f, path, in, len, &doc, &committed, committed_sealed)))
		goto out;
	ret = gs_buf_append(out, in, len);
out:
	/* fail closed: never hand back a partial result */
	if (ret) {
		gs_buf_reset(out);
		gs_error_prefix("cannot encrypt '%s'", gs_shown(path));
	}
	sops_file_free(opened);
	doc_release(&committed);
	doc_release(&doc);
	gs_buf_release(&norm);
	gs_buf_release(&behind);
	return ret;
}

int gitfilter_clean(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
		    struct gs_buf *out)
{
	struct gs_buf prev;
	bool found = false;
	int ret;

	/* an empty file holds no secret; `git blame` never stores what it cleans */
	if (!len || f->blame)
		return gs_buf_append(out, in, len);
	if ((ret = smudged_take(f, path, in, len, out)))
		return ret < 0 ? ret : 0;
	gs_buf_init(&prev, true); /* a version committed before the filter is plaintext */
	ret = gitrepo_committed(f, path, &prev, &found);
	if (ret) {
		gs_error_prefix("cannot encrypt '%s'", gs_shown(path));
	} else {
		if (found || !readahead_take(f->ahead, path, in, len, out))
			ret = gitfilter_clean_given(f, path, in, len, &prev, found, out);
		/* a new file: the next ones git asks for are likely new too */
		if (!found)
			readahead_plan(f->ahead, path);
	}
	gs_buf_release(&prev);
	return ret;
}

/* ---- smudge ---- */

/* The passphrase-protected key that alone opens the file (cipher), which
 * git never asks a passphrase for, or NULL; *why as for
 * age_identity_list_locked_only. */
const char *gitfilter_locked_key_only(struct gitfilter *f, struct doc *cipher, const char **why)
{
	struct sops_key_summary keys;
	const char *name;

	if (!gitfilter_identities(f) || sops_doc_keys(cipher, &keys)) {
		gs_error_clear();
		return NULL;
	}
	name = gitfilter_locked_key_for(f, &keys, why);
	sops_key_summary_release(&keys);
	return name;
}

const char *gitfilter_locked_key_for(struct gitfilter *f, const struct sops_key_summary *keys, const char **why)
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	const char *name = NULL;

	for (size_t g = 0; ids && g < keys->group_count && !name; g++)
		name = age_identity_list_locked_only(ids, (const char *const *)keys->groups[g].age,
						     keys->groups[g].age_count, why);
	return name;
}

/* The text is read again: only when a key has failed. */
const char *gitfilter_locked_failure_for(struct gitfilter *f, enum doc_format format, const uint8_t *in, size_t len)
{
	const char *why = NULL;
	struct doc cipher;
	int sealed;

	if (!age_identity_list_locked_failure(gitfilter_identities(f)) || gitseal_conflict_is(in, len))
		return NULL;
	if ((sealed = gitseal_load_sealed(format, in, len, &cipher)) < 0) {
		gs_error_clear();
		return NULL;
	}
	if (sealed)
		(void)gitfilter_locked_key_only(f, &cipher, &why);
	doc_release(&cipher);
	return why;
}

int gitfilter_smudge(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
		     struct gs_buf *out, const char **passed)
{
	enum doc_format format = store_format_for_path(path);
	const char *reason = NULL;
	struct doc cipher;
	int ret = 0;

	if (passed)
		*passed = NULL;
	if (f->statedir && !(ret = gittrust_load(f)) && f->trust.locked) {
		reason = "the repository is locked ('gitseal git unlock' decrypts it)";
		goto pass;
	}
	/* whether it is locked is not known for want of memory: the checkout
	 * fails rather than decrypt a locked clone */
	if (ret == GS_ERR_NOMEM) {
		gs_error_prefix("cannot decrypt '%s'", gs_shown(path));
		return ret;
	}
	ret = 0;
	gs_error_clear();
	/* not known whether git archive runs: neither the plaintext (wrong
	 * for an archive) nor the ciphertext (wrong for a checkout) is sure */
	if (f->parent_unread)
		return GS_FAIL(f->parent_unread == ENOMEM ? GS_ERR_NOMEM : GS_ERR_IO,
			       "cannot decrypt '%s': git's command line could not be read whole: %s", gs_shown(path),
			       f->parent_unread == ENOMEM ? "out of memory" : strerror(f->parent_unread));
	if (f->archive) {
		reason = "git archive exports the files under the filter as committed (GITSEAL_ARCHIVE_PLAINTEXT=1 "
			 "decrypts them)";
		goto pass;
	}
	if (gitseal_conflict_is(in, len)) {
		ret = gitseal_conflict_open(f, in, len, out);
		goto opened;
	}
	if ((ret = gitseal_load_sealed(format, in, len, &cipher)) == 0)
		return gs_buf_append(out, in, len);
	if (ret < 0)
		goto opened;
	ret = gitseal_open_text_doc(f, &cipher, out);
	doc_release(&cipher);
	if (!ret)
		smudged_keep(f, path, in, len, out);
opened:
	/* a key file that could not be read for want of memory is no locked
	 * clone: the checkout fails instead of leaving ciphertext */
	if ((ret == GS_ERR_NO_DATA_KEY || ret == GS_ERR_AGE_NO_MATCH) && f->ids_code == GS_ERR_NOMEM)
		ret = GS_FAIL(GS_ERR_NOMEM, "%s", f->ids_error ? f->ids_error : "out of memory");
	if (ret == GS_ERR_NO_DATA_KEY || ret == GS_ERR_AGE_NO_MATCH) {
		const struct age_identity_list *ids = gitfilter_identities(f);

		/* the passphrase-protected key that alone opens it says why it did not */
		reason = !ids ? (f->ids_error ? f->ids_error : "no age identity found")
			      : gitfilter_locked_failure_for(f, format, in, len);
		if (!reason)
			reason = "none of your identities opens it";
		gs_error_clear();
		gs_buf_reset(out);
		goto pass;
	}
	if (ret) {
		gs_buf_reset(out);
		gs_error_prefix("cannot decrypt '%s'", gs_shown(path));
	}
	return ret;
pass:
	if (passed)
		*passed = reason;
	return gs_buf_append(out, in, len);
}

/* ---- what the parent git runs ----
 * Read from its arguments (Linux /proc; elsewhere nothing is known and the
 * defaults hold). */

struct parent_args {
	char *text;      /* its arguments, each NUL-ended */
	size_t len, cap;
	const char *cmd; /* the git subcommand, NULL when not known */
	bool is_git;     /* the process is git (`git`, or a builtin as `git-NAME`) */
	const char *end;
	int unread;      /* /proc has them, but they could not be read whole: why (an errno) */
};

/* git's options before the subcommand that take the next argument (git.c,
 * handle_options; --attr-source of gits after 2.39, --shallow-file internal):
 * one missing here took its value for the subcommand */
static bool option_takes_value(const char *arg)
{
	static const char *const with_value[] = { "-C", "-c", "--git-dir", "--work-tree", "--namespace",
						  "--super-prefix", "--config-env", "--shallow-file",
						  "--attr-source" };

	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (!strcmp(arg, with_value[i]))
			return true;
	return false;
}

static const char *next_arg(const char *p) { return p + strlen(p) + 1; }

/* The whole command line, read until its end: git's options before the
 * subcommand may fill more than a page (a long `git -c` value), and an
 * archive read a page at a time then went out in plaintext. The kernel
 * takes at most a quarter of the stack limit, and never more than 6 MiB,
 * of arguments and environment together (fs/exec.c), so PARENT_ARGS_MAX is
 * never reached by a real git. A line not read whole (no memory, a read
 * error, an open's but for no /proc) is unread, and the filter's smudges
 * fail (gitfilter_smudge).
 * The buffer is an allocation site of its own, which the out-of-memory
 * sweeps fail (tests/git/oom.bats). */
enum { PARENT_ARGS_MAX = 8 << 20, PARENT_ARGS_FIRST = 4096 };

/* The test build's GITSEAL_TEST_PARENT_ARGS_MAX=N lowers PARENT_ARGS_MAX
 * (a line past it); GITSEAL_TEST_PARENT_ARGS_OPEN_ERRNO=N and
 * GITSEAL_TEST_PARENT_ARGS_ERRNO=N fail the line's open or its read with
 * errno N (tests/git/review29.bats). */
static size_t parent_args_max(void)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *v = getenv("GITSEAL_TEST_PARENT_ARGS_MAX");

	if (v && *v)
		return (size_t)strtoul(v, NULL, 10);
#endif
	return PARENT_ARGS_MAX;
}

static int parent_args_injected(const char *variable)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *v = getenv(variable);

	if (v && *v)
		return atoi(v);
#else
	(void)variable;
#endif
	return 0;
}

static bool parent_args_load(struct parent_args *a, long pid)
{
	char path[64];
	size_t max = parent_args_max();
	ssize_t n = 0;
	int fd, injected;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	injected = parent_args_injected("GITSEAL_TEST_PARENT_ARGS_OPEN_ERRNO");
	fd = injected ? (errno = injected, -1) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* no /proc, or the line not this process's to read: nothing
		 * is known, the defaults hold; else (no memory, no descriptor
		 * left) /proc has it unread */
		if (errno != ENOENT && errno != EACCES && errno != EPERM)
			a->unread = errno;
		return false;
	}
	injected = parent_args_injected("GITSEAL_TEST_PARENT_ARGS_ERRNO");
	do {
		if (a->cap - a->len < 2) {
			size_t want = a->cap ? 2 * a->cap : PARENT_ARGS_FIRST;
			char *more = a->cap < max ? gs_realloc(a->text, want < max ? want : max) : NULL;

			if (!more) {
				a->unread = a->cap < max ? ENOMEM : E2BIG;
				break;
			}
			a->text = more;
			a->cap = want < max ? want : max;
		}
		n = injected ? (errno = injected, -1) : read(fd, a->text + a->len, a->cap - a->len - 1);
		if (n > 0)
			a->len += (size_t)n;
		else if (n < 0 && errno != EINTR)
			a->unread = errno;
	} while (!a->unread && n != 0);
	close(fd);
	if (a->unread || !a->len)
		return false; /* not read to its end, or empty (the parent gone) */
	a->text[a->len] = '\0';
	return true;
}

/* The command line of process pid (this process's parent: git) */
static void parent_args_read_of(struct parent_args *a, long pid)
{
	const char *p, *base, *buf;

	*a = (struct parent_args){ 0 };
	if (!parent_args_load(a, pid))
		return;
	buf = a->text;
	a->end = buf + a->len;
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	/* git's exec path holds each builtin as git-NAME, run as `git NAME`
	 * (old scripts put it in PATH) */
	if (!strncmp(base, "git-", 4) && base[4]) {
		a->is_git = true;
		a->cmd = base + 4;
		return;
	}
	if (strcmp(base, "git"))
		return;
	a->is_git = true;
	for (p = next_arg(buf); p < a->end; p = next_arg(p)) {
		if (p[0] != '-') {
			a->cmd = p;
			return;
		}
		if (option_takes_value(p))
			p = next_arg(p);
	}
}

static void parent_args_read(struct parent_args *a)
{
	parent_args_read_of(a, (long)getppid());
}

static void parent_args_release(struct parent_args *a)
{
	free(a->text);
}

/* `git blame FILE` runs textconv on the work tree file and then the clean
 * filter on that text, and compares the result with the textconv of each
 * commit: cleaned to ciphertext, every line differs. The fake commit it
 * builds is never written, so a filter serving `git blame` (or annotate)
 * hands the plaintext back unchanged (without /proc blame shows ciphertext). */
static bool runs_blame(const struct parent_args *a)
{
	return a->cmd && (!strcmp(a->cmd, "blame") || !strcmp(a->cmd, "annotate"));
}

/* `git archive` runs the smudge filter on every file it exports: a key
 * holder's release tarball (make dist) would hold every secret in clear.
 * It gets the committed ciphertext unless GITSEAL_ARCHIVE_PLAINTEXT=1 asks
 * for plaintext; `git archive --remote` of a local path runs it as
 * upload-archive--writer. An alias (alias.ar=archive) is seen too: git
 * runs the builtin it names as a git process of its own. A command line
 * that /proc has but that could not be read whole may be an archive's:
 * the smudges fail (parent_unread) unless plaintext was asked for. Without
 * /proc it is not known (docs/git.md, Hazards). */
static bool archive_plaintext_asked(void)
{
	const char *asked = getenv("GITSEAL_ARCHIVE_PLAINTEXT");

	return asked && !strcmp(asked, "1");
}

static bool runs_archive(const struct parent_args *a)
{
	return a->cmd && (!strcmp(a->cmd, "archive") || !strcmp(a->cmd, "upload-archive--writer")) &&
	       !archive_plaintext_asked();
}

/* `git commit -v` (commit.verbose, so `revert --edit` and a reword too)
 * writes the diff it shows, textconv's output included, into
 * .git/COMMIT_EDITMSG, which stays after the commit (and after one aborted).
 * git hands textconv a blob smudged (plaintext), so what it shows there is
 * a note, the same for every version. */
int gitfilter_textconv_kept_in_git(void)
{
	struct parent_args parent;
	int ret;

	parent_args_read(&parent);
	/* not read whole: it may be a commit's (as gitfilter_smudge) */
	if (parent.unread)
		ret = GS_FAIL(parent.unread == ENOMEM ? GS_ERR_NOMEM : GS_ERR_IO,
			      "git's command line could not be read whole: %s",
			      parent.unread == ENOMEM ? "out of memory" : strerror(parent.unread));
	else
		ret = parent.cmd && !strcmp(parent.cmd, "commit");
	parent_args_release(&parent);
	return ret;
}

/* diff.gitseal.cachetextconv has git keep textconv's output as notes
 * (refs/notes/textconv/gitseal): every version's plaintext in .git's
 * objects, sent by a push of the notes. Asked of git (its config files,
 * includes and `git -c` as it reads them: textconv runs without libgit2);
 * true when git does not say false. */
bool gitfilter_textconv_cached(void)
{
	char *argv[] = { "git", "config", "--type=bool", "--get", "diff.gitseal.cachetextconv", NULL };
	char out[16];
	size_t len = 0;
	ssize_t n;
	int fds[2], rc, ws;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return true;
	rc = gitrepo_spawn(argv, -1, fds[1], NULL, &pid);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return true;
	}
	while (len < sizeof(out) && ((n = read(fds[0], out + len, sizeof(out) - len)) > 0 || (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	close(fds[0]);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return true;
	/* exit 1: not set */
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 1 && !len)
		return false;
	return !(WIFEXITED(ws) && !WEXITSTATUS(ws) && len == 6 && !memcmp(out, "false\n", 6));
}

/* Whether a long option (after "--", up to any "=") may be git's
 * abbreviation of `name`: parse-options takes unambiguous prefixes. */
static bool long_option_is(const char *opt, const char *name)
{
	size_t n = strcspn(opt, "=");

	return n && n <= strlen(name) && !strncmp(opt, name, n);
}

/* Whether the options of git's subcommand (read up to "--") hold a long
 * one that may be git's abbreviation of one of longs (NULL-ended), or the
 * short one flag, alone or in a bundle ("-qm"). A short option of
 * with_value ends its bundle (the rest is its value); one of next_value
 * at a bundle's end takes the next argument. */
static bool asks_option(const struct parent_args *a, const char *const *longs, char flag, const char *with_value,
			const char *next_value)
{
	const char *p, *c;

	for (p = next_arg(a->cmd); p < a->end && strcmp(p, "--"); p = next_arg(p)) {
		if (p[0] != '-')
			continue;
		if (p[1] == '-') {
			for (const char *const *l = longs; *l; l++)
				if (long_option_is(p + 2, *l))
					return true;
			continue;
		}
		for (c = p + 1; *c && !strchr(with_value, *c); c++)
			if (*c == flag)
				return true;
		if (*c && !c[1] && strchr(next_value, *c))
			p = next_arg(p);
	}
	return false;
}

/* git merges a file with a merge driver without its -X option (git 2.39
 * ll-merge.c: the favour reaches xdiff only): a conflict of a merge,
 * rebase, cherry-pick or revert run with one says so. Short options that
 * take a value end a bundle (-m, -s and -x take the next argument). */
bool gitfilter_merge_asks_strategy_option(void)
{
	static const char *const longs[] = { "strategy-option", NULL };
	static const char *const cmds[] = { "merge", "rebase", "cherry-pick", "revert", "pull" };
	struct parent_args parent;
	bool asks = false;

	parent_args_read(&parent);
	for (size_t i = 0; parent.cmd && i < sizeof(cmds) / sizeof(cmds[0]) && !asks; i++)
		asks = !strcmp(parent.cmd, cmds[i]) && asks_option(&parent, longs, 'X', "msxCFS", "msxCF");
	parent_args_release(&parent);
	return asks;
}

/* `git checkout -m FILE`, `git checkout --conflict=STYLE FILE` and `git
 * restore --merge FILE` recreate a file's conflict; git 2.39 crashes on
 * them (segmentation fault, work-tree file gone, index.lock left) when the
 * filter delays the file, and not when it answers at once (docs/git.md).
 * Erring towards "yes" only costs the delay. "-b", "-B" and "-s" take a
 * value. */
static bool recreates_conflicts(const struct parent_args *a)
{
	static const char *const longs[] = { "merge", "conflict", NULL };

	if (!a->cmd || (strcmp(a->cmd, "checkout") && strcmp(a->cmd, "restore")))
		return false;
	return asks_option(a, longs, 'm', "bBs", "bBs");
}

/* Whether a diff's options ask for output that holds the work tree's
 * cleaned text (`--binary`, `-a`/`--text`): a patch that `git apply
 * --cached` would store. The short options that take a value end a
 * bundle; a value in the next argument ("-S" and "-G" take one) is read as
 * options: erring towards "yes" only keeps today's failure. */
static bool diff_shows_content(const struct parent_args *a)
{
	static const char *const longs[] = { "binary", "text", NULL };

	return asks_option(a, longs, 'a', "BCGMOSUXl", "");
}

/* git commands that run the clean filter only to compare a work-tree file
 * with the index (git 2.39: read-cache.c's ce_compare_data when a stat
 * changed and the index is refreshed, diff.c's diff_populate_filespec
 * and diff_fill_oid_info, combine-diff.c): each hashes the cleaned text
 * without writing an object, and the index keeps a new stat only for an
 * entry whose hash is the one it holds. Every other command (add, commit,
 * stash, update-index, hash-object, apply, checkout, merge, rebase, reset,
 * restore, switch, difftool, which writes back) takes the path that
 * writes: a refused clean fails it. */
static bool compares_only(const struct parent_args *a)
{
	static const char *const diffs[] = { "diff", "diff-files", "diff-index" };
	static const char *const others[] = { "describe", "ls-files", "status" };

	if (!a->cmd)
		return false;
	for (size_t i = 0; i < sizeof(diffs) / sizeof(diffs[0]); i++)
		if (!strcmp(a->cmd, diffs[i]))
			return !diff_shows_content(a);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (!strcmp(a->cmd, others[i]))
			return true;
	return false;
}

/* How many git processes above this filter's are read before it is taken
 * for one that writes. */
enum { GIT_ANCESTORS_MAX = 8 };

/* Whether git process up runs an alias of child's command: git runs an
 * alias (alias.st=status) as a git process of its own, `git status` then
 * its arguments, and only waits for it. Known by git's config files
 * (libgit2's reading: not `git -c`, which then fails closed), the alias's
 * first word (not a shell's "!...") being child's command, and up's
 * arguments ending child's. */
static bool runs_alias_of(struct gitfilter *f, const struct parent_args *up, const struct parent_args *child)
{
	const char *tail, *from;
	git_config *cfg = NULL;
	git_config_entry *e = NULL;
	char key[128];
	bool yes = false;
	size_t n;

	if (!up->cmd || !f->repo)
		return false;
	tail = next_arg(up->cmd);
	from = next_arg(child->cmd);
	n = (size_t)(up->end - tail);
	/* whole arguments: what precedes child's last n bytes ends one */
	if (n > (size_t)(child->end - from) || memcmp(child->end - n, tail, n) ||
	    (child->end - n > from && child->end[-(ptrdiff_t)n - 1] != '\0') ||
	    (size_t)snprintf(key, sizeof(key), "alias.%s", up->cmd) >= sizeof(key))
		return false;
	if (git_repository_config(&cfg, f->repo) == 0 && git_config_get_entry(&e, cfg, key) == 0 && e->value) {
		const char *v = e->value + strspn(e->value, " \t");
		size_t len = strcspn(v, " \t\n");

		yes = len == strlen(child->cmd) && !memcmp(v, child->cmd, len);
	}
	git_error_clear();
	git_config_entry_free(e);
	git_config_free(cfg);
	return yes;
}

/* Whether the git command this filter serves only compares, and so does
 * every git process above it up to the first process that is not git (a
 * shell, an IDE), or runs it as an alias: `git add -p` runs `git
 * diff-files` and stores what it shows; the git a builtin runs (stash's
 * update-index) is read with the builtin above it. Fail closed: no /proc,
 * a command line not read whole or an unknown command is one that writes. */
static bool serves_compare_only(struct gitfilter *f, const struct parent_args *parent)
{
	struct parent_args below = { 0 }, up;
	const struct parent_args *child = parent;
	long pid = (long)getppid();
	bool only = false;

	if (!parent->is_git || !compares_only(parent))
		return false;
	for (int depth = 0; depth < GIT_ANCESTORS_MAX; depth++) {
		if ((pid = (long)gs_proc_stat_field(pid, GS_PROC_PARENT)) <= 0)
			break;
		parent_args_read_of(&up, pid);
		if (!up.end || !up.is_git || (!compares_only(&up) && !runs_alias_of(f, &up, child))) {
			/* the first process that is not git, read whole */
			only = up.end && !up.is_git;
			parent_args_release(&up);
			break;
		}
		parent_args_release(&below);
		below = up;
		child = &below;
	}
	parent_args_release(&below);
	return only;
}

struct serve_ctx {
	struct gitfilter *f;
	const struct gitfilter_events *ev;
	unsigned long let_wait; /* smudges git let wait, so far */
	bool spare;             /* a CPU was to spare when last looked */
};

/* What a git command that only compares gets for an edit whose clean was
 * refused for keys or a rule this clone did not accept, or that does not
 * load in its format: one line saying so (GITFILTER_REFUSED_EDIT, then
 * the refusal), never a sops file nor the plaintext, and unlike any
 * sealed blob, so that git shows the file
 * changed (textconv still shows the edit: it reads the work-tree file).
 * Such a command writes no object, and the index keeps a new stat only
 * for a text whose hash it holds; every command that writes is refused. */
static int refused_stand_in(struct serve_ctx *s, const char *path, bool unaccepted, struct gs_buf *out)
{
	int ret;

	gs_buf_reset(out);
	if ((ret = gs_buf_printf(out, "%s%s\n", GITFILTER_REFUSED_EDIT, gs_error_message())))
		return ret;
	if (s->ev && s->ev->compared_refused)
		s->ev->compared_refused(s->ev->ctx, path, unaccepted);
	gs_error_clear();
	return 0;
}

static int serve_run(void *ctx, enum filter_command cmd, const char *path, const uint8_t *in, size_t len,
		     struct gs_buf *out)
{
	struct serve_ctx *s = ctx;
	const char *passed = NULL;
	int ret;

	if (cmd == FILTER_CLEAN) {
		gs_error_clear();
		ret = gitfilter_clean(s->f, path, in, len, out);
		if (!ret && !s->f->blame && (ret = gitattrs_refuse(s->f, path, out->data, out->len, true))) {
			gs_buf_reset(out);
		} else if (ret) {
			bool unaccepted = gittrust_is_unaccepted();

			/* an edit that does not load (a YAML syntax error) differs
			 * from what was committed, which did: git diff shows it */
			if (s->f->compare_only && (unaccepted || ret == GS_ERR_PARSE))
				ret = refused_stand_in(s, path, unaccepted, out);
		}
		return ret;
	}
	ret = gitfilter_smudge(s->f, path, in, len, out, &passed);
	if (!ret && passed && s->ev && s->ev->passed_through)
		s->ev->passed_through(s->ev->ctx, path, passed);
	return ret;
}

/* Whether git may have changed a sealed text before the smudge: a CR
 * (CRLF line ends: a sealed text has LF), "$Id" (ident) or a NUL (UTF-16
 * or UTF-32, working-tree-encoding), each found by memchr. Else the
 * attributes are not looked up (a tenth of a small file's smudge). An
 * encoding that changes other bytes (EBCDIC, UTF-7's '+', Latin-1 of a
 * key in clear) leaves no sops file, or one whose MAC or values fail to
 * open: the checkout fails or gives the ciphertext back, named less well. */
static bool maybe_converted(const uint8_t *in, size_t len)
{
	const uint8_t *p = in, *end;

	if (!len) /* in may be NULL */
		return false;
	end = in + len;
	if (memchr(in, '\r', len) || memchr(in, '\0', len))
		return true;
	while ((p = memchr(p, '$', (size_t)(end - p))) && end - p > 2)
		if (p[1] == 'I' && p[2] == 'd')
			return true;
		else
			p++;
	return false;
}

/* On git's thread (libgit2's attributes), before a smudge is delayed,
 * for every smudge request. */
static int serve_smudge_check(void *ctx, const char *path, const uint8_t *in, size_t len)
{
	struct serve_ctx *s = ctx;

	/* git is writing the work tree, .gitattributes files too, which the
	 * git check-attr kept so far read before (attrs.c) */
	gitattrs_end(s->f);
	return s->f->repo && (maybe_converted(in, len) || gitattrs_maybe_joined(in, len))
		       ? gitattrs_refuse(s->f, path, in, len, false)
		       : 0;
}

/* Cheap: every data key so far came from the key cache, or there is no
 * identity to open one with (the smudge hands the ciphertext back). */
static bool smudge_is_cheap(struct gitfilter *f)
{
	if (f->keycache)
		return !keycache_missed(f->keycache);
	return !gitfilter_identities(f);
}

/* Whether the machine has a CPU to spare: fewer threads running than it
 * has CPUs, this one counted (/proc/loadavg's fourth field, a moment's
 * count: the least of three looks); no when it cannot be told. */
static bool cpu_to_spare(void)
{
	unsigned long least = ULONG_MAX;

#ifdef GITSEAL_TEST_HOOKS
	const char *forced = getenv("GITSEAL_TEST_SPARE_CPU");

	if (forced && *forced)
		return strcmp(forced, "0") != 0;
#endif
	for (int look = 0; look < 3; look++) {
		char buf[128], *p = buf;
		int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		if (n <= 0)
			return false;
		buf[n] = '\0';
		/* "0.50 0.60 0.70 2/345 6789": running/existing */
		for (int field = 0; field < 3 && p; field++)
			if ((p = strchr(p, ' ')))
				p++;
		if (!p || *p < '0' || *p > '9')
			return false;
		unsigned long running = strtoul(p, NULL, 10);

		least = running < least ? running : least;
	}
	return least < filter_cpus();
}

/* A smudge git lets wait is answered at once when it is cheap and git
 * named a tree-ish or a CPU is to spare; else it is delayed, which costs
 * git a second request for the file (the fetch). In a checkout of a
 * tree-ish (a clone's first checkout, a switch, a reset: unpack_trees,
 * whose requests name the ref, the tree-ish and the blob) that cost git
 * more than a cheap smudge answered at once, on an idle machine or a
 * loaded one. In a checkout from the index (`git checkout -- PATHS`) a
 * file answered at once makes git 2.39 trim its heap and grow it again (3
 * brk and 2 page faults a file), which at load 3 on 2 CPUs cost more
 * than the fetch; on an idle machine the fetch costs more
 * (docs/development.md, "The git filter's work"). The load is looked at
 * first and every FILTER_SPARE_CPU_EVERY smudges. */
static bool serve_smudge_at_once(void *ctx, bool from_tree)
{
	struct serve_ctx *s = ctx;

	if (!smudge_is_cheap(s->f))
		return false;
	if (from_tree)
		return true;
	if (s->let_wait++ % FILTER_SPARE_CPU_EVERY == 0)
		s->spare = cpu_to_spare();
	return s->spare;
}

static void serve_failed(void *ctx, enum filter_command cmd, const char *path, int err)
{
	struct serve_ctx *s = ctx;

	(void)err;
	if (s->ev && s->ev->file_failed)
		s->ev->file_failed(s->ev->ctx, path, cmd == FILTER_CLEAN);
}

/* Git's pipe and the filter that answers on it. */
struct serve_out {
	FILE *out;
	struct gitfilter *f;
};

/* An answer complete: to git, then the work it left for later (git now
 * stores the file and sends the next: the filter would only wait). */
static int stream_flush(void *ctx)
{
	struct serve_out *o = ctx;

	if (fflush(o->out) != 0)
		return GS_FAIL(GS_ERR_IO, "cannot write to git");
	readahead_answered(o->f->ahead);
	return 0;
}

/* New files may be sealed on other threads once everything they read is
 * loaded: the .sops.yaml, what this clone accepted, the identities. */
static bool may_read_ahead(struct gitfilter *f)
{
	const struct sops_config *config;

	if (f->blame || !f->repo || !f->trust.loaded || gitfilter_config(f, &config)) {
		gs_error_clear();
		return false;
	}
	gitseal_prepare_recipients(f);
	return true;
}

/* GITSEAL_FILTER_SPIN_US: how long the filter polls git's pipe inside a
 * request (pktline.c), 0 never, unset FILTER_SPIN_US_DEFAULT. For
 * measuring on other machines (bench/git_bench.sh); the answers are the
 * same either way. */
static long spin_ns_from_env(void)
{
	const char *v = getenv("GITSEAL_FILTER_SPIN_US");
	char *end;
	long us;

	if (!v || !*v)
		return FILTER_SPIN_US_DEFAULT * 1000L;
	us = strtol(v, &end, 10);
	return *end || us < 0 || us > 1000 ? 0 : us * 1000;
}

int gitfilter_serve(struct gitfilter *f, FILE *in, FILE *out, const struct gitfilter_events *ev)
{
	struct serve_ctx s = { .f = f, .ev = ev };
	struct pkt_pipe pipe;
	struct parent_args parent;
	bool may_delay;
	int ret;

	parent_args_read(&parent);
	f->blame = runs_blame(&parent);
	f->archive = runs_archive(&parent);
	f->parent_unread = archive_plaintext_asked() ? 0 : parent.unread;
	f->compare_only = serves_compare_only(f, &parent);
	may_delay = !recreates_conflicts(&parent);
	parent_args_release(&parent);
	/* smudges may run on worker threads: nothing left to load lazily */
	gitfilter_prepare(f);
	f->keycache = keycache_start(f);
	if ((ret = pkt_pipe_open(&pipe, fileno(in), spin_ns_from_env()))) {
		keycache_free(f->keycache);
		f->keycache = NULL;
		return ret;
	}
	if (may_read_ahead(f))
		readahead_start(f);
	struct gs_reader r = pkt_pipe_reader(&pipe);
	struct gs_writer w = gs_writer_to_file(out);
	struct serve_out so = { out, f };
	struct pkt_writer pw = { &w, stream_flush, &so };
	/* without workers the filter does not offer git the delay capability */
	struct filter_handler h = { serve_run, serve_failed, &s, may_delay ? FILTER_SMUDGE_WORKERS : 0, &pipe,
				    serve_smudge_at_once, serve_smudge_check };

	ret = filter_process_serve(&r, &pw, &h);
	readahead_stop(f);
	keycache_free(f->keycache);
	f->keycache = NULL;
	pkt_pipe_close(&pipe);
	return ret;
}
