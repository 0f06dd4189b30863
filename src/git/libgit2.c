/* libgit2, loaded when a git command first needs it.
 *
 * libgit2 and the libraries it pulls in (krb5, mbedtls, ssh2, pcre2, ...)
 * cost about 1.3 ms of start-up in every process, more than a whole small
 * encryption, while only `gitseal git` uses them. So the binary does not
 * link libgit2: this file defines the few libgit2 functions gitseal calls,
 * each forwarding to the real one, resolved with dlopen on first use. The
 * prototypes come from git2.h, so the compiler checks every forwarder.
 */

#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/alloc.h>
#include <git2/sys/repository.h>

#include "gitseal/alloc.h"
#include "gitseal/dynlib.h"
#include "gitseal/error.h"

#include "gitfilter_int.h"

#ifndef LIBGIT2_SONAME
#error "the Makefile passes LIBGIT2_SONAME, the shared library name found at build time"
#endif

static int (*p_git_attr_cache_flush)(git_repository *repo);
static int (*p_git_attr_get_many)(const char **values_out, git_repository *repo, uint32_t flags, const char *path, size_t num_attr, const char **names);
static int (*p_git_attr_get)(const char **value_out, git_repository *repo, uint32_t flags, const char *path, const char *name);
static git_attr_value_t (*p_git_attr_value)(const char *attr);
static int (*p_git_blob_create_from_buffer)(git_oid *id, git_repository *repo, const void *buffer, size_t len);
static void (*p_git_blob_free)(git_blob *blob);
static int (*p_git_blob_lookup)(git_blob **blob, git_repository *repo, const git_oid *id);
static const void * (*p_git_blob_rawcontent)(const git_blob *blob);
static git_object_size_t (*p_git_blob_rawsize)(const git_blob *blob);
static void (*p_git_commit_free)(git_commit *commit);
static const git_oid *(*p_git_commit_id)(const git_commit *commit);
static int (*p_git_commit_lookup)(git_commit **commit, git_repository *repo, const git_oid *id);
static const git_oid *(*p_git_commit_parent_id)(const git_commit *commit, unsigned int n);
static unsigned int (*p_git_commit_parentcount)(const git_commit *commit);
static int (*p_git_commit_tree)(git_tree **tree_out, const git_commit *commit);
static int (*p_git_config_add_file_ondisk)(git_config *cfg, const char *path, git_config_level_t level, const git_repository *repo, int force);
static void (*p_git_config_entry_free)(git_config_entry *entry);
static void (*p_git_config_free)(git_config *cfg);
static int (*p_git_config_get_entry)(git_config_entry **out, const git_config *cfg, const char *name);
static int (*p_git_config_open_level)(git_config **out, const git_config *parent, git_config_level_t level);
static int (*p_git_config_set_string)(git_config *cfg, const char *name, const char *value);
static void (*p_git_error_clear)(void);
static const git_error * (*p_git_error_last)(void);
static int (*p_git_ignore_path_is_ignored)(int *ignored, git_repository *repo, const char *path);
static int (*p_git_index_add)(git_index *index, const git_index_entry *source_entry);
static int (*p_git_index_entry_stage)(const git_index_entry *entry);
static size_t (*p_git_index_entrycount)(const git_index *index);
static int (*p_git_index_has_conflicts)(const git_index *index);
static void (*p_git_index_free)(git_index *index);
static const git_index_entry * (*p_git_index_get_byindex)(git_index *index, size_t n);
static const git_index_entry * (*p_git_index_get_bypath)(git_index *index, const char *path, int stage);
static int (*p_git_index_open)(git_index **out, const char *index_path);
static const char * (*p_git_index_path)(const git_index *index);
static int (*p_git_index_read)(git_index *index, int force);
static int (*p_git_index_write)(git_index *index);
static int (*p_git_libgit2_init)(void);
static int (*p_git_libgit2_shutdown)(void);
static int (*p_git_merge_file)(git_merge_file_result *out, const git_merge_file_input *ancestor, const git_merge_file_input *ours, const git_merge_file_input *theirs, const git_merge_file_options *opts);
static int (*p_git_merge_file_input_init)(git_merge_file_input *opts, unsigned int version);
static int (*p_git_merge_file_options_init)(git_merge_file_options *opts, unsigned int version);
static void (*p_git_merge_file_result_free)(git_merge_file_result *result);
static void (*p_git_object_free)(git_object *object);
static int (*p_git_oid_equal)(const git_oid *a, const git_oid *b);
static int (*p_git_oid_fromstrn)(git_oid *out, const char *str, size_t length);
static int (*p_git_reference_name_to_id)(git_oid *out, git_repository *repo, const char *name);
static const char * (*p_git_repository_commondir)(const git_repository *repo);
static int (*p_git_repository_config)(git_config **out, git_repository *repo);
static void (*p_git_repository_free)(git_repository *repo);
static int (*p_git_repository_index)(git_index **out, git_repository *repo);
static int (*p_git_repository_mergehead_foreach)(git_repository *repo, git_repository_mergehead_foreach_cb callback, void *payload);
static int (*p_git_repository_open_ext)(git_repository **out, const char *path, unsigned int flags, const char *ceiling_dirs);
static int (*p_git_repository_open_from_worktree)(git_repository **out, git_worktree *wt);
static const char * (*p_git_repository_path)(const git_repository *repo);
static int (*p_git_repository_set_index)(git_repository *repo, git_index *index);
static const char * (*p_git_repository_workdir)(const git_repository *repo);
static int (*p_git_revparse_single)(git_object **out, git_repository *repo, const char *spec);
static void (*p_git_strarray_dispose)(git_strarray *array);
static const git_tree_entry *(*p_git_tree_entry_byname)(const git_tree *tree, const char *filename);
static int (*p_git_tree_entry_bypath)(git_tree_entry **out, const git_tree *root, const char *path);
static void (*p_git_tree_entry_free)(git_tree_entry *entry);
static const git_oid * (*p_git_tree_entry_id)(const git_tree_entry *entry);
static const char *(*p_git_tree_entry_name)(const git_tree_entry *entry);
static git_object_t (*p_git_tree_entry_type)(const git_tree_entry *entry);
static git_filemode_t (*p_git_tree_entry_filemode)(const git_tree_entry *entry);
static void (*p_git_tree_free)(git_tree *tree);
static int (*p_git_tree_lookup)(git_tree **out, git_repository *repo, const git_oid *id);
static int (*p_git_tree_walk)(const git_tree *tree, git_treewalk_mode mode, git_treewalk_cb callback, void *payload);
static void (*p_git_worktree_free)(git_worktree *wt);
static int (*p_git_worktree_list)(git_strarray *out, git_repository *repo);
static int (*p_git_worktree_lookup)(git_worktree **out, git_repository *repo, const char *name);
static int (*p_git_worktree_validate)(const git_worktree *wt);

static int (*p_git_index_new)(git_index **out);
static int (*p_git_index_read_tree)(git_index *index, const git_tree *tree);
static void (*p_git_revwalk_free)(git_revwalk *walk);
static int (*p_git_revwalk_hide)(git_revwalk *walk, const git_oid *commit_id);
static int (*p_git_revwalk_hide_glob)(git_revwalk *walk, const char *glob);
static int (*p_git_revwalk_new)(git_revwalk **out, git_repository *repo);
static int (*p_git_revwalk_next)(git_oid *out, git_revwalk *walk);
static int (*p_git_revwalk_push)(git_revwalk *walk, const git_oid *id);
static int (*p_git_revwalk_sorting)(git_revwalk *walk, unsigned int sort_mode);

static int (*p_git_libgit2_opts)(int option, ...);
#ifdef GITSEAL_TEST_HOOKS
static void (*p_git_error_set_oom)(void);
#endif

static void resolve(struct gs_dynload *l)
{
	GS_DYNSYM(git_attr_cache_flush)
	GS_DYNSYM(git_attr_get)
	GS_DYNSYM(git_attr_get_many)
	GS_DYNSYM(git_attr_value)
	GS_DYNSYM(git_blob_create_from_buffer)
	GS_DYNSYM(git_blob_free)
	GS_DYNSYM(git_blob_lookup)
	GS_DYNSYM(git_blob_rawcontent)
	GS_DYNSYM(git_blob_rawsize)
	GS_DYNSYM(git_commit_free)
	GS_DYNSYM(git_commit_id)
	GS_DYNSYM(git_commit_lookup)
	GS_DYNSYM(git_commit_parent_id)
	GS_DYNSYM(git_commit_parentcount)
	GS_DYNSYM(git_commit_tree)
	GS_DYNSYM(git_config_add_file_ondisk)
	GS_DYNSYM(git_config_entry_free)
	GS_DYNSYM(git_config_free)
	GS_DYNSYM(git_config_get_entry)
	GS_DYNSYM(git_config_open_level)
	GS_DYNSYM(git_config_set_string)
	GS_DYNSYM(git_error_clear)
	GS_DYNSYM(git_error_last)
	GS_DYNSYM(git_ignore_path_is_ignored)
	GS_DYNSYM(git_index_add)
	GS_DYNSYM(git_index_entry_stage)
	GS_DYNSYM(git_index_entrycount)
	GS_DYNSYM(git_index_has_conflicts)
	GS_DYNSYM(git_index_free)
	GS_DYNSYM(git_index_get_byindex)
	GS_DYNSYM(git_index_get_bypath)
	GS_DYNSYM(git_index_open)
	GS_DYNSYM(git_index_path)
	GS_DYNSYM(git_index_read)
	GS_DYNSYM(git_index_write)
	GS_DYNSYM(git_libgit2_init)
	GS_DYNSYM(git_libgit2_shutdown)
	GS_DYNSYM(git_merge_file)
	GS_DYNSYM(git_merge_file_input_init)
	GS_DYNSYM(git_merge_file_options_init)
	GS_DYNSYM(git_merge_file_result_free)
	GS_DYNSYM(git_object_free)
	GS_DYNSYM(git_oid_equal)
	GS_DYNSYM(git_oid_fromstrn)
	GS_DYNSYM(git_reference_name_to_id)
	GS_DYNSYM(git_repository_commondir)
	GS_DYNSYM(git_repository_config)
	GS_DYNSYM(git_repository_free)
	GS_DYNSYM(git_repository_index)
	GS_DYNSYM(git_repository_mergehead_foreach)
	GS_DYNSYM(git_repository_open_ext)
	GS_DYNSYM(git_repository_open_from_worktree)
	GS_DYNSYM(git_repository_path)
	GS_DYNSYM(git_repository_set_index)
	GS_DYNSYM(git_repository_workdir)
	GS_DYNSYM(git_revparse_single)
	GS_DYNSYM(git_strarray_dispose)
	GS_DYNSYM(git_tree_entry_byname)
	GS_DYNSYM(git_tree_entry_bypath)
	GS_DYNSYM(git_tree_entry_free)
	GS_DYNSYM(git_tree_entry_id)
	GS_DYNSYM(git_tree_entry_name)
	GS_DYNSYM(git_tree_entry_type)
	GS_DYNSYM(git_tree_entry_filemode)
	GS_DYNSYM(git_tree_free)
	GS_DYNSYM(git_tree_lookup)
	GS_DYNSYM(git_tree_walk)
	GS_DYNSYM(git_worktree_free)
	GS_DYNSYM(git_worktree_list)
	GS_DYNSYM(git_worktree_lookup)
	GS_DYNSYM(git_worktree_validate)
	GS_DYNSYM(git_index_new)
	GS_DYNSYM(git_index_read_tree)
	GS_DYNSYM(git_revwalk_free)
	GS_DYNSYM(git_revwalk_hide)
	GS_DYNSYM(git_revwalk_hide_glob)
	GS_DYNSYM(git_revwalk_new)
	GS_DYNSYM(git_revwalk_next)
	GS_DYNSYM(git_revwalk_push)
	GS_DYNSYM(git_revwalk_sorting)
	GS_DYNSYM(git_libgit2_opts)
#ifdef GITSEAL_TEST_HOOKS
	GS_DYNSYM(git_error_set_oom)
#endif
}

static struct gs_dynlib library = GS_DYNLIB(LIBGIT2_SONAME, resolve);

int gitfilter_libgit2_load(void)
{
	/* one dlopen at a time: this library pulls in libcrypto too, and
	 * glibc leaves a list unfreed when two threads open it at once */
	gs_libcrypto_warm_wait();
	return gs_dynlib_open(&library);
}

int git_ignore_path_is_ignored(int *ignored, git_repository *repo, const char *path)
{
	return p_git_ignore_path_is_ignored(ignored, repo, path);
}

int git_attr_cache_flush(git_repository *repo)
{
	return p_git_attr_cache_flush(repo);
}

int git_attr_get(const char **value_out, git_repository *repo, uint32_t flags, const char *path, const char *name)
{
	return p_git_attr_get(value_out, repo, flags, path, name);
}

int git_attr_get_many(const char **values_out, git_repository *repo, uint32_t flags, const char *path, size_t num_attr,
		      const char **names)
{
	return p_git_attr_get_many(values_out, repo, flags, path, num_attr, names);
}

git_attr_value_t git_attr_value(const char *attr)
{
	return p_git_attr_value(attr);
}

void git_blob_free(git_blob *blob)
{
	p_git_blob_free(blob);
}

int git_blob_lookup(git_blob **blob, git_repository *repo, const git_oid *id)
{
	return p_git_blob_lookup(blob, repo, id);
}

const void * git_blob_rawcontent(const git_blob *blob)
{
	return p_git_blob_rawcontent(blob);
}

git_object_size_t git_blob_rawsize(const git_blob *blob)
{
	return p_git_blob_rawsize(blob);
}

void git_config_free(git_config *cfg)
{
	p_git_config_free(cfg);
}

int git_config_open_level(git_config **out, const git_config *parent, git_config_level_t level)
{
	return p_git_config_open_level(out, parent, level);
}

int git_config_set_string(git_config *cfg, const char *name, const char *value)
{
	return p_git_config_set_string(cfg, name, value);
}

void git_error_clear(void)
{
	p_git_error_clear();
}

const git_error * git_error_last(void)
{
	return p_git_error_last();
}

int git_index_add(git_index *index, const git_index_entry *source_entry)
{
	return p_git_index_add(index, source_entry);
}

int git_index_entry_stage(const git_index_entry *entry)
{
	return p_git_index_entry_stage(entry);
}

size_t git_index_entrycount(const git_index *index)
{
	return p_git_index_entrycount(index);
}

int git_index_has_conflicts(const git_index *index)
{
	return p_git_index_has_conflicts(index);
}

void git_index_free(git_index *index)
{
	p_git_index_free(index);
}

const git_index_entry * git_index_get_byindex(git_index *index, size_t n)
{
	return p_git_index_get_byindex(index, n);
}

const git_index_entry * git_index_get_bypath(git_index *index, const char *path, int stage)
{
	return p_git_index_get_bypath(index, path, stage);
}

const char * git_index_path(const git_index *index)
{
	return p_git_index_path(index);
}

int git_index_read(git_index *index, int force)
{
	return p_git_index_read(index, force);
}

void gitrepo_test_log_cache(void)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *path = getenv("GITSEAL_TEST_CACHE_LOG");
	ssize_t current = 0, allowed = 0;
	FILE *log;

	if (!path || !*path || p_git_libgit2_opts(GIT_OPT_GET_CACHED_MEMORY, &current, &allowed) < 0 ||
	    !(log = fopen(path, "a")))
		return;
	fprintf(log, "%zd\n", current);
	fclose(log);
#endif
}

int git_index_write(git_index *index)
{
	gitrepo_test_count("GITSEAL_TEST_INDEX_LOG", "index");
	return p_git_index_write(index);
}

#ifdef GITSEAL_TEST_HOOKS
/* The test build's allocator for libgit2: gs_lib_alloc_refused may refuse
 * an allocation (gitseal/alloc.h), by libgit2's file and line. A refusal
 * sets libgit2's error as its own allocator does when malloc fails. */
/* Allocations libgit2 1.5 (Debian's 1.5.1) does not survive failing: its
 * own code then dereferences NULL (a SEGV in the filter process) or
 * reports something else than running out of memory. Nothing gitseal can
 * do about them, so they are not refused; found by the sweeps of
 * tests/git/oom_libs.bats, line 0 for every line of the file. */
static const struct {
	const char *file;
	int line;
} libgit2_unsafe[] = {
	{ "/threadstate.c", 0 },	  /* sets its error in the state it could not allocate */
	{ "/oidmap.c", 26 },		  /* a cache freed with no map */
	{ "/config_file.c", 805 },	  /* "failed to parse '(null)' as a 32-bit integer" */
	{ "/config_entries.c", 0 },	  /* a NULL entry list, freed */
	{ "/index.c", 947 },		  /* "invalid data in index - invalid entry" */
	{ "/refs.c", 42 }, { "/refs.c", 62 }, /* a NULL reference, used */
};

static bool libgit2_survives(const char *file, int line)
{
	size_t n = strlen(file);

	for (size_t i = 0; i < sizeof(libgit2_unsafe) / sizeof(libgit2_unsafe[0]); i++) {
		size_t m = strlen(libgit2_unsafe[i].file);

		if (n >= m && !strcmp(file + n - m, libgit2_unsafe[i].file) &&
		    (!libgit2_unsafe[i].line || libgit2_unsafe[i].line == line))
			return false;
	}
	return true;
}

static bool libgit2_alloc_refused(const char *file, int line)
{
	if (!libgit2_survives(file, line) || !gs_lib_alloc_refused(file, line))
		return false;
	p_git_error_set_oom();
	return true;
}

static void *hooked_malloc(size_t n, const char *file, int line)
{
	return libgit2_alloc_refused(file, line) ? NULL : malloc(n);
}

static void *hooked_calloc(size_t nelem, size_t elsize, const char *file, int line)
{
	return libgit2_alloc_refused(file, line) ? NULL : calloc(nelem, elsize);
}

static char *hooked_strdup(const char *str, const char *file, int line)
{
	return libgit2_alloc_refused(file, line) ? NULL : strdup(str);
}

static char *hooked_strndup(const char *str, size_t n, const char *file, int line)
{
	return libgit2_alloc_refused(file, line) ? NULL : strndup(str, n);
}

/* exactly n bytes of str, as libgit2's own */
static char *hooked_substrdup(const char *str, size_t n, const char *file, int line)
{
	char *p;

	if (n == SIZE_MAX || !(p = hooked_malloc(n + 1, file, line)))
		return NULL;
	memcpy(p, str, n);
	p[n] = '\0';
	return p;
}

static void *hooked_realloc(void *ptr, size_t size, const char *file, int line)
{
	return libgit2_alloc_refused(file, line) ? NULL : realloc(ptr, size);
}

static void *hooked_reallocarray(void *ptr, size_t nelem, size_t elsize, const char *file, int line)
{
	if (elsize && nelem > SIZE_MAX / elsize) {
		p_git_error_set_oom();
		return NULL;
	}
	return hooked_realloc(ptr, nelem * elsize, file, line);
}

static void *hooked_mallocarray(size_t nelem, size_t elsize, const char *file, int line)
{
	return hooked_reallocarray(NULL, nelem, elsize, file, line);
}

static const git_allocator hooked_allocator = {
	.gmalloc = hooked_malloc,
	.gcalloc = hooked_calloc,
	.gstrdup = hooked_strdup,
	.gstrndup = hooked_strndup,
	.gsubstrdup = hooked_substrdup,
	.grealloc = hooked_realloc,
	.greallocarray = hooked_reallocarray,
	.gmallocarray = hooked_mallocarray,
	.gfree = free,
};

/* Before libgit2's first allocation: its init keeps an allocator set
 * earlier. */
static void set_allocator(void)
{
	(void)p_git_libgit2_opts(GIT_OPT_SET_ALLOCATOR, &hooked_allocator);
}
#endif

/* libgit2 built with mbedTLS (Debian's 1.5) parses the system's CA bundle
 * in git_libgit2_init: about 54 M of the filter's 71 M instructions of
 * start-up (callgrind), in every process that opens a repository, for TLS
 * that gitseal never uses (no remote is ever contacted). The bundle's path
 * is compiled into libgit2 and no option comes before that parse, so the
 * binary exports mbedTLS's function (the Makefile's
 * --export-dynamic-symbol): libgit2, opened later, binds to this one.
 * While this thread runs git_libgit2_init it answers "cannot read the
 * file", and libgit2 goes on without CA certificates; any other call goes
 * to mbedTLS's own, so that a library that does talk TLS through mbedTLS
 * loads its certificates as before. */
struct mbedtls_x509_crt;
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path);

enum { MBEDTLS_ERR_X509_FILE_IO_ERROR = -0x2900 };

static _Thread_local bool skip_ca_bundle;

typedef int parse_file_fn(struct mbedtls_x509_crt *chain, const char *path);

struct real_parse {
	parse_file_fn *fn;
};

/* mbedTLS's own function: the first loaded object, other than this
 * binary, that resolves the name to another address. */
static int find_real_parse(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct real_parse *r = ctx;
	void *lib, *sym;

	(void)size;
	if (!info->dlpi_name || !info->dlpi_name[0] || !(lib = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD)))
		return 0;
	sym = dlsym(lib, "mbedtls_x509_crt_parse_file");
	/* POSIX: a function's address read through a void * (dlsym's idiom) */
	if (sym && sym != (void *)mbedtls_x509_crt_parse_file)
		*(void **)&r->fn = sym;
	dlclose(lib);
	return r->fn != NULL;
}

int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path)
{
	struct real_parse r = { NULL };

	if (skip_ca_bundle)
		return MBEDTLS_ERR_X509_FILE_IO_ERROR;
	dl_iterate_phdr(find_real_parse, &r);
	return r.fn ? r.fn(chain, path) : MBEDTLS_ERR_X509_FILE_IO_ERROR;
}

enum { TREE_CACHE_LIMIT = 16 * 1024 * 1024 };

int git_libgit2_init(void)
{
	int ret;

#ifdef GITSEAL_TEST_HOOKS
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	/* libgit2's setup sets OpenSSL up too (libssh2's): OpenSSL's
	 * allocator first */
	gs_libcrypto_hook_allocator();
	pthread_once(&once, set_allocator);
#endif
	skip_ca_bundle = true;
	ret = p_git_libgit2_init();
	skip_ca_bundle = false;
	/* libgit2 recorded that it found no certificates: not an error of ours */
	if (ret >= 0)
		p_git_error_clear();
	/* libgit2 keeps no tree over 4 KiB in its cache: a directory of 100
	 * files or more was read and parsed again for every path looked up
	 * in it (the history check, once per file: quadratic in the
	 * directory's size); kept, it is a binary search */
	if (ret >= 0 && p_git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)TREE_CACHE_LIMIT) < 0)
		p_git_error_clear();
	/* extensions git 2.39 writes into a repository of format version 1
	 * (a partial clone's) that libgit2 1.5 refuses to open it with:
	 * `git sparse-checkout` sets worktreeConfig (config.worktree is read
	 * by gitfilter_open), later gits set partialClone (a missing blob is
	 * fetched through git, gitrepo_read_blob) */
	if (ret >= 0) {
		const char *extensions[] = { "worktreeconfig", "partialclone" };

		if (p_git_libgit2_opts(GIT_OPT_SET_EXTENSIONS, extensions, sizeof(extensions) / sizeof(extensions[0])) < 0)
			p_git_error_clear();
	}
	return ret;
}

int git_libgit2_shutdown(void)
{
	return p_git_libgit2_shutdown();
}

int git_merge_file(git_merge_file_result *out, const git_merge_file_input *ancestor, const git_merge_file_input *ours, const git_merge_file_input *theirs, const git_merge_file_options *opts)
{
	return p_git_merge_file(out, ancestor, ours, theirs, opts);
}

int git_merge_file_input_init(git_merge_file_input *opts, unsigned int version)
{
	return p_git_merge_file_input_init(opts, version);
}

int git_merge_file_options_init(git_merge_file_options *opts, unsigned int version)
{
	return p_git_merge_file_options_init(opts, version);
}

void git_merge_file_result_free(git_merge_file_result *result)
{
	p_git_merge_file_result_free(result);
}

void git_object_free(git_object *object)
{
	p_git_object_free(object);
}

const char * git_repository_commondir(const git_repository *repo)
{
	return p_git_repository_commondir(repo);
}

int git_config_add_file_ondisk(git_config *cfg, const char *path, git_config_level_t level, const git_repository *repo,
			       int force)
{
	return p_git_config_add_file_ondisk(cfg, path, level, repo, force);
}

int git_repository_config(git_config **out, git_repository *repo)
{
	return p_git_repository_config(out, repo);
}

void git_repository_free(git_repository *repo)
{
	p_git_repository_free(repo);
}

int git_index_open(git_index **out, const char *index_path)
{
	return p_git_index_open(out, index_path);
}

int git_repository_index(git_index **out, git_repository *repo)
{
	return p_git_repository_index(out, repo);
}

int git_repository_open_ext(git_repository **out, const char *path, unsigned int flags, const char *ceiling_dirs)
{
	return p_git_repository_open_ext(out, path, flags, ceiling_dirs);
}

int git_repository_open_from_worktree(git_repository **out, git_worktree *wt)
{
	return p_git_repository_open_from_worktree(out, wt);
}

const char * git_repository_path(const git_repository *repo)
{
	return p_git_repository_path(repo);
}

int git_repository_set_index(git_repository *repo, git_index *index)
{
	return p_git_repository_set_index(repo, index);
}

const char * git_repository_workdir(const git_repository *repo)
{
	return p_git_repository_workdir(repo);
}

int git_revparse_single(git_object **out, git_repository *repo, const char *spec)
{
	return p_git_revparse_single(out, repo, spec);
}

int git_tree_entry_bypath(git_tree_entry **out, const git_tree *root, const char *path)
{
	return p_git_tree_entry_bypath(out, root, path);
}

void git_tree_entry_free(git_tree_entry *entry)
{
	p_git_tree_entry_free(entry);
}

const git_oid * git_tree_entry_id(const git_tree_entry *entry)
{
	return p_git_tree_entry_id(entry);
}

git_object_t git_tree_entry_type(const git_tree_entry *entry)
{
	return p_git_tree_entry_type(entry);
}

git_filemode_t git_tree_entry_filemode(const git_tree_entry *entry)
{
	return p_git_tree_entry_filemode(entry);
}

int git_blob_create_from_buffer(git_oid *id, git_repository *repo, const void *buffer, size_t len)
{
	return p_git_blob_create_from_buffer(id, repo, buffer, len);
}

void git_config_entry_free(git_config_entry *entry)
{
	p_git_config_entry_free(entry);
}

int git_config_get_entry(git_config_entry **out, const git_config *cfg, const char *name)
{
	return p_git_config_get_entry(out, cfg, name);
}

const char *git_tree_entry_name(const git_tree_entry *entry)
{
	return p_git_tree_entry_name(entry);
}

int git_tree_walk(const git_tree *tree, git_treewalk_mode mode, git_treewalk_cb callback, void *payload)
{
	return p_git_tree_walk(tree, mode, callback, payload);
}

void git_strarray_dispose(git_strarray *array)
{
	p_git_strarray_dispose(array);
}

void git_worktree_free(git_worktree *wt)
{
	p_git_worktree_free(wt);
}

int git_worktree_list(git_strarray *out, git_repository *repo)
{
	return p_git_worktree_list(out, repo);
}

int git_worktree_lookup(git_worktree **out, git_repository *repo, const char *name)
{
	return p_git_worktree_lookup(out, repo, name);
}

int git_worktree_validate(const git_worktree *wt)
{
	return p_git_worktree_validate(wt);
}

const git_tree_entry *git_tree_entry_byname(const git_tree *tree, const char *filename)
{
	return p_git_tree_entry_byname(tree, filename);
}

int git_tree_lookup(git_tree **out, git_repository *repo, const git_oid *id)
{
	return p_git_tree_lookup(out, repo, id);
}

void git_tree_free(git_tree *tree)
{
	p_git_tree_free(tree);
}

int git_oid_equal(const git_oid *a, const git_oid *b)
{
	return p_git_oid_equal(a, b);
}

int git_commit_lookup(git_commit **commit, git_repository *repo, const git_oid *id)
{
	return p_git_commit_lookup(commit, repo, id);
}

void git_commit_free(git_commit *commit)
{
	p_git_commit_free(commit);
}

int git_commit_tree(git_tree **tree_out, const git_commit *commit)
{
	return p_git_commit_tree(tree_out, commit);
}

unsigned int git_commit_parentcount(const git_commit *commit)
{
	return p_git_commit_parentcount(commit);
}

const git_oid *git_commit_parent_id(const git_commit *commit, unsigned int n)
{
	return p_git_commit_parent_id(commit, n);
}

int git_reference_name_to_id(git_oid *out, git_repository *repo, const char *name)
{
	return p_git_reference_name_to_id(out, repo, name);
}

int git_repository_mergehead_foreach(git_repository *repo, git_repository_mergehead_foreach_cb callback, void *payload)
{
	return p_git_repository_mergehead_foreach(repo, callback, payload);
}

const git_oid *git_commit_id(const git_commit *commit)
{
	return p_git_commit_id(commit);
}

int git_oid_fromstrn(git_oid *out, const char *str, size_t length)
{
	return p_git_oid_fromstrn(out, str, length);
}

int git_index_new(git_index **out)
{
	return p_git_index_new(out);
}

int git_index_read_tree(git_index *index, const git_tree *tree)
{
	return p_git_index_read_tree(index, tree);
}

void git_revwalk_free(git_revwalk *walk)
{
	p_git_revwalk_free(walk);
}

int git_revwalk_hide(git_revwalk *walk, const git_oid *commit_id)
{
	return p_git_revwalk_hide(walk, commit_id);
}

int git_revwalk_hide_glob(git_revwalk *walk, const char *glob)
{
	return p_git_revwalk_hide_glob(walk, glob);
}

int git_revwalk_new(git_revwalk **out, git_repository *repo)
{
	return p_git_revwalk_new(out, repo);
}

int git_revwalk_next(git_oid *out, git_revwalk *walk)
{
	return p_git_revwalk_next(out, walk);
}

int git_revwalk_push(git_revwalk *walk, const git_oid *id)
{
	return p_git_revwalk_push(walk, id);
}

int git_revwalk_sorting(git_revwalk *walk, unsigned int sort_mode)
{
	return p_git_revwalk_sorting(walk, sort_mode);
}
