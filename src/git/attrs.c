/* The gitattributes that make git change the sealed text between the
 * filter and the blob: git applies working-tree-encoding, line ends and
 * ident after the clean and before the smudge (convert.c), each of which a
 * later .gitattributes line (a pull request's) can set over what init
 * writes. A blob so changed is no sops file, or one whose MAC fails, or
 * one that opens to other bytes; the filter refuses such a path.
 *
 * The attributes are git's own answer (`git check-attr`, one process kept
 * running): libgit2 reads .gitattributes otherwise than git. git unquotes
 * a C-quoted pattern ("config/a.yaml" ident), matches without case under
 * core.ignorecase, drops a line with an invalid attribute name, a negative
 * pattern or over 2,048 bytes, and does not follow an in-tree
 * .gitattributes that is a symbolic link; each had git apply ident or
 * working-tree-encoding that libgit2 did not see (red team 21). git
 * check-attr reads each .gitattributes once: a smudge request ends it, as
 * git may have written one since (gitattrs_end). At checkout git reads
 * the attributes of the index it is writing, which neither reader has
 * yet: libgit2's (the index on disk first) and git's (the work tree's
 * first) are both asked there. */
#include <errno.h>
#include <fcntl.h>
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
#include "gitfilter_int.h"

extern char **environ;

enum { A_TEXT, A_CRLF, A_EOL, A_IDENT, A_ENCODING, A_COUNT };

static const char *attr_names[A_COUNT] = { "text", "crlf", "eol", "ident", "working-tree-encoding" };

/* An attribute's state, from libgit2 or from `git check-attr` (which
 * prints "set", "unset" and "unspecified" as it would a value of that
 * spelling: read as the state, which refuses more where they differ). */
struct attr {
	git_attr_value_t state;
	const char *value; /* GIT_ATTR_VALUE_STRING's */
};

static bool attr_is(const struct attr *a, const char *value)
{
	return a->state == GIT_ATTR_VALUE_STRING && !strcmp(a->value, value);
}

/* What git does with the sealed text, and what to do: one phrase. */
const char *gitattrs_effect(const struct gitattrs_change *c, bool clean)
{
	if (c->at_checkout)
		return "makes git hand the filter CRLF line ends at checkout: set 'text eol=lf' for this path";
	return clean ? "changes what git stores after the filter: remove it for this path"
		     : "changes what git hands the filter at checkout: remove it for this path";
}

/* core.autocrlf or core.eol, "" when not set; the config unread (out of
 * memory) fails the file rather than let a conversion by */
static int config_value(struct gitfilter *f, const char *name, char *out, size_t size)
{
	git_config *cfg = NULL;
	git_config_entry *e = NULL;
	int ret = 0, rc;

	out[0] = '\0';
	if (git_repository_config(&cfg, f->repo) < 0)
		return gitrepo_fail("cannot read the git config");
	rc = git_config_get_entry(&e, cfg, name);
	if (rc == 0 && e->value)
		snprintf(out, size, "%s", e->value);
	else if (rc < 0 && rc != GIT_ENOTFOUND)
		ret = gitrepo_fail("cannot read the git config");
	git_error_clear();
	git_config_entry_free(e);
	git_config_free(cfg);
	return ret;
}

static bool is_true(const char *v)
{
	return !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1");
}

enum crlf { CRLF_UNDEFINED, CRLF_TEXT, CRLF_BINARY, CRLF_INPUT, CRLF_AUTO };

/* git_path_check_crlf: text or the old crlf attribute */
static enum crlf crlf_of(const struct attr *a)
{
	switch (a->state) {
	case GIT_ATTR_VALUE_TRUE:
		return CRLF_TEXT;
	case GIT_ATTR_VALUE_FALSE:
		return CRLF_BINARY;
	case GIT_ATTR_VALUE_STRING:
		return attr_is(a, "input") ? CRLF_INPUT : attr_is(a, "auto") ? CRLF_AUTO : CRLF_UNDEFINED;
	default:
		return CRLF_UNDEFINED;
	}
}

/* text, else the old crlf attribute */
static enum crlf action_of(const struct attr v[A_COUNT])
{
	enum crlf action = crlf_of(&v[A_TEXT]);

	return action == CRLF_UNDEFINED ? crlf_of(&v[A_CRLF]) : action;
}

/* 1 when git gives the text CRLF line ends at checkout (convert_attrs,
 * text_eol_is_crlf): eol=crlf unless -text; text or text=auto without
 * eol where core.autocrlf=true, or core.eol=crlf and core.autocrlf is not
 * input; no text attribute where core.autocrlf=true. */
static int eol_is_crlf(struct gitfilter *f, const struct attr v[A_COUNT], char *why, size_t size)
{
	enum crlf action = action_of(v);
	char autocrlf[16], core_eol[16];
	int ret;

	if (action == CRLF_BINARY || action == CRLF_INPUT)
		return 0;
	if (attr_is(&v[A_EOL], "lf"))
		return 0;
	if (attr_is(&v[A_EOL], "crlf")) {
		snprintf(why, size, "the attribute eol=crlf (from gitattributes)");
		return 1;
	}
	if ((ret = config_value(f, "core.autocrlf", autocrlf, sizeof(autocrlf))))
		return ret;
	if (is_true(autocrlf)) {
		snprintf(why, size, "%s", action == CRLF_UNDEFINED ? "core.autocrlf=true (no text attribute)"
								   : "the attribute text (from gitattributes) with core.autocrlf=true");
		return 1;
	}
	if (action == CRLF_UNDEFINED || !strcasecmp(autocrlf, "input"))
		return 0;
	if ((ret = config_value(f, "core.eol", core_eol, sizeof(core_eol))))
		return ret;
	if (strcmp(core_eol, "crlf"))
		return 0;
	snprintf(why, size, "the attribute text (from gitattributes) with core.eol=crlf");
	return 1;
}

/* A sealed text handed to the smudge with CRLF line ends where the
 * attributes leave them to the config: `git -c core.autocrlf=true`
 * (GIT_CONFIG_PARAMETERS, which libgit2 does not read) converted them,
 * as a blob the filter made holds LF. */
static bool crlf_from_elsewhere(const struct attr v[A_COUNT], const uint8_t *text, size_t len, char *why,
				size_t size)
{
	enum crlf action = action_of(v);

	if (action == CRLF_BINARY || action == CRLF_INPUT || !memmem(text, len, "\r\n", 2) || attr_is(&v[A_EOL], "lf"))
		return false;
	snprintf(why, size, "core.autocrlf or core.eol (given to 'git -c'?)");
	return true;
}

/* libgit2's reading of path's attributes into v (valid until the next) */
static int ask_libgit2(struct gitfilter *f, const char *path, struct attr v[A_COUNT])
{
	const char *raw[A_COUNT] = { NULL };

	if (git_attr_get_many(raw, f->repo, GIT_ATTR_CHECK_INDEX_THEN_FILE, path, A_COUNT, attr_names) < 0)
		return gitrepo_fail("cannot read the gitattributes");
	for (size_t i = 0; i < A_COUNT; i++) {
		v[i].state = git_attr_value(raw[i]);
		v[i].value = raw[i];
	}
	return 0;
}

/* `git check-attr --stdin -z ATTRS...` from the top of the work tree: a
 * path and a NUL in, "path NUL attr NUL value NUL" per attribute out. */
struct gitattrs_git {
	pid_t pid;
	int to;   /* its stdin, a socket: a git that has died cannot raise SIGPIPE */
	int from; /* its stdout */
	struct gs_buf out;
	bool broken; /* it could not start, or answered otherwise: every later ask fails */
};

enum { GIT_ANSWER_MAX = 1 << 20 };

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
	char *argv[] = { "git", "-C", f->workdir, "check-attr", "--stdin", "-z", NULL, NULL, NULL, NULL, NULL, NULL };
	int in[2], out[2], rc;
	char **env;

	for (size_t i = 0; i < A_COUNT; i++)
		argv[6 + i] = (char *)attr_names[i];
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

/* Sends path, reads the 3 * A_COUNT fields of its answer into g->out. */
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
	while (nuls < 3 * A_COUNT) {
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
	return nuls == 3 * A_COUNT && g->out.data[g->out.len - 1] == '\0' ? 0 : -1;
}

/* git's reading of path's attributes into v (valid until the next) */
static int ask_git(struct gitfilter *f, const char *path, struct attr v[A_COUNT])
{
	struct gitattrs_git *g = f->attrs_git;
	size_t pos = 0;
	int ret;

	if (!g) {
		if (!(g = gs_calloc(1, sizeof(*g))))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		g->to = g->from = -1;
		gs_buf_init(&g->out, false);
		f->attrs_git = g;
		if ((ret = git_start(f, g))) {
			g->broken = true;
			return ret;
		}
	}
	if (g->broken)
		return GS_FAIL(GS_ERR_IO, "cannot ask git for the gitattributes of '%s'", gitfilter_shown(path));
	ret = git_exchange(g, path);
	for (size_t i = 0; !ret && i < A_COUNT; i++) {
		const char *p = field(g, &pos), *name = field(g, &pos), *value = field(g, &pos);

		if (!p || !name || !value || strcmp(p, path) || strcmp(name, attr_names[i]))
			ret = -1;
		else if (!strcmp(value, "unspecified"))
			v[i] = (struct attr){ GIT_ATTR_VALUE_UNSPECIFIED, NULL };
		else if (!strcmp(value, "set"))
			v[i] = (struct attr){ GIT_ATTR_VALUE_TRUE, NULL };
		else if (!strcmp(value, "unset"))
			v[i] = (struct attr){ GIT_ATTR_VALUE_FALSE, NULL };
		else
			v[i] = (struct attr){ GIT_ATTR_VALUE_STRING, value };
	}
	if (!ret)
		return 0;
	g->broken = true;
	if (ret == GS_ERR_NOMEM)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return GS_FAIL(GS_ERR_IO, "cannot ask git for the gitattributes of '%s': git check-attr did not answer",
		       gitfilter_shown(path));
}

void gitattrs_end(struct gitfilter *f)
{
	struct gitattrs_git *g = f->attrs_git;
	int ws;

	if (!g)
		return;
	if (g->to >= 0)
		close(g->to);
	if (g->from >= 0) {
		close(g->from);
		while (waitpid(g->pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	gs_buf_release(&g->out);
	free(g);
	f->attrs_git = NULL;
}

/* 1 and out->what when the attributes v make git change text */
static int changing(struct gitfilter *f, const struct attr v[A_COUNT], const uint8_t *text, size_t len,
		    bool checkout, struct gitattrs_change *out)
{
	const struct attr *enc = &v[A_ENCODING];
	int ret;

	/* git keeps UTF-8 as it is (same_encoding) */
	if (enc->state == GIT_ATTR_VALUE_STRING && *enc->value && strcasecmp(enc->value, "utf-8") &&
	    strcasecmp(enc->value, "utf8")) {
		snprintf(out->what, sizeof(out->what), "the attribute working-tree-encoding=%s (from gitattributes)",
			 gitfilter_shown(enc->value));
		return 1;
	}
	/* ident turns "$Id: ...$" into "$Id$" and back, in a value, a key
	 * or a comment in clear */
	if (v[A_IDENT].state == GIT_ATTR_VALUE_TRUE && memmem(text, len, "$Id", 3)) {
		snprintf(out->what, sizeof(out->what), "the attribute ident (from gitattributes)");
		return 1;
	}
	if (!memchr(text, '\n', len))
		return 0;
	if ((ret = eol_is_crlf(f, v, out->what, sizeof(out->what))) < 0)
		return ret;
	if (ret || (checkout && crlf_from_elsewhere(v, text, len, out->what, sizeof(out->what)))) {
		out->at_checkout = true;
		return 1;
	}
	return 0;
}

int gitattrs_changing(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool checkout,
		      struct gitattrs_change *out)
{
	struct attr v[A_COUNT];
	int ret;

	out->what[0] = '\0';
	out->at_checkout = false;
	if (!f->repo || !len)
		return 0;
	if (checkout && ((ret = ask_libgit2(f, path, v)) || (ret = changing(f, v, text, len, true, out))))
		return ret;
	if ((ret = ask_git(f, path, v)))
		return ret;
	return changing(f, v, text, len, checkout, out);
}

int gitattrs_refuse(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool clean)
{
	struct gitattrs_change c;
	int ret = gitattrs_changing(f, path, text, len, !clean, &c);

	if (ret <= 0)
		return ret;
	return GS_FAIL(GS_ERR_CONFIG, "'%s': %s %s", gitfilter_shown(path), c.what, gitattrs_effect(&c, clean));
}
