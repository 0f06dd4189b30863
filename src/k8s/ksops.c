#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "k8s_int.h"

bool k8s_generator_kind_ok(const struct doc_node *cfg)
{
	const char *api = k8s_map_str(cfg, "apiVersion"), *kind = k8s_map_str(cfg, "kind");

	if (!api || !kind)
		return false;
	/* KSOPS reads v1 and v2 configs alike (v2 only names the KRM form) */
	return ((!strcmp(api, "viaduct.ai/v1") || !strcmp(api, "viaduct.ai/v2")) &&
		!strcmp(kind, "ksops")) ||
	       (!strcmp(api, "gitseal.dev/v1") && !strcmp(kind, "SecretGenerator"));
}

static int string_list(const struct doc_node *map, const char *key, const struct doc_node **out)
{
	const struct doc_node *l = k8s_map_get(map, key);

	*out = NULL;
	if (!l || (l->kind == DOC_SCALAR && l->type == DOC_NULL))
		return 0;
	if (l->kind != DOC_LIST)
		return GS_FAIL(GS_ERR_CONFIG, "'%s' must be a list of file names", gs_shown(key));
	for (size_t i = 0; i < l->count; i++) {
		const struct doc_node *v = l->entries[i].value;

		if (l->entries[i].removed || v->kind == DOC_COMMENT)
			continue;
		/* a NUL would end the name before what the config shows */
		if (v->kind != DOC_SCALAR || v->type != DOC_STR || !v->len || memchr(v->text, '\0', v->len))
			return GS_FAIL(GS_ERR_CONFIG, "'%s' item %zu is not a file name", gs_shown(key), i);
	}
	*out = l;
	return 0;
}

int k8s_generator_parse(const struct doc_node *cfg, struct k8s_generator *g)
{
	const struct doc_node *sf;
	int ret;

	memset(g, 0, sizeof(*g));
	if (!cfg || cfg->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_CONFIG, "generator config is not a mapping");
	ret = string_list(cfg, "files", &g->files);
	if (ret)
		return ret;
	sf = k8s_map_get(cfg, "secretFrom");
	if (!g->files && !sf)
		return GS_FAIL(GS_ERR_CONFIG, "missing the required 'files' or 'secretFrom' key");
	if (!sf)
		return 0;
	if (sf->kind != DOC_LIST)
		return GS_FAIL(GS_ERR_CONFIG, "'secretFrom' must be a list");
	g->secret_from = gs_calloc(sf->count ? sf->count : 1, sizeof(*g->secret_from));
	if (!g->secret_from)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < sf->count; i++) {
		const struct doc_node *item = sf->entries[i].value;
		struct k8s_secret_from *s = &g->secret_from[g->secret_from_count];
		const struct doc_node *t;

		if (sf->entries[i].removed || item->kind == DOC_COMMENT)
			continue;
		if (item->kind != DOC_MAP) {
			ret = GS_FAIL(GS_ERR_CONFIG, "'secretFrom' item %zu is not a mapping", i);
			goto fail;
		}
		s->metadata = k8s_map_get(item, "metadata");
		if (s->metadata && s->metadata->kind != DOC_MAP) {
			ret = GS_FAIL(GS_ERR_CONFIG, "'secretFrom' item %zu: metadata is not a mapping", i);
			goto fail;
		}
		t = k8s_map_get(item, "type");
		if (t && (t->kind != DOC_SCALAR || t->type != DOC_STR)) {
			ret = GS_FAIL(GS_ERR_CONFIG, "'secretFrom' item %zu: type is not a string", i);
			goto fail;
		}
		s->type = t && t->len ? t->text : NULL;
		if ((ret = string_list(item, "files", &s->files)) ||
		    (ret = string_list(item, "binaryFiles", &s->binary_files)) ||
		    (ret = string_list(item, "envs", &s->envs))) {
			gs_error_prefix("'secretFrom' item %zu", i);
			goto fail;
		}
		g->secret_from_count++;
	}
	return 0;
fail:
	k8s_generator_release(g);
	return ret;
}

void k8s_generator_release(struct k8s_generator *g)
{
	free(g->secret_from);
	memset(g, 0, sizeof(*g));
}

int k8s_file_key_path(const char *spec, char **key, char **path)
{
	const char *eq = strchr(spec, '=');
	const char *base;

	*key = *path = NULL;
	if (eq && strchr(eq + 1, '='))
		return GS_FAIL(GS_ERR_CONFIG, "'%s': more than one '=' in a file entry", gs_shown(spec));
	if (eq) {
		if (eq == spec || !eq[1])
			return GS_FAIL(GS_ERR_CONFIG, "'%s': empty key or path", gs_shown(spec));
		*key = gs_strndup(spec, (size_t)(eq - spec));
		*path = gs_strdup(eq + 1);
	} else {
		base = strrchr(spec, '/');
		*key = gs_strdup(base ? base + 1 : spec);
		*path = gs_strdup(spec);
	}
	if (!*key || !*path) {
		free(*key);
		free(*path);
		*key = *path = NULL;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}
