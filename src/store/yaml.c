/* The YAML store (sops stores/yaml over yaml.v3): loading builds the doc
 * tree and a record of every node's tokens (yaml_load.c); writing patches
 * the source through those records (yaml_patch.c) and, where a change
 * cannot be placed, writes yaml.v3's layout (yaml_fresh.c). The layers
 * are described in yaml_int.h. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "yaml_int.h"

int store_yaml_load(const uint8_t *text, size_t len, struct doc *d)
{
	return yaml_load(text, len, d);
}

int store_yaml_load_data(const uint8_t *text, size_t len, struct doc *d)
{
	return yaml_load_data(text, len, d);
}

static int emit_fresh(const struct doc *d, size_t step, struct gs_buf *out)
{
	struct yfresh f = { .out = out, .step = step };
	int ret = 0;

	for (size_t i = 0; i < d->count && !ret; i++) {
		if (i && (ret = store_put(out, "---\n", 4)))
			break;
		ret = yfresh_document(&f, d->branches[i]);
	}
	return ret;
}

/* The test build can count how often the file's layout is kept
 * (GITSEAL_TEST_LAYOUT_LOG=FILE: a line "kept" or "fresh" per YAML output
 * that had a source, appended to FILE), to measure the fallback to the
 * fresh layout over a corpus. Release builds compile this out. */
static void test_layout_log(bool kept)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *path = getenv("GITSEAL_TEST_LAYOUT_LOG");
	FILE *f = path && *path ? fopen(path, "a") : NULL;

	if (f) {
		fputs(kept ? "kept\n" : "fresh\n", f);
		fclose(f);
	}
#else
	(void)kept;
#endif
}

int store_yaml_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	size_t step = opts && opts->indent > 0 ? (size_t)opts->indent : SOPS_YAML_INDENT;
	const struct yaml_syntax *syn = yaml_syntax_of(d);

	if (syn && d->format == DOC_FORMAT_YAML && d->source.data && d->count > 0 &&
	    !(opts && opts->fresh)) {
		size_t mark = out->len;
		int ret = yaml_patch(d, syn, step, out);

		if (ret != GS_ERR_GENERIC) {
			test_layout_log(ret == 0);
			return ret;
		}
		test_layout_log(false);
		/* a change the layout cannot take: the whole file afresh */
		if (out->len > mark)
			sodium_memzero(out->data + mark, out->len - mark);
		out->len = mark;
		gs_error_clear();
	}
	return emit_fresh(d, step, out);
}
