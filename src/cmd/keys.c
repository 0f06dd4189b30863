/* gitseal rotate / updatekeys / filestatus: the key-management commands,
 * and their bulk form (-r DIR): a small pool of threads, each handling
 * whole files through code with no shared mutable state (the error
 * message is per thread; the config is only read). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "rotate_trust.h"
#include "session.h"

/* --add-* and --rm-* of rotate, each split at commas. */
enum key_change { ADD_AGE, RM_AGE, ADD_VAULT, RM_VAULT, ADD_PGP, RM_PGP, KEY_CHANGES };

struct key_changes {
	char **keys[KEY_CHANGES];
	size_t count[KEY_CHANGES];
};

static int key_changes_split(const struct sops_cli *c, struct key_changes *k)
{
	const char *const *given[KEY_CHANGES] = { c->add_age, c->rm_age, c->add_vault,
						  c->rm_vault, c->add_pgp, c->rm_pgp };
	const size_t counts[KEY_CHANGES] = { c->add_age_count, c->rm_age_count, c->add_vault_count,
					     c->rm_vault_count, c->add_pgp_count, c->rm_pgp_count };
	int ret;

	for (int i = 0; i < KEY_CHANGES; i++)
		if ((ret = sops_cli_split(given[i], counts[i], &k->keys[i], &k->count[i])) < 0)
			return ret;
	return 0;
}

static void key_changes_release(struct key_changes *k)
{
	for (int i = 0; i < KEY_CHANGES; i++)
		sops_cli_free_strings(k->keys[i], k->count[i]);
}

/* The old group's keys that are not removed. The file's keys of other
 * types are not carried: a new data key cannot be wrapped for them
 * (sops_encrypt_doc says so). */
static int keep_keys(const struct sops_key_group *old, const struct key_changes *k, struct sops_key_group *g)
{
	const struct sops_key_group rm = { .age = k->keys[RM_AGE], .age_count = k->count[RM_AGE],
					   .vault_uris = k->keys[RM_VAULT], .vault_count = k->count[RM_VAULT],
					   .pgp = k->keys[RM_PGP], .pgp_count = k->count[RM_PGP] };
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < old->age_count; i++)
		if (!sops_key_group_has(&rm, old->age[i]))
			ret = sops_key_group_add_age(g, old->age[i]);
	for (size_t i = 0; ret == 0 && i < old->vault_count; i++)
		if (!sops_key_group_has(&rm, old->vault_uris[i]))
			ret = sops_key_group_add_vault(g, old->vault_uris[i]);
	for (size_t i = 0; ret == 0 && i < old->pgp_count; i++)
		if (!sops_key_group_has(&rm, old->pgp[i]))
			ret = sops_key_group_add_pgp(g, old->pgp[i]);
	return ret;
}

static int add_keys(const struct key_changes *k, struct sops_key_group *g)
{
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < k->count[ADD_AGE]; i++)
		ret = sops_key_group_add_age(g, k->keys[ADD_AGE][i]);
	for (size_t i = 0; ret == 0 && i < k->count[ADD_VAULT]; i++)
		ret = sops_key_group_add_vault(g, k->keys[ADD_VAULT][i]);
	for (size_t i = 0; ret == 0 && i < k->count[ADD_PGP]; i++)
		ret = sops_key_group_add_pgp(g, k->keys[ADD_PGP][i]);
	return ret;
}

/* Every group keeps a key; there is a key at all. */
static int check_keys_left(const struct sops_key_group *g, size_t n)
{
	size_t keys = 0;

	for (size_t k = 0; k < n; k++) {
		size_t here = g[k].age_count + g[k].vault_count + g[k].pgp_count;

		if (n > 1 && !here)
			return GS_FAIL(GS_ERR_USAGE, "key group %zu would have no keys left", k);
		keys += here;
	}
	return keys ? 0 : GS_FAIL(GS_ERR_USAGE, "no keys left after --rm-age/--rm-pgp/--rm-hc-vault-transit");
}

/* The file's groups with --rm-* keys taken out of every group and --add-*
 * keys added to group 0 (sops: added keys go into the first group). The
 * file's recipients that stay must be named by a reference or confirmed
 * (rotate_trust.h); the added ones are the user's own. */
static int rotate_groups(const struct sops_cli *c, struct rotate_refs *refs, const struct sops_session *s,
			 struct sops_key_group **out, size_t *n)
{
	size_t count = s->keys->group_count;
	struct key_changes changes = { 0 };
	struct sops_key_group *g;
	int ret;

	*out = NULL;
	*n = 0;
	if (!(g = gs_calloc(count + 1, sizeof(*g))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = key_changes_split(c, &changes)) < 0)
		goto out;
	for (size_t k = 0; k < count; k++)
		if ((ret = keep_keys(&s->keys->groups[k], &changes, &g[k])) < 0)
			goto out;
	if ((ret = rotate_refs_check(refs, c, c->file, g, count, s->keys->shamir_threshold)) < 0)
		goto out;
	if ((ret = add_keys(&changes, &g[0])) < 0 || (ret = check_keys_left(g, count)) < 0)
		goto out;
	*out = g;
	*n = count;
out:
	key_changes_release(&changes);
	if (ret < 0)
		sops_key_groups_free(g, count);
	return ret;
}

/* rotate for one file: a new data key, every value re-encrypted. */
static int rotate_one(const struct sops_cli *c, struct rotate_refs *refs, const char *file, struct gs_buf *out)
{
	struct sops_cli fc = *c;
	struct sops_session s;
	struct sops_key_group *groups = NULL;
	size_t n = 0;
	int threshold = 0, ret;

	fc.file = file;
	sops_session_init(&s);
	s.writes_back = true;
	if ((ret = sops_cli_check_foreign_keys(c, false)) < 0 || (ret = sops_session_open(&s, &fc, false)) < 0 ||
	    (ret = rotate_groups(&fc, refs, &s, &groups, &n)) < 0)
		goto out;
	threshold = c->shamir_threshold ? c->shamir_threshold : s.keys->shamir_threshold;
	ret = sops_session_seal(&s, s.plain, groups, n, threshold, true, out);
	/* in bulk (-r) nothing is asked per file: -y is needed */
	if (ret == GS_ERR_UNSUPPORTED_KEY &&
	    (c->recursive ? c->drop_unsupported_keys && c->yes : sops_cli_confirm_drop(c, file))) {
		s.drop_unsupported_keys = true;
		ret = sops_session_seal(&s, s.plain, groups, n, threshold, true, out);
	}
out:
	sops_key_groups_free(groups, n);
	sops_session_release(&s);
	return ret;
}

/* Each key as the terminal may show it (gs_shown): the file's keys
 * come from its metadata, .sops.yaml's from the repository, and a control
 * byte in one (a kms entry, kept, whose arn is "\e[1A\e[2K") erased the
 * "+++" line above it, so y was answered to a recipient never seen. */
static void print_keys(char *const *want, size_t nw, const struct sops_key_group *w, char *const *have,
		       size_t nh, const struct sops_key_group *h)
{
	for (size_t i = 0; i < nw; i++)
		fprintf(stderr, "%s %s\n", h && sops_key_group_has(h, want[i]) ? "   " : "+++", gs_shown(want[i]));
	for (size_t i = 0; i < nh; i++)
		if (!w || !sops_key_group_has(w, have[i]))
			fprintf(stderr, "--- %s\n", gs_shown(have[i]));
}

static void print_group_diff(const struct sops_key_group *want, size_t nw, const struct sops_key_group *have,
			     size_t nh)
{
	size_t n = nw > nh ? nw : nh;

	for (size_t k = 0; k < n; k++) {
		const struct sops_key_group *w = k < nw ? &want[k] : NULL, *h = k < nh ? &have[k] : NULL;

		if (n > 1)
			fprintf(stderr, "Group %zu\n", k + 1);
		print_keys(w ? w->age : NULL, w ? w->age_count : 0, w, h ? h->age : NULL, h ? h->age_count : 0, h);
		print_keys(w ? w->pgp : NULL, w ? w->pgp_count : 0, w, h ? h->pgp : NULL, h ? h->pgp_count : 0, h);
		print_keys(w ? w->vault_uris : NULL, w ? w->vault_count : 0, w, h ? h->vault_uris : NULL,
			   h ? h->vault_count : 0, h);
		/* keys gitseal cannot wrap for stay as they are (it never removes one) */
		for (size_t i = 0; w && i < w->foreign_count; i++)
			fprintf(stderr, "%s %s\n", h && sops_key_group_has(h, w->foreign[i]) ? "   " : "+++",
				gs_shown(w->foreign[i]));
		for (size_t i = 0; h && i < h->foreign_count; i++)
			if (!w || !sops_key_group_has(w, h->foreign[i]))
				fprintf(stderr, "    %s (kept: gitseal cannot wrap for it)\n", gs_shown(h->foreign[i]));
	}
}

/* sops asks on standard input, a terminal or a pipe, until the answer is
 * y or n (updatekeys.go:87, fmt.Scanln): 1 yes, 0 no; GS_ERR_USAGE when
 * the input ends or the line is empty, as Scanln fails then. */
static int confirm(const char *file)
{
	char answer[64];

	for (;;) {
		size_t n;

		fprintf(stderr, "Is this okay for '%s'? (y/n): ", gs_shown(file));
		fflush(stderr);
		if (!fgets(answer, sizeof(answer), stdin))
			return GS_FAIL(GS_ERR_USAGE, "no answer on standard input (use -y)");
		n = strcspn(answer, "\r\n");
		answer[n] = '\0';
		if (!n)
			return GS_FAIL(GS_ERR_USAGE, "no answer (use -y)");
		if (!strcmp(answer, "y") || !strcmp(answer, "n"))
			return answer[0] == 'y';
	}
}

/* After the keys: the number of groups and how many are needed, when
 * either changes. A lower threshold lets more people read with no key
 * added, and the keys' lines alone do not show it. */
static int print_groups_change(size_t from_groups, int from_threshold, size_t to_groups, int to_threshold)
{
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, false);
	ret = sops_groups_change_describe(from_groups, from_threshold, to_groups, to_threshold, "", &text);
	if (!ret && text.len)
		fwrite(text.data, 1, text.len, stderr);
	gs_buf_release(&text);
	return ret;
}

/* Re-wraps one file's data key for the keys of its creation rule. With
 * walked (-r: the file the walk found, and only it is replaced, in a
 * directory still beneath root when root is given), nothing is printed or
 * asked (-y is required). *changed tells whether the file
 * was rewritten. */
static int update_one(const struct sops_cli *c, const struct sops_config *config, const char *file,
		      const struct gs_file_id *walked, const char *root, bool *changed)
{
	bool bulk = walked != NULL;
	struct sops_cli fc = *c;
	const struct sops_rule *rule = NULL;
	struct sops_session s;
	struct gs_buf out;
	int threshold, ret;

	*changed = false;
	fc.file = file;
	sops_session_init(&s);
	gs_buf_init(&out, false);
	if (!config) {
		ret = GS_FAIL(GS_ERR_CONFIG, "no .sops.yaml found");
		goto out;
	}
	if ((ret = sops_config_match(config, file, &rule)) < 0 || (ret = sops_session_open(&s, &fc, true)) < 0)
		goto out;
	threshold = c->shamir_threshold ? c->shamir_threshold : rule->shamir_threshold;
	/* an age entry that names no recipient is no key of the rule's: it
	 * goes (with --drop-unsupported-keys, once confirmed), as sops drops it */
	if (!s.keys->unnamed_age &&
	    sops_key_groups_equal(rule->groups, rule->group_count, s.keys->groups, s.keys->group_count) &&
	    sops_groups_needed(rule->group_count, threshold) ==
		    sops_groups_needed(s.keys->group_count, s.keys->shamir_threshold)) {
		if (!bulk)
			fprintf(stderr, "gitseal: '%s': already up to date\n", gs_shown(file));
		goto out;
	}
	if (!bulk) {
		print_group_diff(rule->groups, rule->group_count, s.keys->groups, s.keys->group_count);
		if ((ret = print_groups_change(s.keys->group_count, s.keys->shamir_threshold, rule->group_count,
					       threshold)) < 0)
			goto out;
		/* n leaves the file as it is, and that is a success (updatekeys.go:96) */
		if (!c->yes && (ret = confirm(file)) <= 0) {
			if (ret == 0)
				fprintf(stderr, "gitseal: '%s': left unchanged\n", gs_shown(file));
			goto out;
		}
		ret = 0;
	}
	ret = sops_session_seal(&s, s.plain, rule->groups, rule->group_count, threshold, false, &out);
	if (ret == GS_ERR_UNSUPPORTED_KEY &&
	    (bulk ? c->drop_unsupported_keys && c->yes : sops_cli_confirm_drop(c, file))) {
		s.drop_unsupported_keys = true;
		ret = sops_session_seal(&s, s.plain, rule->groups, rule->group_count, threshold, false, &out);
	}
	if (ret < 0 || (ret = walked ? gs_replace_found(file, walked, root, out.data, out.len)
				     : gs_output_write(file, out.data, out.len, 0600)) < 0)
		goto out;
	*changed = true;
	if (!bulk)
		fprintf(stderr, "gitseal: '%s': keys updated\n", gs_shown(file));
out:
	gs_buf_release(&out);
	sops_session_release(&s);
	return ret;
}

/* ---- the repository: where -r walks, and whose rules a named file gets ---- */

/* One line when a file named on the command line lies outside the
 * repository: what is done to it is done because the user named it, and
 * the user sees that it is. */
static void note_outside(const char *root, const char *file, const char *what)
{
	char real[PATH_MAX];

	if (cmd_leads_outside(root, file, real))
		cmd_warnf("'%s' leads outside the repository '%s', to '%s': %s only because it was named (-r does not "
			  "follow it)", gs_shown(file), gs_shown(root), gs_shown(real), what);
}

/* ---- bulk: -r DIR, a pool of workers over every sops file below ---- */

/* BULK_LINK: a symbolic link out of the walk, named in the summary */
enum bulk_status { BULK_SKIPPED, BULK_UPDATED, BULK_SAME, BULK_FAILED, BULK_LINK };

struct bulk_job {
	char *path;
	struct gs_file_id id; /* the file the walk found: the one replaced, or nothing is */
	char *link_target; /* BULK_LINK: its real path */
	const char *walked; /* BULK_LINK: the directory named */
	enum bulk_status status;
	char message[512];
};

struct bulk {
	const struct sops_cli *cli;
	const struct sops_config *config;
	struct rotate_refs *refs; /* rotate */
	const char *root;         /* the repository, or NULL: where each write's directory must still be */
	bool rotate;
	struct bulk_job *jobs;
	size_t count, cap;
	size_t next, finished;
	bool progress;
	pthread_mutex_t lock;
};

static int bulk_add(struct bulk *b, const char *path, const struct stat *st, const char *link_target,
		    const char *walked)
{
	int ret;

	if ((ret = GS_ARRAY_GROW(b->jobs, b->count, b->cap, 64)) < 0)
		return ret;
	memset(&b->jobs[b->count], 0, sizeof(b->jobs[0]));
	if (!(b->jobs[b->count].path = gs_strdup(path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	b->jobs[b->count].id = (struct gs_file_id){ st->st_dev, st->st_ino };
	b->count++;
	if (link_target) {
		b->jobs[b->count - 1].status = BULK_LINK;
		b->jobs[b->count - 1].walked = walked;
		if (!(b->jobs[b->count - 1].link_target = gs_strdup(link_target)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* A symbolic link met by the walk of named (top, its real path): never
 * followed; one that leads out of the walk is kept, to be named in the
 * summary (as git does not follow it, tests/git/symlinks.bats). Apart from
 * bulk_collect: the PATH_MAX buffer is on the stack only for a link, not
 * at every level. */
static __attribute__((noinline)) int bulk_link(struct bulk *b, const char *named, const char *top, const char *path,
					       const struct stat *st)
{
	char real[PATH_MAX];

	return cmd_leads_outside(top, path, real) ? bulk_add(b, path, st, real, named) : 0;
}

/* Regular files below dir (opened as dir_fd, closed here), .git skipped,
 * symbolic links not followed: each directory is entered through its
 * parent's descriptor, never through a link put in its place after it
 * was looked at, and each file's identity is kept for the write
 * (gs_replace_found). */
static int bulk_collect(struct bulk *b, const char *named, const char *top, const char *dir, int dir_fd, int depth)
{
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (depth > 64) {
		close(dir_fd);
		return GS_FAIL(GS_ERR_LIMIT, "'%s': directories nested too deeply", gs_shown(dir));
	}
	if (dir_fd < 0 || !(d = fdopendir(dir_fd))) {
		ret = GS_FAIL(GS_ERR_IO, "cannot read directory '%s': %s", gs_shown(dir), strerror(errno));
		if (dir_fd >= 0)
			close(dir_fd);
		return ret;
	}
	while (!ret && (e = readdir(d))) {
		struct stat st;
		char *path = NULL;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".git"))
			continue;
		if (gs_asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name) < 0)
			return closedir(d), GS_FAIL(GS_ERR_NOMEM, "out of memory");
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode))
				ret = bulk_collect(b, named, top, path,
						   openat(dirfd(d), e->d_name,
							  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
						   depth + 1);
			else if (S_ISLNK(st.st_mode))
				ret = bulk_link(b, named, top, path, &st);
			else if (S_ISREG(st.st_mode) && st.st_size > 0 && (size_t)st.st_size <= STORE_MAX_INPUT)
				ret = bulk_add(b, path, &st, NULL, NULL);
		}
		free(path);
	}
	closedir(d);
	return ret;
}

static int job_cmp(const void *x, const void *y)
{
	return strcmp(((const struct bulk_job *)x)->path, ((const struct bulk_job *)y)->path);
}

/* A sops file: it loads in the format of its name and has sops metadata. */
static bool is_sops_file(const struct sops_cli *c, const char *path)
{
	struct sops_cli fc = *c;
	struct gs_buf in;
	struct doc d;
	bool yes = false;

	fc.file = path;
	gs_buf_init(&in, false);
	doc_init(&d, DOC_FORMAT_YAML);
	if (gs_read_file(path, &in, STORE_MAX_INPUT) == 0 && memmem(in.data, in.len, SOPS_METADATA_KEY, SOPS_METADATA_KEY_LEN) &&
	    store_load(sops_cli_input_format(&fc), in.data, in.len, &d) == 0)
		yes = sops_doc_is_encrypted(&d);
	doc_release(&d);
	gs_buf_release(&in);
	gs_error_clear();
	return yes;
}

static void bulk_progress(struct bulk *b)
{
	int width = 30, filled = b->count ? (int)(b->finished * (size_t)width / b->count) : width;

	fprintf(stderr, "\r[%.*s%*s] %zu/%zu", filled, "##############################", width - filled,
		"", b->finished, b->count);
	if (b->finished == b->count)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static void bulk_run_job(struct bulk *b, struct bulk_job *j)
{
	struct gs_buf out;
	bool changed = false;
	int ret;

	if (j->status == BULK_LINK)
		return;
	if (!is_sops_file(b->cli, j->path)) {
		j->status = BULK_SKIPPED;
		return;
	}
	if (b->rotate) {
		gs_buf_init(&out, false);
		if ((ret = rotate_one(b->cli, b->refs, j->path, &out)) == 0)
			ret = gs_replace_found(j->path, &j->id, b->root, out.data, out.len);
		gs_buf_release(&out);
		changed = true;
	} else {
		ret = update_one(b->cli, b->config, j->path, &j->id, b->root, &changed);
	}
	if (ret) {
		j->status = BULK_FAILED;
		snprintf(j->message, sizeof(j->message), "%s", gs_error_message());
	} else {
		j->status = changed ? BULK_UPDATED : BULK_SAME;
	}
	gs_error_clear();
}

static void *bulk_worker(void *arg)
{
	struct bulk *b = arg;

	for (;;) {
		struct bulk_job *j;

		pthread_mutex_lock(&b->lock);
		j = b->next < b->count ? &b->jobs[b->next++] : NULL;
		pthread_mutex_unlock(&b->lock);
		if (!j)
			break;
		bulk_run_job(b, j);
		pthread_mutex_lock(&b->lock);
		b->finished++;
		if (b->progress)
			bulk_progress(b);
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

static int bulk_workers(size_t jobs)
{
	const char *env = getenv("GITSEAL_JOBS");
	long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	if ((size_t)n > jobs)
		n = jobs ? (long)jobs : 1;
	return (int)n;
}

/* Runs rotate or updatekeys over every sops file below the given
 * directories; prints one line per file; 1 if any failed. */
static int bulk_main(const struct sops_cli *c, const struct sops_config *config, struct rotate_refs *refs)
{
	struct bulk b;
	char root[PATH_MAX], top[PATH_MAX];
	pthread_t threads[64];
	int started = 0, n, code = EXIT_OK, ret = 0;
	size_t updated = 0, same = 0, failed = 0;

	memset(&b, 0, sizeof(b));
	b.cli = c;
	b.config = config;
	b.refs = refs;
	b.rotate = refs != NULL;
	b.progress = isatty(STDERR_FILENO);
	pthread_mutex_init(&b.lock, NULL);
	if (!c->file) {
		cmd_errorf("%s -r needs a directory", c->command);
		code = EXIT_SOPS_NO_FILE;
		goto out;
	}
	if ((ret = cmd_repo_root(root)) < 0) {
		cmd_print_error();
		code = cmd_sops_exit_code(ret);
		goto out;
	}
	b.root = root[0] ? root : NULL;
	for (int i = -1; !ret && i < c->rest_count; i++) {
		const char *dir = i < 0 ? c->file : c->rest[i];

		/* a directory named outside the repository, or through a link
		 * that leads out of it: its files are named one by one or not at all */
		if (cmd_leads_outside(root, dir, top)) {
			cmd_warnf("'%s' leads outside the repository '%s', to '%s': not walked (name its files to %s them)",
				  gs_shown(dir), gs_shown(root), gs_shown(top), b.rotate ? "rotate" : "update");
			continue;
		}
		if (!realpath(dir, top))
			top[0] = '\0';
		/* the real path checked above, not dir: a link put in its place since */
		ret = bulk_collect(&b, dir, top, dir, open(top[0] ? top : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), 0);
	}
	if (ret) {
		cmd_print_error();
		code = EXIT_GENERIC;
		goto out;
	}
	if (b.count) /* qsort takes no NULL array, even empty */
		qsort(b.jobs, b.count, sizeof(*b.jobs), job_cmp);
	n = bulk_workers(b.count);
	for (int i = 0; i < n; i++) {
		if (pthread_create(&threads[i], NULL, bulk_worker, &b) != 0)
			break;
		started++;
	}
	if (!started)
		bulk_worker(&b);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < b.count; i++) {
		struct bulk_job *j = &b.jobs[i];

		switch (j->status) {
		case BULK_SKIPPED:
			break;
		case BULK_LINK:
			cmd_warnf("'%s' is a symbolic link to '%s', outside '%s': not followed", gs_shown(j->path),
				  gs_shown(j->link_target), gs_shown(j->walked));
			break;
		case BULK_UPDATED:
			updated++;
			printf("%s: %s\n", gs_shown(j->path), b.rotate ? "rotated" : "updated");
			break;
		case BULK_SAME:
			same++;
			printf("%s: up to date\n", gs_shown(j->path));
			break;
		case BULK_FAILED:
			failed++;
			printf("%s: error: %s\n", gs_shown(j->path), j->message);
			break;
		}
	}
	fflush(stdout);
	fprintf(stderr, "gitseal: %zu files %s, %zu up to date, %zu failed\n", updated,
		b.rotate ? "rotated" : "updated", same, failed);
	if (failed)
		code = EXIT_GENERIC;
out:
	for (size_t i = 0; i < b.count; i++) {
		free(b.jobs[i].path);
		free(b.jobs[i].link_target);
	}
	free(b.jobs);
	pthread_mutex_destroy(&b.lock);
	return code;
}

int cmd_rotate(int argc, char **argv)
{
	struct sops_cli c;
	struct rotate_refs refs;
	struct gs_buf out;
	char root[PATH_MAX];
	bool have_refs = false;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "rotate");
	gs_buf_init(&out, false);
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0)
		goto fail;
	if (!c.file) {
		cmd_errorf("%s", c.recursive ? "rotate -r needs a directory" : "rotate needs a file");
		code = EXIT_SOPS_NO_FILE;
		goto out;
	}
	have_refs = true;
	if ((ret = rotate_refs_open(&refs, &c, c.file)) < 0)
		goto fail;
	if (c.recursive) {
		code = bulk_main(&c, NULL, &refs);
		goto out;
	}
	sops_cli_one_file(&c);
	if ((ret = cmd_repo_root(root)) < 0)
		goto fail;
	if (c.in_place)
		note_outside(root, c.file, "rotated in place");
	if ((ret = sops_cli_require_file(&c)) < 0 || (ret = rotate_one(&c, &refs, c.file, &out)) < 0 ||
	    (ret = sops_cli_write(&c, out.data, out.len)) < 0)
		goto fail;
	goto out;
fail:
	code = sops_cli_fail(&c, ret);
out:
	if (have_refs)
		rotate_refs_release(&refs);
	gs_buf_release(&out);
	sops_cli_release(&c);
	return code;
}

int cmd_updatekeys(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_config *config = NULL;
	const char *first;
	char root[PATH_MAX];
	bool changed;
	int ret, code = EXIT_OK, failed = 0;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (opt_is_help(argv[i])) {
			sops_command_usage(stdout, sops_command_find("updatekeys"));
			fputs("files under the git filter: gitseal updatekeys [-y] [--rotate] FILE... | -r [DIR]\n"
			      "  (--rotate: a new data key as well; see gitseal-git(1))\n", stdout);
			return EXIT_OK;
		}
	}
	/* plaintext in a work tree under the gitseal filter: the staged
	 * version is what updatekeys changes (src/cmd/git.c) */
	if (git_updatekeys_applies(argc, argv))
		return git_updatekeys(argc, argv);
	gs_harden_process();
	sops_cli_init(&c, "updatekeys");
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0)
		goto fail;
	if (!c.file) {
		cmd_errorf("updatekeys needs at least one file");
		code = EXIT_SOPS_NO_FILE;
		goto out;
	}
	if (c.recursive && !c.yes) {
		ret = GS_FAIL(GS_ERR_USAGE, "updatekeys -r needs -y (no questions are asked per file)");
		goto fail;
	}
	if ((ret = sops_cli_load_config(&c, &config)) < 0)
		goto fail;
	if (c.recursive && !config) {
		ret = GS_FAIL(GS_ERR_CONFIG, "no .sops.yaml found");
		goto fail;
	}
	if (c.recursive) {
		code = bulk_main(&c, config, NULL);
		goto out;
	}
	first = c.file;
	if ((ret = cmd_repo_root(root)) < 0)
		goto fail;
	for (int i = -1; i < c.rest_count; i++) {
		const char *file = i < 0 ? first : c.rest[i];

		note_outside(root, file, "the recipients of the repository's .sops.yaml are applied to it");
		ret = update_one(&c, config, file, NULL, NULL, &changed);
		if (ret) {
			c.file = file;
			code = sops_cli_fail(&c, ret);
			/* sops: a file that cannot be read or parsed is a generic
			 * error here (updatekeys.go:33, main.go:768) */
			if (code == EXIT_SOPS_READ_INPUT)
				code = EXIT_GENERIC;
			failed++;
		}
	}
	c.file = first;
	if (failed && c.rest_count > 0)
		code = EXIT_GENERIC;
	goto out;
fail:
	code = sops_cli_fail(&c, ret);
out:
	sops_config_free(config);
	sops_cli_release(&c);
	return code;
}

/* Whether a loaded document is a sops file: a metadata map with a
 * version and a MAC (sops filestatus.go). */
static bool has_sops_metadata(const struct doc *d)
{
	const struct doc_entry *meta = sops_metadata_entry(d), *version, *mac;

	if (!meta || meta->value->kind != DOC_MAP)
		return false;
	version = doc_map_find(meta->value, "version");
	mac = doc_map_find(meta->value, "mac");
	return version && mac && version->value->len && mac->value->len;
}

int cmd_filestatus(int argc, char **argv)
{
	struct sops_cli c;
	struct gs_buf in;
	struct doc d;
	int ret, code = EXIT_OK;

	sops_cli_init(&c, "filestatus");
	gs_buf_init(&in, false);
	doc_init(&d, DOC_FORMAT_YAML);
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0)
		goto fail;
	if (!c.file) {
		c.code = EXIT_SOPS_NO_FILE;
		ret = GS_FAIL(GS_ERR_USAGE, "no file specified");
		goto fail;
	}
	/* any other failure: "cannot check file status", 1 (filestatus.go:26) */
	if (!c.code)
		c.code = EXIT_GENERIC;
	if ((ret = sops_cli_read_input(&c, &in)) < 0 ||
	    (ret = store_load(sops_cli_input_format(&c), in.data, in.len, &d)) < 0)
		goto fail;
	if (has_sops_metadata(&d))
		ret = gs_output_write("-", (const uint8_t *)"{\"encrypted\":true}\n", 19, 0);
	else
		ret = gs_output_write("-", (const uint8_t *)"{\"encrypted\":false}\n", 20, 0);
	if (ret < 0)
		goto fail;
	goto out;
fail:
	code = sops_cli_fail(&c, ret);
out:
	doc_release(&d);
	gs_buf_release(&in);
	sops_cli_release(&c);
	return code;
}
