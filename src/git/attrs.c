/* The gitattributes that make git change the sealed text between the
 * filter and the blob: git applies working-tree-encoding, line ends and
 * ident after the clean and before the smudge (convert.c), each of which a
 * later .gitattributes line (a pull request's) can set over what init
 * writes. A blob so changed is no sops file, or one whose MAC fails, or
 * one that opens to other bytes; the filter refuses such a path.
 *
 * A `git add` of many new files has git's own answer for them already
 * (readahead.c asks `git check-attr` for a directory's names at once, these
 * attributes with the filter's): libgit2 walks the attribute files again at
 * every call, about 27 K instructions and 14 system calls a file on git's
 * critical path, so it is asked only where no such answer is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <git2.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitfilter_int.h"

enum { A_TEXT, A_CRLF, A_EOL, A_IDENT, A_ENCODING };

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
	if (rc == 0 && e->value)
		snprintf(out, size, "%s", e->value);
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

static bool is_true(const char *v)
{
	return !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1");
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

	if (action == CRLF_BINARY || action == CRLF_INPUT || attr_is(&a[A_EOL], "lf"))
		return 0;
	if (attr_is(&a[A_EOL], "crlf")) {
		snprintf(why, size, "the attribute eol=crlf (from gitattributes)");
		return 1;
	}
	if ((ret = line_end_config(f, &autocrlf, &core_eol)))
		return ret;
	if (is_true(autocrlf)) {
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
	/* git keeps UTF-8 as it is (same_encoding) */
	if (enc->kind == ATTR_STRING && *enc->s && strcasecmp(enc->s, "utf-8") && strcasecmp(enc->s, "utf8")) {
		snprintf(out->what, sizeof(out->what), "the attribute working-tree-encoding=%s (from gitattributes)",
			 gitfilter_shown(enc->s));
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

/* What `git check-attr` printed as git reads it. It prints a set
 * attribute "set" and an unset one "unset", as it prints text=set and
 * text=unset: each such value is read both ways (the bits of strings
 * say which are read as strings). "unspecified" is read as unspecified: as
 * a string it is unspecified to text, crlf, eol and ident too, and a
 * working-tree-encoding iconv does not know, which git fails to convert
 * (the add fails; the checkout is left as it is). */
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

/* changing() for a clean from git's printed answer: 1 is returned as
 * 2 when the readings of an ambiguous value disagree (libgit2 tells). */
static int changing_printed(struct gitfilter *f, const char *const printed[GITATTRS_COUNT], const uint8_t *text,
			    size_t len, struct gitattrs_change *out)
{
	struct gitattrs_change other;
	struct attr a[GITATTRS_COUNT];
	unsigned ambiguous = 0, strings = 0;
	int ret, again;

	for (unsigned k = 0; k < GITATTRS_COUNT; k++)
		if (!strcmp(printed[k], "set") || !strcmp(printed[k], "unset"))
			ambiguous |= 1u << k;
	read_printed(printed, 0, a);
	if ((ret = changing(f, a, text, len, false, out)) < 0)
		return ret;
	/* each other subset of the ambiguous values read as strings */
	while ((strings = (strings - ambiguous) & ambiguous)) {
		read_printed(printed, strings, a);
		if ((again = changing(f, a, text, len, false, &other)) < 0)
			return again;
		if (again != ret || other.at_checkout != out->at_checkout || strcmp(other.what, out->what))
			return 2;
	}
	return ret;
}

int gitattrs_changing(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool checkout,
		      struct gitattrs_change *out)
{
	const char *printed[GITATTRS_COUNT], *v[GITATTRS_COUNT] = { NULL };
	struct attr a[GITATTRS_COUNT];
	int ret;

	out->what[0] = '\0';
	out->at_checkout = false;
	if (!f->repo || !len)
		return 0;
	if (!checkout && readahead_attrs(f->ahead, path, printed) &&
	    (ret = changing_printed(f, printed, text, len, out)) != 2)
		return ret;
	if (git_attr_get_many(v, f->repo, checkout ? GIT_ATTR_CHECK_INDEX_THEN_FILE : GIT_ATTR_CHECK_FILE_THEN_INDEX,
			      path, GITATTRS_COUNT, attr_names) < 0)
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
	return changing(f, a, text, len, checkout, out);
}

int gitattrs_refuse(struct gitfilter *f, const char *path, const uint8_t *text, size_t len, bool clean)
{
	struct gitattrs_change c;
	int ret = gitattrs_changing(f, path, text, len, !clean, &c);

	if (ret <= 0)
		return ret;
	return GS_FAIL(GS_ERR_CONFIG, "'%s': %s %s", gitfilter_shown(path), c.what, gitattrs_effect(&c, clean));
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
