/* The gitattributes that make git change the sealed text between the
 * filter and the blob: git applies working-tree-encoding, line ends and
 * ident after the clean and before the smudge (convert.c), each of which a
 * later .gitattributes line (a pull request's) can set over what init
 * writes. A blob so changed is no sops file, or one whose MAC fails, or
 * one that opens to other bytes; the filter refuses such a path. So does
 * merge=union, under which a merge joins both sides' sealed lines without
 * a conflict and commits a file that no longer loads (two MACs, each key
 * twice: red team 30).
 *
 * The attributes are git's own answer (`git check-attr`): libgit2 reads
 * .gitattributes otherwise than git. git unquotes a C-quoted pattern
 * ("config/a.yaml" ident), matches without case under core.ignorecase,
 * drops a line with an invalid attribute name, a negative pattern or over
 * 2,048 bytes, and does not follow an in-tree .gitattributes that is a
 * symbolic link; each had git apply ident or working-tree-encoding that
 * libgit2 did not see (red team 21). One check-attr process is kept
 * running, started on first need; a `git add` of many new files asks it
 * for a directory's names at once (readahead.c, these attributes with the
 * filter's: gitattrs_ask_many), a path without that answer by itself. It
 * reads each .gitattributes once: a smudge request ends it, as git may
 * have written one since (gitattrs_end). At checkout git reads the
 * attributes of the index it is writing, which neither reader has yet:
 * libgit2's (the index on disk first) and git's (the work tree's first)
 * are both asked there, for a smudge input git may have changed (a CR,
 * NUL or "$Id" in it: filter.c, maybe_converted), no other. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitfilter_int.h"

extern char **environ;

enum { A_TEXT, A_CRLF, A_EOL, A_IDENT, A_ENCODING, A_MERGE, A_SUBST };

static const char *attr_names[GITATTRS_COUNT] = { GITATTRS_NAMES };

/* An attribute's value as git's convert.c reads it. */
enum attr_kind { ATTR_UNSPECIFIED, ATTR_SET, ATTR_UNSET, ATTR_STRING };
struct attr {
	enum attr_kind kind;
	const char *s; /* ATTR_STRING's */
};

static bool attr_is(const struct attr *a, const char *s)
{
	return a->kind == ATTR_STRING && !strcmp(a->s, s);
}

/* What git does with the sealed text, and what to do: one phrase. */
const char *gitattrs_effect(const struct gitattrs_change *c, bool clean)
{
	if (c->at_checkout)
		return "makes git hand the filter CRLF line ends at checkout: set 'text eol=lf' for this path";
	if (c->at_merge)
		return "makes a merge join both sides' sealed lines into a file that does not open: remove it for this "
		       "path";
	if (c->at_archive)
		return "makes git archive rewrite '$Format:...$' in the file it exports, which then does not open: "
		       "remove it for this path";
	return clean ? "changes what git stores after the filter: remove it for this path"
		     : "changes what git hands the filter at checkout: remove it for this path";
}

/* core.autocrlf or core.eol, "" when not set; the config unread (out of
 * memory) fails the file rather than let a conversion by */
static int config_value(git_config *cfg, const char *name, char *out, size_t size)
{
	git_config_entry *e = NULL;
	int ret = 0, rc;

	out[0] = '\0';
	rc = git_config_get_entry(&e, cfg, name);
	/* a bare key is git's true */
	if (rc == 0)
		snprintf(out, size, "%s", e->value ? e->value : "true");
	else if (rc < 0 && rc != GIT_ENOTFOUND)
		ret = gitrepo_fail("cannot read the git config");
	git_error_clear();
	git_config_entry_free(e);
	return ret;
}

/* core.autocrlf and core.eol, read once for each index git writes: every
 * lookup of libgit2's checks each config file on disk again (3 K
 * instructions and 3 system calls a file). Within one git command, whose filter process this is, git reads
 * its config once, at its start; a command of many steps (a rebase) writes
 * the index between them, and a `git config` one of them ran (--exec) is
 * read at the next. */
static int line_end_config(struct gitfilter *f, const char **autocrlf, const char **core_eol)
{
	git_config *cfg = NULL;
	int ret;

	*autocrlf = f->line_ends.autocrlf;
	*core_eol = f->line_ends.eol;
	if (f->line_ends.read && f->line_ends.index_reads == f->index_reads)
		return 0;
	f->line_ends.read = false;
	if (git_repository_config(&cfg, f->repo) < 0)
		return gitrepo_fail("cannot read the git config");
	if (!(ret = config_value(cfg, "core.autocrlf", f->line_ends.autocrlf, sizeof(f->line_ends.autocrlf))) &&
	    !(ret = config_value(cfg, "core.eol", f->line_ends.eol, sizeof(f->line_ends.eol)))) {
		f->line_ends.read = true;
		f->line_ends.index_reads = f->index_reads;
	}
	git_config_free(cfg);
	return ret;
}

/* git's boolean (git_parse_maybe_bool, git_parse_int): a bare key (NULL)
 * is true, an empty value false, true/yes/on in any case, or an integer
 * (with a unit k, m or g) not 0. */
bool gitrepo_config_true(const char *v)
{
	char *end;
	long long n;

	if (!v)
		return true;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return true;
	errno = 0;
	n = strtoll(v, &end, 0);
	if (end == v || errno || (*end && (!strchr("kKmMgG", *end) || end[1])))
		return false;
	return n != 0;
}

enum crlf { CRLF_UNDEFINED, CRLF_TEXT, CRLF_BINARY, CRLF_INPUT, CRLF_AUTO };

/* git_path_check_crlf: text or the old crlf attribute */
static enum crlf crlf_of(const struct attr *a)
{
	switch (a->kind) {
	case ATTR_SET:
		return CRLF_TEXT;
	case ATTR_UNSET:
		return CRLF_BINARY;
	case ATTR_STRING:
		return !strcmp(a->s, "input") ? CRLF_INPUT : !strcmp(a->s, "auto") ? CRLF_AUTO : CRLF_UNDEFINED;
	default:
		return CRLF_UNDEFINED;
	}
}

/* text, else the old crlf attribute */
static enum crlf action_of(const struct attr a[GITATTRS_COUNT])
{
	enum crlf action = crlf_of(&a[A_TEXT]);

	return action == CRLF_UNDEFINED ? crlf_of(&a[A_CRLF]) : action;
}

/* 1 when git gives the text CRLF line ends at checkout (convert_attrs,
 * text_eol_is_crlf): eol=crlf unless -text; text or text=auto without
 * eol where core.autocrlf=true, or core.eol=crlf and core.autocrlf is not
 * input; no text attribute where core.autocrlf=true. */
static int eol_is_crlf(struct gitfilter *f, const struct attr a[GITATTRS_COUNT], char *why, size_t size)
{
	enum crlf action = action_of(a);
	const char *autocrlf, *core_eol;
	int ret;

	if (action == CRLF_BINARY || attr_is(&a[A_EOL], "lf"))
		return 0;
	/* over crlf=input or text=input too (convert_attrs) */
	if (attr_is(&a[A_EOL], "crlf")) {
		snprintf(why, size, "the attribute eol=crlf (from gitattributes)");
		return 1;
	}
	if (action == CRLF_INPUT)
		return 0;
	if ((ret = line_end_config(f, &autocrlf, &core_eol)))
		return ret;
	if (gitrepo_config_true(autocrlf)) {
		snprintf(why, size, "%s", action == CRLF_UNDEFINED ? "core.autocrlf=true (no text attribute)"
								   : "the attribute text (from gitattributes) with core.autocrlf=true");
		return 1;
	}
	if (action == CRLF_UNDEFINED || !strcasecmp(autocrlf, "input") || strcmp(core_eol, "crlf"))
		return 0;
	snprintf(why, size, "the attribute text (from gitattributes) with core.eol=crlf");
	return 1;
}

/* A sealed text handed to the smudge with CRLF line ends where the
 * attributes leave them to the config: `git -c core.autocrlf=true`
 * (GIT_CONFIG_PARAMETERS, which libgit2 does not read) converted them,
 * as a blob the filter made holds LF. */
static bool crlf_from_elsewhere(const struct attr a[GITATTRS_COUNT], const uint8_t *text, size_t len, char *why,
				size_t size)
{
	enum crlf action = action_of(a);

	if (action == CRLF_BINARY || action == CRLF_INPUT || !memmem(text, len, "\r\n", 2) || attr_is(&a[A_EOL], "lf"))
		return false;
	snprintf(why, size, "core.autocrlf or core.eol (given to 'git -c'?)");
	return true;
}

/* gitattrs_changing's answer for the attributes a. */
static int changing(struct gitfilter *f, const struct attr a[GITATTRS_COUNT], const uint8_t *text, size_t len,
		    bool checkout, struct gitattrs_change *out)
{
	const struct attr *enc = &a[A_ENCODING];
	int ret;

	out->what[0] = '\0';
	out->at_checkout = false;
	out->at_merge = false;
	out->at_archive = false;
	/* git archive expands "$Format:...$" after the smudge (archive.c,
	 * format_subst): in a key, comment or value in clear of the sealed
	 * text, and under GITSEAL_ARCHIVE_PLAINTEXT=1 in a secret, which the
	 * sealed text does not show: refused whatever the text holds */
	if (a[A_SUBST].kind == ATTR_SET) {
		snprintf(out->what, sizeof(out->what), "the attribute export-subst (from gitattributes)");
		out->at_archive = true;
		return 1;
	}
	/* git's union merge keeps the lines of both sides where each changed
	 * (ll_union_merge): the values, the MAC and lastmodified twice */
	if (attr_is(&a[A_MERGE], "union")) {
		snprintf(out->what, sizeof(out->what), "the attribute merge=union (from gitattributes)");
		out->at_merge = true;
		return 1;
	}
	/* git keeps UTF-8 as it is (same_encoding) */
	if (enc->kind == ATTR_STRING && *enc->s && strcasecmp(enc->s, "utf-8") && strcasecmp(enc->s, "utf8")) {
		snprintf(out->what, sizeof(out->what), "the attribute working-tree-encoding=%s (from gitattributes)",
			 gs_shown(enc->s));
		return 1;
	}
	/* ident turns "$Id: ...$" into "$Id$" and back, in a value, a key
	 * or a comment in clear */
	if (a[A_IDENT].kind == ATTR_SET && memmem(text, len, "$Id", 3)) {
		snprintf(out->what, sizeof(out->what), "the attribute ident (from gitattributes)");
		return 1;
	}
	if (!memchr(text, '\n', len))
		return 0;
	if ((ret = eol_is_crlf(f, a, out->what, sizeof(out->what))) < 0)
		return ret;
	if (ret || (checkout && crlf_from_elsewhere(a, text, len, out->what, sizeof(out->what)))) {
		out->at_checkout = true;
		return 1;
	}
	return 0;
}

/* libgit2's reading of path's attributes (the index's .gitattributes
 * first, as at checkout) into a (valid until the next) */
static int ask_libgit2(struct gitfilter *f, const char *path, struct attr a[GITATTRS_COUNT])
{
	const char *v[GITATTRS_COUNT] = { NULL };

	if (git_attr_get_many(v, f->repo, GIT_ATTR_CHECK_INDEX_THEN_FILE, path, GITATTRS_COUNT, attr_names) < 0)
		return gitrepo_fail("cannot read the gitattributes");
	for (unsigned k = 0; k < GITATTRS_COUNT; k++) {
		switch (git_attr_value(v[k])) {
		case GIT_ATTR_VALUE_TRUE:
			a[k].kind = ATTR_SET;
			break;
		case GIT_ATTR_VALUE_FALSE:
			a[k].kind = ATTR_UNSET;
			break;
		case GIT_ATTR_VALUE_STRING:
			a[k].kind = ATTR_STRING;
			break;
		default:
			a[k].kind = ATTR_UNSPECIFIED;
		}
		a[k].s = v[k];
	}
	return 0;
}

/* What `git ls-files --eol` shows (attr/) for the files of one directory
 * (git_line_ends), until the kept check-attr ends or git writes the index. */
struct eol_shown {
	const char *path, *attr; /* into out */
};
struct eol_answers {
	char *dir;                 /* "" or "a/b/"; NULL: none kept */
	unsigned long index_reads; /* f->index_reads when asked */
	struct gs_buf out;         /* its output, each attr/ value ended in place */
	struct eol_shown *shown;   /* sorted by path */
	size_t count;
	char *alone; /* the directory of the last path asked about alone */
};

static int cmp_shown(const void *a, const void *b)
{
	return strcmp(((const struct eol_shown *)a)->path, ((const struct eol_shown *)b)->path);
}

static void eol_forget(struct eol_answers *e)
{
	free(e->dir);
	free(e->shown);
	gs_buf_release(&e->out);
	e->dir = NULL;
	e->shown = NULL;
	e->count = 0;
}

/* `git check-attr --stdin -z ATTRS...` from the top of the work tree: a
 * path and a NUL in, "path NUL attr NUL value NUL" per attribute out. */
struct gitattrs_git {
	pid_t pid;
	int to;   /* its stdin, a socket: a git that has died cannot raise SIGPIPE */
	int from; /* its stdout, -1 before it started */
	struct gs_buf out;
	bool broken; /* it could not start, or answered otherwise: every later ask fails */
	struct eol_answers eol; /* `git ls-files --eol` of one directory, kept alike */
};

/* filter, then GITATTRS_NAMES: the read-ahead's questions are asked of it
 * too (gitattrs_ask_many) */
enum { GIT_ANSWER_MAX = 1 << 20, GIT_MANY_ANSWER_MAX = 16 << 20, GIT_ASKED = GITATTRS_COUNT + 1 };

/* environ with GIT_FLUSH=1: check-attr then answers each path at once
 * (GIT_FLUSH=0 in the user's environment would have it wait for more) */
static char **flushing_environ(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	if (!(env = gs_calloc(n + 2, sizeof(*env))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "GIT_FLUSH=", 10))
			env[k++] = environ[i];
	env[k] = (char *)"GIT_FLUSH=1";
	return env;
}

static int git_start(struct gitfilter *f, struct gitattrs_git *g)
{
	char *argv[] = { "git", "-C", f->workdir, "check-attr", "--stdin", "-z", "filter", NULL, NULL, NULL, NULL, NULL,
			 NULL, NULL, NULL };
	int in[2], out[2], rc;
	char **env;

	for (size_t i = 0; i < GITATTRS_COUNT; i++)
		argv[7 + i] = (char *)attr_names[i];
	if (!(env = flushing_environ()))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0) {
		free(env);
		return GS_FAIL(GS_ERR_IO, "cannot ask git for the gitattributes: %s", strerror(errno));
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		free(env);
		return GS_FAIL(GS_ERR_IO, "cannot ask git for the gitattributes: %s", strerror(errno));
	}
	rc = gitrepo_spawn(argv, in[0], out[1], env, &g->pid);
	free(env);
	close(in[0]);
	close(out[1]);
	if (rc) {
		close(in[1]);
		close(out[0]);
		return GS_FAIL(GS_ERR_IO, "cannot ask git for the gitattributes: git: %s", strerror(rc));
	}
	g->to = in[1];
	g->from = out[0];
	return 0;
}

/* The next NUL-ended field of g->out at *pos, or NULL. */
static const char *field(const struct gitattrs_git *g, size_t *pos)
{
	const char *s = (const char *)g->out.data + *pos;
	const uint8_t *nul;

	if (*pos >= g->out.len || !(nul = memchr(s, '\0', g->out.len - *pos)))
		return NULL;
	*pos = (size_t)(nul - g->out.data) + 1;
	return s;
}

/* Sends path, reads the 3 * GIT_ASKED fields of its answer into g->out. */
static int git_exchange(struct gitattrs_git *g, const char *path)
{
	size_t sent = 0, len = strlen(path) + 1, nuls = 0;
	ssize_t n;

	while (sent < len) {
		n = send(g->to, path + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		sent += (size_t)n;
	}
	gs_buf_reset(&g->out);
	while (nuls < 3 * GIT_ASKED) {
		if (g->out.len > GIT_ANSWER_MAX)
			return -1;
		if (gs_buf_reserve(&g->out, 4096))
			return GS_ERR_NOMEM;
		n = read(g->from, g->out.data + g->out.len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (ssize_t i = 0; i < n; i++)
			nuls += g->out.data[g->out.len + (size_t)i] == '\0';
		g->out.len += (size_t)n;
	}
	return nuls == 3 * GIT_ASKED && g->out.data[g->out.len - 1] == '\0' ? 0 : -1;
}

/* What is kept of git's answers for this git command (gitattrs_end),
 * made on first need; NULL when out of memory. */
static struct gitattrs_git *kept(struct gitfilter *f)
{
	struct gitattrs_git *g = f->attrs_git;

	if (g || !(g = gs_calloc(1, sizeof(*g))))
		return g;
	g->to = g->from = -1;
	gs_buf_init(&g->out, false);
	gs_buf_init(&g->eol.out, false);
	return f->attrs_git = g;
}

/* What the kept `git check-attr` prints for path's attributes (valid
 * until the next question) */
static int ask_git(struct gitfilter *f, const char *path, const char *printed[GITATTRS_COUNT])
{
	struct gitattrs_git *g = kept(f);
	size_t pos = 0;
	int ret;

	if (!g)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (g->from < 0 && !g->broken && (ret = git_start(f, g))) {
		g->broken = true;
		return ret;
	}
	if (g->broken)
		return GS_FAIL(GS_ERR_IO, "cannot ask git for the gitattributes of '%s'", gs_shown(path));
	ret = git_exchange(g, path);
	for (size_t i = 0; !ret && i < GIT_ASKED; i++) {
		const char *p = field(g, &pos), *name = field(g, &pos), *value = field(g, &pos);

		if (!p || !name || !value || strcmp(p, path) || strcmp(name, i ? attr_names[i - 1] : "filter"))
			ret = -1;
		else if (i)
			printed[i - 1] = value;
	}
	if (!ret)
		return 0;
	g->broken = true;
	if (ret == GS_ERR_NOMEM)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return GS_FAIL(GS_ERR_IO, "cannot ask git for the gitattributes of '%s': git check-attr did not answer",
		       gs_shown(path));
}

/* The kept check-attr ended; the next question starts another. */
static void git_stop(struct gitattrs_git *g)
{
	int ws;

	if (g->to >= 0)
		close(g->to);
	if (g->from >= 0) {
		close(g->from);
		while (waitpid(g->pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	g->to = g->from = -1;
}

int gitattrs_ask_many(struct gitfilter *f, const struct gs_buf *list, size_t n, struct gs_buf *out)
{
	struct gitattrs_git *g = kept(f);
	size_t sent = 0, nuls = 0, want = 3 * GIT_ASKED * n;
	ssize_t got;

	if (!g || g->broken)
		return -1;
	if (g->from < 0 && git_start(f, g)) {
		g->broken = true;
		gs_error_clear();
		return -1;
	}
	/* written as git reads, read as it answers: neither waits on a full pipe */
	while (nuls < want) {
		struct pollfd p[2] = { { g->from, POLLIN, 0 }, { g->to, POLLOUT, 0 } };

		if (poll(p, sent < list->len ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sent < list->len && p[1].revents) {
			got = send(g->to, list->data + sent, list->len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				break;
			sent += got > 0 ? (size_t)got : 0;
		}
		if (!p[0].revents)
			continue;
		if (out->len > GIT_MANY_ANSWER_MAX || gs_buf_reserve(out, 65536))
			break;
		got = read(g->from, out->data + out->len, 65536);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++)
			nuls += out->data[out->len + (size_t)i] == '\0';
		out->len += (size_t)got;
	}
	if (nuls == want && sent == list->len && (!n || out->data[out->len - 1] == '\0'))
		return 0;
	/* its answers from here on would be out of step */
	git_stop(g);
	gs_error_clear();
	return -1;
}

void gitattrs_end(struct gitfilter *f)
{
	struct gitattrs_git *g = f->attrs_git;

	if (!g)
		return;
	git_stop(g);
	gs_buf_release(&g->out);
	eol_forget(&g->eol);
	free(g->eol.alone);
	free(g);
	f->attrs_git = NULL;
}

/* What `git check-attr` printed as git reads it. It prints a set
 * attribute "set" and an unset one "unset", as it prints text=set and
 * text=unset; the bits of strings say which are read as strings, the rest
 * as the state. The state is git's reading or refuses more for all but
 * text's and crlf's "unset" (-text converts nothing, text=unset leaves
 * line ends to the config): ident=set is no ident to git, eol=set no eol,
 * and a working-tree-encoding of set, unset or a name iconv does not know
 * fails the add and leaves a checkout as it is. "unspecified" is read as
 * unspecified: as a string it is unspecified to each of the six too. */
static void read_printed(const char *const printed[GITATTRS_COUNT], unsigned strings, struct attr a[GITATTRS_COUNT])
{
	for (unsigned k = 0; k < GITATTRS_COUNT; k++) {
		a[k].s = printed[k];
		if (strings & (1u << k))
			a[k].kind = ATTR_STRING;
		else if (!strcmp(printed[k], "set"))
			a[k].kind = ATTR_SET;
		else if (!strcmp(printed[k], "unset"))
			a[k].kind = ATTR_UNSET;
		else if (!strcmp(printed[k], "unspecified"))
			a[k].kind = ATTR_UNSPECIFIED;
		else
			a[k].kind = ATTR_STRING;
	}
}

/* How `git ls-files --eol` shows the line-end attributes a (attr/, from
 * convert.c's convert_attrs and get_convert_attr_ascii). */
static const char *line_ends_shown(const struct attr a[GITATTRS_COUNT])
{
	enum crlf action = action_of(a);
	bool lf = attr_is(&a[A_EOL], "lf"), crlf = attr_is(&a[A_EOL], "crlf");

	if (action == CRLF_BINARY)
		return "-text";
	if (action == CRLF_AUTO)
		return lf ? "text=auto eol=lf" : crlf ? "text=auto eol=crlf" : "text=auto";
	if (crlf)
		return "text eol=crlf";
	if (lf || action == CRLF_INPUT)
		return "text eol=lf";
	return action == CRLF_TEXT ? "text" : "";
}

/* e->shown from e->out, "i/... w/... attr/VALUE<spaces>\tPATH" each
 * record: 0, or -1 (a record otherwise, or out of memory). A path shown
 * twice (an unmerged one, once a stage) with two values has none. */
static int eol_parse(struct eol_answers *e)
{
	size_t pos = 0, n = 0, k = 0;
	char *rec, *attr, *tab, *end;

	if (!e->out.len)
		return 0;
	for (size_t i = 0; i < e->out.len; i++)
		n += e->out.data[i] == '\0';
	if (e->out.data[e->out.len - 1] != '\0' || !(e->shown = gs_calloc(n, sizeof(*e->shown))))
		return -1;
	while (pos < e->out.len) {
		rec = (char *)e->out.data + pos;
		pos += strlen(rec) + 1;
		if (strncmp(rec, "i/", 2) || !(attr = strstr(rec, " attr/")) || !(tab = strchr(attr, '\t')))
			return -1;
		attr += 6;
		for (end = tab; end > attr && end[-1] == ' '; end--)
			;
		*end = '\0';
		e->shown[k++] = (struct eol_shown){ tab + 1, attr };
	}
	qsort(e->shown, k, sizeof(*e->shown), cmp_shown);
	for (size_t i = 1; i < k; i++)
		if (!strcmp(e->shown[i].path, e->shown[i - 1].path) && e->shown[i].attr &&
		    (!e->shown[i - 1].attr || strcmp(e->shown[i].attr, e->shown[i - 1].attr)))
			e->shown[i].attr = e->shown[i - 1].attr = NULL;
	e->count = k;
	return 0;
}

/* What git showed for path, or NULL. */
static const char *eol_lookup(const struct eol_answers *e, const char *path)
{
	struct eol_shown key = { path, NULL }, *hit;

	hit = e->count ? bsearch(&key, e->shown, e->count, sizeof(*e->shown), cmp_shown) : NULL;
	return hit ? hit->attr : NULL;
}

/* `git ls-files -z --eol` of pathspec (literal: path alone; else the
 * files of the directory dir) into a fresh e: 0, or -1 where git could
 * not be asked or answered otherwise. */
static int eol_ask(struct gitfilter *f, struct eol_answers *e, const char *dir, const char *path)
{
	char *literal[] = { "git", "--literal-pathspecs", "-C", f->workdir, "ls-files", "-z", "--eol", "-c", "-o", "--",
			    (char *)path, NULL };
	/* the directory's own files: '*' in a glob pathspec does not match '/'.
	 * Ignored files left out (an ignored build tree is not walked): one of
	 * them is asked about alone. */
	char *glob[] = { "git", "-C", f->workdir, "ls-files", "-z", "--eol", "-c", "-o", "--exclude-standard", "--",
			 NULL, NULL };
	struct gs_buf spec;
	int status, ret = -1;

	eol_forget(e);
	gs_buf_init(&spec, false);
	if (!path) {
		if (gs_buf_append(&spec, ":(glob)", 7))
			goto out;
		for (const char *c = dir; *c; c++)
			if ((strchr("*?[\\", *c) && gs_buf_append(&spec, "\\", 1)) || gs_buf_append(&spec, c, 1))
				goto out;
		if (gs_buf_append(&spec, "*", 2))
			goto out;
		glob[10] = (char *)spec.data;
		if (!(e->dir = gs_strdup(dir)))
			goto out;
	}
	e->index_reads = f->index_reads;
	if (!gitrepo_run(path ? literal : glob, &e->out, &status) && !status)
		ret = eol_parse(e);
out:
	gs_buf_release(&spec);
	if (ret) { /* none kept; a directory's then asks no more (its files alone) */
		free(e->shown);
		e->shown = NULL;
		e->count = 0;
	}
	return ret;
}

/* git's own reading of path's line-end attributes, as `git ls-files
 * --eol` shows it (attr/), into shown; false where git shows none (a path
 * neither in the index nor in the work tree) or could not be asked. A
 * directory's second file asks for all its files at once (a large `git
 * add` of -text files under core.autocrlf=true: two processes, not one a
 * file); the first asks alone (a single file in a large directory). */
static bool git_line_ends(struct gitfilter *f, const char *path, char *shown, size_t size)
{
	const char *slash = strrchr(path, '/'), *attr = NULL;
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	struct gitattrs_git *g = kept(f);
	struct eol_answers *e, alone = { 0 };
	char *dir;

	if (!g || !(dir = gs_strndup(path, dlen)))
		return false;
	e = &g->eol;
	if (e->dir && (strcmp(e->dir, dir) || e->index_reads != f->index_reads))
		eol_forget(e);
	if (!e->dir && e->alone && !strcmp(e->alone, dir) && eol_ask(f, e, dir, NULL))
		gs_error_clear();
	if (e->dir)
		attr = eol_lookup(e, path);
	gs_buf_init(&alone.out, false);
	if (!attr) {
		/* not among the directory's (an ignored file), or not asked yet */
		free(e->alone);
		e->alone = dir;
		dir = NULL;
		if (!eol_ask(f, &alone, NULL, path))
			attr = eol_lookup(&alone, path);
	}
	if (attr && strlen(attr) < size)
		memcpy(shown, attr, strlen(attr) + 1);
	else
		attr = NULL;
	eol_forget(&alone);
	free(dir);
	return attr != NULL;
}

/* changing() for a clean, from what git printed for path. Where text or
 * crlf prints "set" or "unset" and the readings disagree, git tells which
 * it reads (`git ls-files --eol`, a process for that file alone); where
 * it cannot, the reading that refuses is taken. */
static int changing_printed(struct gitfilter *f, const char *path, const char *const printed[GITATTRS_COUNT],
			    const uint8_t *text, size_t len, struct gitattrs_change *out)
{
	enum { READINGS = 4 }; /* text and crlf, each either way */
	struct gitattrs_change c[READINGS];
	struct attr a[GITATTRS_COUNT];
	unsigned ambiguous = 0, strings = 0, as[READINGS], n = 0, pick = 0;
	int r[READINGS];
	bool disagree = false;
	char shown[32];

	for (unsigned k = A_TEXT; k <= A_CRLF; k++)
		if (!strcmp(printed[k], "set") || !strcmp(printed[k], "unset"))
			ambiguous |= 1u << k;
	/* the state first, then each subset of the ambiguous values as strings */
	do {
		read_printed(printed, strings, a);
		if ((r[n] = changing(f, a, text, len, false, &c[n])) < 0)
			return r[n];
		disagree |= r[n] != r[0] || c[n].at_checkout != c[0].at_checkout || strcmp(c[n].what, c[0].what);
		as[n++] = strings;
	} while ((strings = (strings - ambiguous) & ambiguous));
	if (disagree) {
		bool told = git_line_ends(f, path, shown, sizeof(shown));

		for (pick = 0; pick < n; pick++) {
			read_printed(printed, as[pick], a);
			if (told ? !strcmp(line_ends_shown(a), shown) : r[pick] > 0)
				break;
		}
		/* git showed none of them: the first that refuses */
		for (unsigned i = 0; pick == n && i < n; i++)
			if (r[i] > 0)
				pick = i;
		if (pick == n)
			pick = 0;
	}
	*out = c[pick];
	return r[pick];
}

int gitattrs_changing(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool checkout,
		      struct gitattrs_change *out)
{
	const char *printed[GITATTRS_COUNT];
	struct attr a[GITATTRS_COUNT];
	int ret;

	out->what[0] = '\0';
	out->at_checkout = false;
	out->at_merge = false;
	out->at_archive = false;
	if (!f->repo || !len)
		return 0;
	if (checkout) {
		/* both readers, each value read as the state */
		if ((ret = ask_libgit2(f, path, a)) || (ret = changing(f, a, text, len, true, out)) ||
		    (ret = ask_git(f, path, printed)))
			return ret;
		read_printed(printed, 0, a);
		return changing(f, a, text, len, true, out);
	}
	/* the read-ahead's answer where it has one: no process asked */
	if (!readahead_attrs(f->ahead, path, printed) && (ret = ask_git(f, path, printed)))
		return ret;
	return changing_printed(f, path, printed, text, len, out);
}

int gitattrs_refuse(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool clean)
{
	struct gitattrs_change c;
	int ret = gitattrs_changing(f, path, text, len, !clean, &c);

	if (ret <= 0)
		return ret;
	return GS_FAIL(GS_ERR_CONFIG, "'%s': %s %s", gs_shown(path), c.what, gitattrs_effect(&c, clean));
}

/* A sealed text changed on both sides of a union merge holds both MACs:
 * a "mac" key given an ENC[ value twice, as each store writes it (YAML
 * `mac: ENC[`, JSON `"mac": "ENC[`, dotenv `sops_mac=ENC[`, INI
 * `mac = ENC[`). A value of the user's so named only costs a lookup. */
bool gitattrs_maybe_joined(const uint8_t *text, size_t len)
{
	const uint8_t *p = text, *end, *q;
	unsigned macs = 0;

	if (!len) /* text may be NULL */
		return false;
	end = text + len;
	while (end - p > 3 && (p = memmem(p, (size_t)(end - p), "mac", 3))) {
		q = p += 3;
		q += q < end && *q == '"';
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == end || (*q != ':' && *q != '='))
			continue;
		for (q++; q < end && (*q == ' ' || *q == '\t' || *q == '"'); q++)
			;
		if (end - q >= 4 && !memcmp(q, "ENC[", 4) && ++macs == 2)
			return true;
	}
	return false;
}

/* ---- git's answers for many paths (addset.c, readahead.c) ---- */

uint8_t gitattrs_batch_id(struct gitattrs_batch *b, const char *const printed[GITATTRS_COUNT])
{
	size_t len = 0, at = 0;
	char *answer;

	for (unsigned k = 0; k < GITATTRS_COUNT; k++)
		len += strlen(printed[k]) + 1;
	for (size_t i = 0; i < b->count; i++)
		if (b->lens[i] == len) {
			const char *s = b->answers[i];
			unsigned k;

			for (k = 0; k < GITATTRS_COUNT && !strcmp(s, printed[k]); k++)
				s += strlen(s) + 1;
			if (k == GITATTRS_COUNT)
				return (uint8_t)(i + 1);
		}
	if (b->count == GITATTRS_BATCH_MAX || !(answer = gs_malloc(len)))
		return 0;
	for (unsigned k = 0; k < GITATTRS_COUNT; k++) {
		size_t n = strlen(printed[k]) + 1;

		memcpy(answer + at, printed[k], n);
		at += n;
	}
	b->answers[b->count] = answer;
	b->lens[b->count] = len;
	return (uint8_t)++b->count;
}

void gitattrs_batch_get(const struct gitattrs_batch *b, uint8_t id, const char *printed[GITATTRS_COUNT])
{
	const char *s = b->answers[id - 1];

	for (unsigned k = 0; k < GITATTRS_COUNT; k++) {
		printed[k] = s;
		s += strlen(s) + 1;
	}
}

void gitattrs_batch_release(struct gitattrs_batch *b)
{
	for (size_t i = 0; i < b->count; i++)
		free(b->answers[i]);
	b->count = 0;
}
