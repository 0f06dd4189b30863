/* rotate: the file's recipients against the references (rotate_trust.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/shown.h"

#include "cmd.h"
#include "rotate_trust.h"

/* The repository holding where, when `gitseal git init` set it up. */
static struct gitfilter *open_repo(const char *where)
{
	char dir[PATH_MAX];
	struct gitfilter *f = NULL;
	struct stat st;
	char *slash;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", where) >= sizeof(dir))
		return NULL;
	if (!(stat(where, &st) == 0 && S_ISDIR(st.st_mode))) {
		slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir] = '\0';
		else
			strcpy(dir, ".");
	}
	if (gitfilter_open(dir, &f) == 0 && gitfilter_configured(f))
		return f;
	gs_error_clear();
	gitfilter_free(f);
	return NULL;
}

int rotate_refs_open(struct rotate_refs *r, const struct sops_cli *c, const char *where)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->repo = open_repo(where);
	return sops_cli_load_config(c, &r->config);
}

void rotate_refs_release(struct rotate_refs *r)
{
	gitfilter_free(r->repo);
	sops_config_free(r->config);
	pthread_mutex_destroy(&r->lock);
	memset(r, 0, sizeof(*r));
}

/* Whether the reference names key of file group k. In a repository under
 * the filter only the clone's accepted set counts: its .sops.yaml is
 * repository content too (a pull request can change it and the metadata
 * together); the clone accepts recipients per path (those of the accepted
 * .sops.yaml's rule for it, and those updatekeys accepted for it), in the
 * rule's key group when it has groups. */
static int named(struct rotate_refs *r, const char *file, const struct sops_rule *rule, size_t k, const char *key,
		 bool *yes)
{
	int ret = 0;

	if (r->repo) {
		pthread_mutex_lock(&r->lock);
		ret = gitfilter_recipient_accepted_in(r->repo, file, k, key, yes);
		pthread_mutex_unlock(&r->lock);
		return ret;
	}
	/* per key group: a recipient moved to another group changes how
	 * many groups must come together */
	*yes = k < rule->group_count && sops_key_group_has(&rule->groups[k], key);
	return 0;
}

/* "+KEY, +KEY" for the recipients no reference names (a key as the
 * terminal may show it: it comes from the metadata, and a control byte
 * could rewrite the line the user answers); *which says what they were
 * compared with, NULL when there is no reference. */
static int unnamed(struct rotate_refs *r, const char *file, const struct sops_key_group *groups, size_t n,
		   struct gs_buf *list, const char **which)
{
	const struct sops_rule *rule = NULL;
	int ret = 0;

	*which = NULL;
	if (r->repo) {
		*which = "this clone's accepted recipients";
	} else if (r->config) {
		ret = sops_config_match(r->config, file, &rule);
		if (ret == GS_ERR_NO_RULE) {
			gs_error_clear();
			return 0;
		}
		*which = ".sops.yaml's creation rule for it";
	}
	for (size_t k = 0; *which && !ret && k < n; k++) {
		for (size_t i = 0; !ret && i < sops_key_group_size(&groups[k]); i++) {
			const char *key = sops_key_group_key(&groups[k], i);
			bool yes = false;

			if ((ret = named(r, file, rule, k, key, &yes)) || yes)
				continue;
			/* accepted, but in another key group than this one */
			if (r->repo) {
				pthread_mutex_lock(&r->lock);
				ret = gitfilter_recipient_accepted(r->repo, file, key, &yes);
				pthread_mutex_unlock(&r->lock);
			}
			if (!ret && yes)
				ret = gs_buf_printf(list, "%s+%s (in key group %zu)", list->len ? ", " : "",
						    gs_shown(key), k + 1);
			else if (!ret)
				ret = gs_buf_printf(list, "%s+%s", list->len ? ", " : "", gs_shown(key));
		}
	}
	return ret;
}

/* How many key groups must come together: sops splits the data key only
 * over two groups or more, and a threshold of 0 means all of them. */
static int needed(size_t groups, int threshold)
{
	return groups > 1 ? (threshold ? threshold : (int)groups) : 1;
}

/* The reference's key groups for file: *which NULL when there is none (no
 * accepted .sops.yaml, no .sops.yaml, or no rule for the file). */
static int reference_groups(struct rotate_refs *r, const char *file, size_t *groups, int *threshold,
			    const char **which)
{
	const struct sops_rule *rule = NULL;
	int ret;

	*which = NULL;
	if (r->repo) {
		pthread_mutex_lock(&r->lock);
		ret = gitfilter_accepted_groups(r->repo, file, groups, threshold);
		pthread_mutex_unlock(&r->lock);
		if (!ret && *groups)
			*which = "this clone's accepted .sops.yaml";
		return ret;
	}
	if (!r->config)
		return 0;
	ret = sops_config_match(r->config, file, &rule);
	if (ret == GS_ERR_NO_RULE) {
		gs_error_clear();
		return 0;
	}
	if (ret)
		return ret;
	*groups = rule->group_count;
	*threshold = rule->shamir_threshold;
	*which = ".sops.yaml's creation rule for it";
	return 0;
}

/* "groups needed: 3 -> 1" when the file's groups (n, threshold) need fewer
 * of them than the reference's, or are not as many: the threshold and the
 * groups are outside the MAC. An explicit threshold is the user's own. */
static int weaker_groups(struct rotate_refs *r, const struct sops_cli *c, const char *file, size_t n,
			 int threshold, struct gs_buf *change, const char **which)
{
	size_t want_groups = 0;
	int want_threshold = 0, ret;

	*which = NULL;
	if (c->shamir_threshold)
		return 0;
	if ((ret = reference_groups(r, file, &want_groups, &want_threshold, which)) || !*which)
		return ret;
	if (n == want_groups && needed(n, threshold) >= needed(want_groups, want_threshold))
		return 0;
	if (n != want_groups && (ret = gs_buf_printf(change, "key groups: %zu -> %zu, ", want_groups, n)) < 0)
		return ret;
	return gs_buf_printf(change, "groups needed: %d -> %d", needed(want_groups, want_threshold),
			     needed(n, threshold));
}

static bool ask(const char *file, const char *how)
{
	char answer[16];

	fprintf(stderr, "Rotate '%s' %s? (y/n): ", gs_shown(file), how);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin)) {
		fputc('\n', stderr);
		return false;
	}
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* 0 when the user confirms what (-y, or y on the terminal; never asked in
 * bulk), else GS_ERR_GENERIC and the same line. */
static int confirm(const struct sops_cli *c, const char *file, const char *what, const char *how)
{
	if (c->yes || (!c->recursive && isatty(STDIN_FILENO))) {
		fprintf(stderr, "gitseal: '%s': %s\n", gs_shown(file), what);
		if (c->yes || ask(file, how))
			return 0;
	}
	return GS_FAIL(GS_ERR_GENERIC, "'%s': %s (rotate -y to confirm)", gs_shown(file), what);
}

static int check_recipients(struct rotate_refs *r, const struct sops_cli *c, const char *file,
			    const struct sops_key_group *groups, size_t n)
{
	struct gs_buf list, what;
	const char *which;
	int ret;

	gs_buf_init(&list, false);
	gs_buf_init(&what, false);
	if ((ret = unnamed(r, file, groups, n, &list, &which)) || !list.len)
		goto out;
	if (!(ret = gs_buf_printf(&what, "recipients only in its metadata, not in %s: %s; the new data key would "
					 "be readable by them", which, (const char *)list.data)))
		ret = confirm(c, file, (const char *)what.data, "for them too");
out:
	gs_buf_release(&what);
	gs_buf_release(&list);
	return ret;
}

static int check_groups(struct rotate_refs *r, const struct sops_cli *c, const char *file, size_t n,
			int threshold)
{
	struct gs_buf change, what;
	const char *which;
	int ret;

	gs_buf_init(&change, false);
	gs_buf_init(&what, false);
	if ((ret = weaker_groups(r, c, file, n, threshold, &change, &which)) || !change.len)
		goto out;
	if (!(ret = gs_buf_printf(&what, "key groups in its metadata differ from %s: %s; the new data key would be "
					 "split as the metadata says", which, (const char *)change.data)))
		ret = confirm(c, file, (const char *)what.data, "so");
out:
	gs_buf_release(&what);
	gs_buf_release(&change);
	return ret;
}

int rotate_refs_check(struct rotate_refs *r, const struct sops_cli *c, const char *file,
		      const struct sops_key_group *groups, size_t n, int threshold)
{
	int ret = check_recipients(r, c, file, groups, n);

	return ret ? ret : check_groups(r, c, file, n, threshold);
}
