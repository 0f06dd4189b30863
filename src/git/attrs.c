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

/* core.autocrlf or core.eol, "" when not set */
static void config_value(struct gitfilter *f, const char *name, char *out, size_t size)
{
	git_config *cfg = NULL;
	git_config_entry *e = NULL;

	out[0] = '\0';
	if (git_repository_config(&cfg, f->repo) == 0 && git_config_get_entry(&e, cfg, name) == 0 && e->value)
		snprintf(out, size, "%s", e->value);
	git_error_clear();
	git_config_entry_free(e);
	git_config_free(cfg);
}

static bool is_true(const char *v)
{
	return !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1");
}

/* Whether git gives text CRLF line ends at checkout (convert_attrs and
 * text_eol_is_crlf): eol=crlf, or text (or text=auto) without eol where
 * core.autocrlf=true or core.eol=crlf; core.autocrlf=true alone when the
 * text attribute is unspecified. */
static bool eol_is_crlf(struct gitfilter *f, const char *const v[A_COUNT], char *why, size_t size)
{
	const char *text = v[A_TEXT];
	git_attr_value_t t = git_attr_value(text), e = git_attr_value(v[A_EOL]);
	char autocrlf[16], core_eol[16];

	if (t == GIT_ATTR_VALUE_UNSPECIFIED) {
		/* the old crlf attribute stands in for text */
		text = v[A_CRLF];
		t = git_attr_value(text);
		if (t == GIT_ATTR_VALUE_STRING && strcmp(text, "auto"))
			return false; /* crlf=input: LF */
	}
	if (t == GIT_ATTR_VALUE_FALSE || (t == GIT_ATTR_VALUE_STRING && strcmp(text, "auto")))
		return false; /* -text: binary; text=input and the like: LF */
	if (e == GIT_ATTR_VALUE_STRING) {
		if (strcmp(v[A_EOL], "crlf"))
			return false;
		snprintf(why, size, "the attribute eol=crlf (from gitattributes)");
		return true;
	}
	config_value(f, "core.autocrlf", autocrlf, sizeof(autocrlf));
	config_value(f, "core.eol", core_eol, sizeof(core_eol));
	if (is_true(autocrlf)) {
		snprintf(why, size, "%s", t == GIT_ATTR_VALUE_UNSPECIFIED ? "core.autocrlf=true (no text attribute)"
						 : "the attribute text (from gitattributes) with core.autocrlf=true");
		return true;
	}
	if (t == GIT_ATTR_VALUE_UNSPECIFIED || !strcasecmp(autocrlf, "input") || strcmp(core_eol, "crlf"))
		return false;
	snprintf(why, size, "the attribute text (from gitattributes) with core.eol=crlf");
	return true;
}

int gitattrs_changing(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool file_first,
		      struct gitattrs_change *out)
{
	const char *v[A_COUNT] = { NULL };
	const char *enc;

	out->what[0] = '\0';
	out->at_checkout = false;
	if (!f->repo || !len)
		return 0;
	if (git_attr_get_many(v, f->repo, file_first ? GIT_ATTR_CHECK_FILE_THEN_INDEX : GIT_ATTR_CHECK_INDEX_THEN_FILE,
			      path, A_COUNT, attr_names) < 0)
		return gitrepo_fail("cannot read the gitattributes");
	enc = v[A_ENCODING];
	/* git keeps UTF-8 as it is (same_encoding) */
	if (git_attr_value(enc) == GIT_ATTR_VALUE_STRING && *enc && strcasecmp(enc, "utf-8") && strcasecmp(enc, "utf8")) {
		snprintf(out->what, sizeof(out->what), "the attribute working-tree-encoding=%s (from gitattributes)",
			 gitfilter_shown(enc));
		return 1;
	}
	/* ident turns "$Id: ...$" into "$Id$" and back, in a value, a key
	 * or a comment in clear */
	if (git_attr_value(v[A_IDENT]) == GIT_ATTR_VALUE_TRUE && memmem(text, len, "$Id", 3)) {
		snprintf(out->what, sizeof(out->what), "the attribute ident (from gitattributes)");
		return 1;
	}
	if (memchr(text, '\n', len) && eol_is_crlf(f, v, out->what, sizeof(out->what))) {
		out->at_checkout = true;
		return 1;
	}
	return 0;
}

int gitattrs_refuse(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool clean)
{
	struct gitattrs_change c;
	int ret = gitattrs_changing(f, path, text, len, clean, &c);

	if (ret <= 0)
		return ret;
	return GS_FAIL(GS_ERR_CONFIG, "'%s': %s %s", gitfilter_shown(path), c.what, gitattrs_effect(&c, clean));
}
