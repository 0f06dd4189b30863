/* Store dispatch and format names (sops cmd/sops/formats: FormatForPath). */
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/heap.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "store_int.h"

/* Each format's store: one table instead of a switch per operation. */
static const struct {
	int (*load)(const uint8_t *text, size_t len, struct doc *d);
	int (*emit)(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out);
} stores[] = {
	[DOC_FORMAT_YAML] = { store_yaml_load, store_yaml_emit },
	[DOC_FORMAT_JSON] = { store_json_load, store_json_emit },
	[DOC_FORMAT_DOTENV] = { store_dotenv_load, store_dotenv_emit },
	[DOC_FORMAT_INI] = { store_ini_load, store_ini_emit },
	[DOC_FORMAT_BINARY] = { store_binary_load, store_binary_emit },
};

static bool known_format(enum doc_format format)
{
	return (size_t)format < sizeof(stores) / sizeof(stores[0]) && stores[format].load;
}

#ifdef GITSEAL_TEST_HOOKS
/* The test build's budget, GITSEAL_TEST_NODE_BUDGET when it is smaller:
 * tests/cli/limits.bats floods the sanitized build past a budget of a few
 * thousand nodes (the release build, past DOC_MAX_NODES: 4 s of CPU under
 * ASan for a YAML flood). */
static size_t test_budget(size_t budget)
{
	const char *s = getenv("GITSEAL_TEST_NODE_BUDGET");
	unsigned long n = s && *s ? strtoul(s, NULL, 10) : 0;

	return n && n < budget ? (size_t)n : budget;
}
#else
#define test_budget(budget) (budget)
#endif

static int load_with(int (*load)(const uint8_t *text, size_t len, struct doc *d), const uint8_t *text,
		     size_t len, struct doc *d)
{
	int ret;

	/* what a file may make; what the engine adds later (metadata) is not
	 * counted against it. A smaller budget set beforehand stands (tests). */
	size_t budget = test_budget(d->node_limit && d->node_limit < DOC_MAX_NODES ? d->node_limit : DOC_MAX_NODES);

	d->node_limit = d->nodes + budget;
	gs_heap_expect(len);
	doc_expect_text(d, text, len);
	ret = load(text, len, d);
	/* the stores see a spent budget as a failed allocation */
	if (ret && doc_budget_spent(d))
		ret = GS_FAIL(GS_ERR_LIMIT, "more than %zu keys and values in one document", budget);
	d->node_limit = 0;
	return ret;
}

int store_load(enum doc_format format, const uint8_t *text, size_t len, struct doc *d)
{
	if (!known_format(format))
		return GS_FAIL(GS_ERR_USAGE, "no store for this format");
	return load_with(stores[format].load, text, len, d);
}

int store_load_data(enum doc_format format, const uint8_t *text, size_t len, struct doc *d)
{
	if (format == DOC_FORMAT_YAML)
		return load_with(store_yaml_load_data, text, len, d);
	return store_load(format, text, len, d);
}

int store_take_source(struct doc *d, const uint8_t *text, size_t len)
{
	if (len > STORE_MAX_INPUT)
		return GS_FAIL(GS_ERR_LIMIT, "input larger than %d bytes", STORE_MAX_INPUT);
	if (text && text == d->source.data && len == d->source.len)
		return 0;
	gs_buf_reset(&d->source);
	if (gs_buf_append(&d->source, text, len))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

int store_put_spaces(struct gs_buf *out, size_t n)
{
	static const char spaces[] = "                                ";
	int ret = 0;

	while (n && !ret) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		ret = store_put(out, spaces, k);
		n -= k;
	}
	return ret;
}

int store_put_tail(struct gs_buf *out, size_t start, const struct gs_buf *tail)
{
	int ret;

	if (!tail->len)
		return 0;
	if (out->len > start && out->data[out->len - 1] != '\n' && (ret = store_put(out, "\n", 1)) < 0)
		return ret;
	return store_put(out, tail->data, tail->len);
}

int store_load_buf(enum doc_format format, struct gs_buf *text, struct doc *d)
{
	gs_buf_release(&d->source);
	d->source = *text;
	gs_buf_init(text, text->secure);
	/* an empty buffer has no storage: the stores read "" */
	if (!d->source.data && gs_buf_reserve(&d->source, 0))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return store_load(format, d->source.data, d->source.len, d);
}

int store_emit(const struct doc *d, enum doc_format format, const struct store_emit_opts *opts,
	       struct gs_buf *out)
{
	if (!known_format(format))
		return GS_FAIL(GS_ERR_USAGE, "no store for this format");
	return stores[format].emit(d, opts, out);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* sops 6.5: case-sensitive suffixes, binary otherwise */
enum doc_format store_format_for_path(const char *path)
{
	if (has_suffix(path, ".yaml") || has_suffix(path, ".yml"))
		return DOC_FORMAT_YAML;
	if (has_suffix(path, ".json"))
		return DOC_FORMAT_JSON;
	if (has_suffix(path, ".env"))
		return DOC_FORMAT_DOTENV;
	if (has_suffix(path, ".ini"))
		return DOC_FORMAT_INI;
	return DOC_FORMAT_BINARY;
}

int store_format_from_name(const char *name, enum doc_format *out)
{
	static const struct {
		const char *name;
		enum doc_format format;
	} names[] = {
		{ "yaml", DOC_FORMAT_YAML },     { "json", DOC_FORMAT_JSON },
		{ "dotenv", DOC_FORMAT_DOTENV }, { "ini", DOC_FORMAT_INI },
		{ "binary", DOC_FORMAT_BINARY },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i].name, name) == 0) {
			*out = names[i].format;
			return 0;
		}
	}
	return GS_FAIL(GS_ERR_USAGE, "unknown format '%s'", gs_shown_n(name, strnlen(name, 32)));
}
