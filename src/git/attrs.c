/* The gitattributes that make git change the sealed text between the
 * filter and the blob: git applies working-tree-encoding, line ends and
 * ident after the clean and before the smudge (convert.c), each of which a
 * later .gitattributes line (a pull request's) can set over what init
 * writes. A blob so changed is no sops file, or one whose MAC fails, or
 * one that opens to other bytes; the filter refuses such a path. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <git2.h>

#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitfilter_int.h"

enum { A_TEXT, A_CRLF, A_EOL, A_IDENT, A_ENCODING, A_COUNT };

static const char *attr_names[A_COUNT] = { "text", "crlf", "eol", "ident", "working-tree-encoding" };

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
static enum crlf crlf_of(const char *v)
{
	switch (git_attr_value(v)) {
	case GIT_ATTR_VALUE_TRUE:
		return CRLF_TEXT;
	case GIT_ATTR_VALUE_FALSE:
		return CRLF_BINARY;
	case GIT_ATTR_VALUE_STRING:
		return !strcmp(v, "input") ? CRLF_INPUT : !strcmp(v, "auto") ? CRLF_AUTO : CRLF_UNDEFINED;
	default:
		return CRLF_UNDEFINED;
	}
}

/* text, else the old crlf attribute */
static enum crlf action_of(const char *const v[A_COUNT])
{
	enum crlf action = crlf_of(v[A_TEXT]);

	return action == CRLF_UNDEFINED ? crlf_of(v[A_CRLF]) : action;
}

/* 1 when git gives the text CRLF line ends at checkout (convert_attrs,
 * text_eol_is_crlf): eol=crlf unless -text; text or text=auto without
 * eol where core.autocrlf=true, or core.eol=crlf and core.autocrlf is not
 * input; no text attribute where core.autocrlf=true. */
static int eol_is_crlf(struct gitfilter *f, const char *const v[A_COUNT], char *why, size_t size)
{
	enum crlf action = action_of(v);
	const char *eol = v[A_EOL];
	char autocrlf[16], core_eol[16];
	int ret;

	if (action == CRLF_BINARY || action == CRLF_INPUT)
		return 0;
	if (git_attr_value(eol) == GIT_ATTR_VALUE_STRING && !strcmp(eol, "lf"))
		return 0;
	if (git_attr_value(eol) == GIT_ATTR_VALUE_STRING && !strcmp(eol, "crlf")) {
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
static bool crlf_from_elsewhere(const char *const v[A_COUNT], const uint8_t *text, size_t len, char *why,
				size_t size)
{
	enum crlf action = action_of(v);

	if (action == CRLF_BINARY || action == CRLF_INPUT || !memmem(text, len, "\r\n", 2) ||
	    (git_attr_value(v[A_EOL]) == GIT_ATTR_VALUE_STRING && !strcmp(v[A_EOL], "lf")))
		return false;
	snprintf(why, size, "core.autocrlf or core.eol (given to 'git -c'?)");
	return true;
}

int gitattrs_changing(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool checkout,
		      struct gitattrs_change *out)
{
	const char *v[A_COUNT] = { NULL };
	const char *enc;
	int ret;

	out->what[0] = '\0';
	out->at_checkout = false;
	if (!f->repo || !len)
		return 0;
	if (git_attr_get_many(v, f->repo, checkout ? GIT_ATTR_CHECK_INDEX_THEN_FILE : GIT_ATTR_CHECK_FILE_THEN_INDEX,
			      path, A_COUNT, attr_names) < 0)
		return gitrepo_fail("cannot read the gitattributes");
	enc = v[A_ENCODING];
	/* git keeps UTF-8 as it is (same_encoding) */
	if (git_attr_value(enc) == GIT_ATTR_VALUE_STRING && *enc && strcasecmp(enc, "utf-8") && strcasecmp(enc, "utf8")) {
		snprintf(out->what, sizeof(out->what), "the attribute working-tree-encoding=%s (from gitattributes)",
			 gs_shown(enc));
		return 1;
	}
	/* ident turns "$Id: ...$" into "$Id$" and back, in a value, a key
	 * or a comment in clear */
	if (git_attr_value(v[A_IDENT]) == GIT_ATTR_VALUE_TRUE && memmem(text, len, "$Id", 3)) {
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

int gitattrs_refuse(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool clean)
{
	struct gitattrs_change c;
	int ret = gitattrs_changing(f, path, text, len, !clean, &c);

	if (ret <= 0)
		return ret;
	return GS_FAIL(GS_ERR_CONFIG, "'%s': %s %s", gs_shown(path), c.what, gitattrs_effect(&c, clean));
}
