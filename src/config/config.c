/* .sops.yaml (spec 10; sops config/config.go), read with libyaml's
 * document API: independent of the YAML store. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "gitseal/age.h"
#include "gitseal/alloc.h"
#include "gitseal/config.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/re2posix.h"
#include "gitseal/shown.h"
#include "gitseal/sops_format.h"

enum { CONFIG_MAX_SIZE = 1024 * 1024, CONFIG_MAX_LEVELS = 100 };

/* Key types sops has and gitseal cannot wrap for (config/config.go). */
static const char *const foreign_fields[] = { "kms", "gcp_kms", "azure_keyvault", "hckms" };

struct parser {
	yaml_document_t doc;
	const char *name;
	const char *text; /* the file, for what the document API does not keep */
	size_t len;
};

static yaml_node_t *node_at(struct parser *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static bool scalar_is(yaml_node_t *n, const char *s)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(struct parser *p, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++)
		if (scalar_is(node_at(p, pr->key), key))
			return node_at(p, pr->value);
	return NULL;
}

static bool is_null(yaml_node_t *n)
{
	const char *s = scalar(n);

	return !n || (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		      (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		       !strcmp(s, "NULL")));
}

static int add_string(char ***list, size_t *count, const char *s, size_t len, bool dedupe)
{
	while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r'))
		len--;
	if (!len)
		return 0;
	if (dedupe)
		for (size_t i = 0; i < *count; i++)
			if (strlen((*list)[i]) == len && memcmp((*list)[i], s, len) == 0)
				return 0;
	return gs_strings_push(list, count, s, len);
}

/* A key field: a string with commas, or a list of such strings. */
static int add_keys(struct parser *p, yaml_node_t *n, const char *field, char ***list,
		    size_t *count, bool dedupe)
{
	int ret = 0;

	if (is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = scalar(n), *comma;

		/* said before anything repeats it (git init lists recipients) */
		if (!strcmp(field, "age") && age_recipient_text_is_secret(s))
			return GS_FAIL(GS_ERR_CONFIG,
				       "'%s': an 'age' entry is an identity (secret key), not a recipient: "
				       "put its recipient there ('gitseal keygen -y KEYFILE'), and make a new "
				       "key if this one was committed", gs_shown(p->name));
		while (ret == 0) {
			comma = strchr(s, ',');
			ret = add_string(list, count, s, comma ? (size_t)(comma - s) : strlen(s), dedupe);
			if (!comma)
				break;
			s = comma + 1;
		}
		return ret;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' must be a string or a list", gs_shown(p->name),
			       gs_shown(field));
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top && ret == 0; it++) {
		yaml_node_t *item = node_at(p, *it);

		if (!item || item->type != YAML_SCALAR_NODE)
			return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' items must be strings", gs_shown(p->name),
				       gs_shown(field));
		ret = add_keys(p, item, field, list, count, dedupe);
	}
	return ret;
}

/* ---- keys gitseal cannot wrap for, named as sops_foreign_key_describe does ---- */

static int add_foreign(struct sops_key_group *g, const char *type, const char *id, size_t len)
{
	char *s = NULL;
	int ret;

	while (len && (*id == ' ' || *id == '\t')) {
		id++;
		len--;
	}
	while (len && (id[len - 1] == ' ' || id[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	if (gs_asprintf(&s, "%s %.*s", type, (int)len, id) < 0)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = add_string(&g->foreign, &g->foreign_count, s, strlen(s), true);
	free(s);
	return ret;
}

/* pgp: a fingerprint loses its spaces (pgp NewMasterKeyFromFingerprint) */
static int add_pgp(struct parser *p, yaml_node_t *n, struct sops_key_group *g, bool dedupe)
{
	size_t first = g->pgp_count;
	int ret = add_keys(p, n, "pgp", &g->pgp, &g->pgp_count, dedupe);

	for (size_t i = first; ret == 0 && i < g->pgp_count; i++) {
		char *w = g->pgp[i];

		for (const char *r = g->pgp[i]; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		*w = '\0';
	}
	return ret;
}

/* kms: an ARN, "+arn:..." a role to assume (kms NewMasterKeyFromArn) */
static int add_kms_arn(struct sops_key_group *g, const char *arn)
{
	const char *role = strstr(arn, "+arn:");

	return add_foreign(g, "kms", arn, role ? (size_t)(role - arn) : strlen(arn));
}

/* azure_keyvault: https://HOST/keys/NAME[/VERSION] (azkv NewMasterKeyFromURL) */
static int add_azure_url(struct parser *p, struct sops_key_group *g, const char *url)
{
	const char *keys, *name, *slash;

	while (*url == ' ')
		url++;
	keys = strstr(url, "/keys/");
	if (strncmp(url, "https://", 8) || !keys || memchr(url + 8, '/', (size_t)(keys - url - 8)) ||
	    !keys[6] || keys[6] == '/')
		return GS_FAIL(GS_ERR_CONFIG, "'%s': invalid azure_keyvault URL '%s'", gs_shown(p->name),
			       gs_shown(url));
	name = keys + 6;
	slash = strchr(name, '/');
	return add_foreign(g, "azure_kv", url, (size_t)((slash ? slash : name + strlen(name)) - url));
}

/* A list of strings or comma-separated strings of one foreign type. */
static int add_foreign_field(struct parser *p, yaml_node_t *n, const char *field, struct sops_key_group *g)
{
	char **list = NULL;
	size_t count = 0;
	int ret = add_keys(p, n, field, &list, &count, false);

	for (size_t i = 0; ret == 0 && i < count; i++) {
		if (!strcmp(field, "kms"))
			ret = add_kms_arn(g, list[i]);
		else if (!strcmp(field, "azure_keyvault"))
			ret = add_azure_url(p, g, list[i]);
		else
			ret = add_foreign(g, !strcmp(field, "gcp_kms") ? "gcp_kms" : "hckms", list[i],
					  strlen(list[i]));
	}
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
	return ret;
}

/* A key group's list of maps: kms [{arn}], gcp_kms [{resource_id}],
 * hckms [{key_id}], azure_keyvault [{vaultUrl, key, version}]. */
static int add_foreign_maps(struct parser *p, yaml_node_t *n, const char *field, struct sops_key_group *g)
{
	int ret = 0;

	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' in a key group must be a list", gs_shown(p->name),
			       gs_shown(field));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top && !ret;
	     it++) {
		yaml_node_t *item = node_at(p, *it);
		const char *id = NULL, *url, *key;

		if (!item || item->type != YAML_MAPPING_NODE)
			return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' items must be mappings", gs_shown(p->name),
				       gs_shown(field));
		if (!strcmp(field, "kms"))
			id = scalar(map_get(p, item, "arn"));
		else if (!strcmp(field, "gcp_kms"))
			id = scalar(map_get(p, item, "resource_id"));
		else if (!strcmp(field, "hckms"))
			id = scalar(map_get(p, item, "key_id"));
		if (!strcmp(field, "azure_keyvault")) {
			char *joined = NULL;

			url = scalar(map_get(p, item, "vaultUrl"));
			key = scalar(map_get(p, item, "key"));
			if (!url || !key || !*key)
				return GS_FAIL(GS_ERR_CONFIG, "'%s': azure_keyvault needs vaultUrl and key",
					       gs_shown(p->name));
			if (gs_asprintf(&joined, "%s/keys/%s", url, key) < 0)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			ret = add_azure_url(p, g, joined);
			free(joined);
		} else if (!id || !*id) {
			return GS_FAIL(GS_ERR_CONFIG, "'%s': a '%s' entry without its key id", gs_shown(p->name),
				       gs_shown(field));
		} else {
			ret = add_foreign(g, field, id, strlen(id));
		}
	}
	return ret;
}

static int parse_group(struct parser *p, yaml_node_t *g, struct sops_key_group *out, int depth)
{
	yaml_node_t *merge;
	int ret = 0;

	if (depth > 16)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': key group merges nested too deeply", gs_shown(p->name));
	if (is_null(g))
		return 0;
	if (g->type != YAML_MAPPING_NODE)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': a key group must be a mapping", gs_shown(p->name));
	/* extractMasterKeys: merge first, then age, ..., hc_vault */
	merge = map_get(p, g, "merge");
	if (merge && !is_null(merge)) {
		if (merge->type != YAML_SEQUENCE_NODE)
			return GS_FAIL(GS_ERR_CONFIG, "'%s': 'merge' must be a list", gs_shown(p->name));
		for (yaml_node_item_t *it = merge->data.sequence.items.start;
		     it < merge->data.sequence.items.top; it++)
			if ((ret = parse_group(p, node_at(p, *it), out, depth + 1)) < 0)
				return ret;
	}
	if ((ret = add_keys(p, map_get(p, g, "age"), "age", &out->age, &out->age_count, true)) < 0)
		return ret;
	if ((ret = add_pgp(p, map_get(p, g, "pgp"), out, true)) < 0)
		return ret;
	if ((ret = add_keys(p, map_get(p, g, "hc_vault"), "hc_vault", &out->vault_uris,
			    &out->vault_count, true)) < 0)
		return ret;
	for (size_t i = 0; i < sizeof(foreign_fields) / sizeof(foreign_fields[0]); i++)
		if ((ret = add_foreign_maps(p, map_get(p, g, foreign_fields[i]), foreign_fields[i], out)) < 0)
			return ret;
	return 0;
}

static void group_free(struct sops_key_group *g)
{
	for (size_t i = 0; i < g->age_count; i++)
		free(g->age[i]);
	for (size_t i = 0; i < g->vault_count; i++)
		free(g->vault_uris[i]);
	for (size_t i = 0; i < g->pgp_count; i++)
		free(g->pgp[i]);
	for (size_t i = 0; i < g->foreign_count; i++)
		free(g->foreign[i]);
	free(g->age);
	free(g->vault_uris);
	free(g->pgp);
	free(g->foreign);
}

/* A plain scalar with no tag (libyaml gives an untagged plain scalar !!str
 * too: a tag shows in the text before the value). */
static bool untagged_plain(const struct parser *p, const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       n->end_mark.index <= p->len && n->end_mark.index - n->start_mark.index == n->data.scalar.length;
}

static int parse_int_node(struct parser *p, yaml_node_t *n, const char *field, int *out)
{
	const char *s = scalar(n), *digits;
	char *end;
	long v;

	if (is_null(n)) {
		*out = 0;
		return 0;
	}
	/* yaml.v3 refuses a quoted int ("1": sops refused a rule gitseal read
	 * as 1); a tagged one is refused too, not read here; and it reads a
	 * leading 0 as octal (010 is 8 to sops, was 10 here) */
	if (!s || !untagged_plain(p, n))
		return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' must be an integer", gs_shown(p->name), gs_shown(field));
	digits = s + (*s == '+' || *s == '-');
	if (digits[0] == '0' && isdigit((unsigned char)digits[1]))
		return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' must be an integer", gs_shown(p->name), gs_shown(field));
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < INT_MIN || v > INT_MAX)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' must be an integer", gs_shown(p->name), gs_shown(field));
	*out = (int)v;
	return 0;
}

/* A bool field as yaml.v3 decodes it: plain and untagged, YAML 1.2's
 * true and false or YAML 1.1's y, yes, on and n, no, off, in the case
 * forms it knows; anything else (quoted, tagged, a number) sops refuses.
 * Before, only true was read, so "true" in quotes (refused by sops) was
 * true and yes (true to sops) was false. */
static int parse_bool_node(struct parser *p, yaml_node_t *n, const char *field, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF" };
	const char *s = scalar(n);

	*out = false;
	if (is_null(n))
		return 0;
	if (s && untagged_plain(p, n))
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
				*out = !strcmp(s, yes[i]);
				return 0;
			}
		}
	return GS_FAIL(GS_ERR_CONFIG, "'%s': '%s' must be true or false", gs_shown(p->name), gs_shown(field));
}

static int parse_path_regex(struct parser *p, yaml_node_t *r, struct sops_rule *rule)
{
	yaml_node_t *n = map_get(p, r, "path_regex");
	const char *s;
	int ret;

	if (!n || is_null(n))
		return 0;
	if (!(s = scalar(n)))
		return GS_FAIL(GS_ERR_CONFIG, "'%s': path_regex must be a string", gs_shown(p->name));
	if (!(rule->path_re = gs_malloc(sizeof(regex_t))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = re2posix_compile(rule->path_re, s)) < 0) {
		free(rule->path_re);
		rule->path_re = NULL;
		return ret;
	}
	if (!(rule->path_regex = gs_strdup(s)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

/* At most one of the suffix and regex options; a regex must compile. */
static int parse_selection(struct parser *p, yaml_node_t *r, struct sops_rule *rule, size_t index)
{
	yaml_node_t *n;
	const char *s;
	int ret;

	for (int k = SOPS_SEL_UNENCRYPTED_SUFFIX; k <= SOPS_SEL_ENCRYPTED_COMMENT_REGEX; k++) {
		n = map_get(p, r, sops_selection_key((enum sops_selection_kind)k));
		if (is_null(n) || !(s = scalar(n)) || !*s)
			continue;
		if (rule->selection.kind != SOPS_SEL_NONE)
			return GS_FAIL(GS_ERR_CONFIG,
				       "'%s': creation rule %zu sets more than one of the "
				       "encrypted/unencrypted suffix/regex options",
				       gs_shown(p->name), index);
		if (k != SOPS_SEL_UNENCRYPTED_SUFFIX && k != SOPS_SEL_ENCRYPTED_SUFFIX) {
			regex_t re;

			if ((ret = re2posix_compile(&re, s)) < 0)
				return ret;
			regfree(&re);
		}
		rule->selection.kind = (enum sops_selection_kind)k;
		if (!(rule->selection.value = gs_strdup(s)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return parse_bool_node(p, map_get(p, r, "mac_only_encrypted"), "mac_only_encrypted",
			       &rule->selection.mac_only_encrypted);
}

/* The keys: key_groups when it lists any, else the flat keys as one group
 * (getKeyGroupsFromCreationRule, no dedupe). */
static int parse_rule_keys(struct parser *p, yaml_node_t *r, struct sops_rule *rule)
{
	yaml_node_t *kg = map_get(p, r, "key_groups");
	struct sops_key_group *g;
	int ret = 0;

	if (kg && !is_null(kg) && kg->type != YAML_SEQUENCE_NODE)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': key_groups must be a list", gs_shown(p->name));
	if (kg && kg->type == YAML_SEQUENCE_NODE &&
	    kg->data.sequence.items.top > kg->data.sequence.items.start) {
		size_t n_groups = (size_t)(kg->data.sequence.items.top - kg->data.sequence.items.start);

		if (!(rule->groups = gs_calloc(n_groups, sizeof(*rule->groups))))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < n_groups && ret == 0; i++) {
			rule->group_count++;
			ret = parse_group(p, node_at(p, kg->data.sequence.items.start[i]), &rule->groups[i], 0);
		}
		return ret;
	}
	if (!(rule->groups = gs_calloc(1, sizeof(*rule->groups))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	rule->group_count = 1;
	g = &rule->groups[0];
	if ((ret = add_keys(p, map_get(p, r, "age"), "age", &g->age, &g->age_count, false)) < 0 ||
	    (ret = add_pgp(p, map_get(p, r, "pgp"), g, false)) < 0)
		return ret;
	for (size_t i = 0; i < sizeof(foreign_fields) / sizeof(foreign_fields[0]); i++)
		if ((ret = add_foreign_field(p, map_get(p, r, foreign_fields[i]), foreign_fields[i], g)) < 0)
			return ret;
	return add_keys(p, map_get(p, r, "hc_vault_transit_uri"), "hc_vault_transit_uri", &g->vault_uris,
			&g->vault_count, false);
}

static int parse_rule(struct parser *p, yaml_node_t *r, struct sops_rule *rule, size_t index)
{
	int ret;

	memset(rule, 0, sizeof(*rule));
	if (r->type != YAML_MAPPING_NODE)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': creation rule %zu is not a mapping", gs_shown(p->name), index);
	if ((ret = parse_path_regex(p, r, rule)) < 0 || (ret = parse_selection(p, r, rule, index)) < 0 ||
	    (ret = parse_int_node(p, map_get(p, r, "shamir_threshold"), "shamir_threshold",
				  &rule->shamir_threshold)) < 0)
		return ret;
	return parse_rule_keys(p, r, rule);
}

static int parse_indent(struct parser *p, yaml_node_t *stores, const char *fmt, int *out)
{
	yaml_node_t *n = map_get(p, map_get(p, stores, fmt), "indent");
	int sops_value, ret;

	if (!n)
		return 0;
	if ((ret = parse_int_node(p, n, "indent", &sops_value)) < 0)
		return ret;
	if (sops_value > SOPS_INDENT_MAX)
		return GS_FAIL(GS_ERR_CONFIG, "'%s': 'indent' must be at most %d", gs_shown(p->name), SOPS_INDENT_MAX);
	*out = sops_indent_from_sops(sops_value, !strcmp(fmt, "json"));
	return 0;
}

/* What sops's YAML reader (yaml.v3) reads otherwise than libyaml, so that
 * a rule read here would be another rule than sops's: a merge key
 * ("<<: *base", plain or tagged !!merge), which yaml.v3 applies and libyaml
 * leaves a key named "<<" ("<<: {path_regex: ^nothing$}" made a rule for no
 * path one for every path, its recipients those of every file); a !!binary
 * scalar, which yaml.v3 gives a string field as its decoded bytes and
 * libyaml as its base64 text ("path_regex: !!binary XnNlY3JldHMv" is
 * ^secrets/ to sops); a string holding a NUL byte ("^tok\0x"), which
 * yaml.v3 keeps whole and gitseal, reading C strings, would end at the NUL
 * ("^tok", a wider unencrypted_regex). NULL when there is none. */
/* A plain null ("null", "~") given a tag other than !!null ("!!str null",
 * "! ~"): yaml.v3 reads the string, where is_null() would read no value
 * (libyaml resolves "!" and no tag alike to !!str, so the tag is looked for
 * in the text before the value: a node's start mark is at its properties). */
static bool tagged_null(const struct parser *p, const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t from = n->start_mark.index, to = n->end_mark.index;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    !(!strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")) ||
	    (n->tag && !strcmp((const char *)n->tag, YAML_NULL_TAG)) || to > p->len || to - from <= strlen(s))
		return false;
	return memchr(p->text + from, '!', to - from - strlen(s)) != NULL;
}

static const char *unread_syntax(struct parser *p)
{
	for (yaml_node_t *n = p->doc.nodes.start; n < p->doc.nodes.top; n++) {
		if (n->type == YAML_SCALAR_NODE && tagged_null(p, n))
			return "a null given another tag ('!!str null')";
		if (n->type == YAML_SCALAR_NODE && n->tag && !strcmp((const char *)n->tag, "tag:yaml.org,2002:binary"))
			return "a !!binary value";
		if (n->type == YAML_SCALAR_NODE && memchr(n->data.scalar.value, '\0', n->data.scalar.length))
			return "a string with a NUL byte";
		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node_at(p, pr->key);

			if (k && k->type == YAML_SCALAR_NODE &&
			    ((scalar_is(k, "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) ||
			     (k->tag && !strcmp((const char *)k->tag, "tag:yaml.org,2002:merge"))))
				return "a YAML merge key ('<<')";
		}
	}
	return NULL;
}

static int key_order(const void *a, const void *b)
{
	const yaml_node_t *x = *(yaml_node_t *const *)a, *y = *(yaml_node_t *const *)b;

	if (x->data.scalar.length != y->data.scalar.length)
		return x->data.scalar.length < y->data.scalar.length ? -1 : 1;
	return memcmp(x->data.scalar.value, y->data.scalar.value, x->data.scalar.length);
}

/* A mapping that gives one key twice (its text, however quoted): yaml.v3
 * refuses the file ("mapping key already defined"), libyaml keeps both and
 * map_get() reads the first, where PyYAML and other readers a reviewer may
 * use take the last. *dup is the key, NULL when there is none; sorted, so
 * a 1 MiB file of keys costs no quadratic time. */
static int duplicate_key(struct parser *p, yaml_node_t **dup)
{
	yaml_node_t **keys = NULL;
	size_t cap = 0;
	int ret = 0;

	*dup = NULL;
	for (yaml_node_t *n = p->doc.nodes.start; n < p->doc.nodes.top && !*dup; n++) {
		size_t count = 0;

		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node_at(p, pr->key);

			if (!k || k->type != YAML_SCALAR_NODE)
				continue;
			if (count == cap) {
				size_t grown = cap ? 2 * cap : 16;
				yaml_node_t **more = gs_realloc(keys, grown * sizeof(*more));

				if (!more) {
					ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
					goto out;
				}
				keys = more;
				cap = grown;
			}
			keys[count++] = k;
		}
		if (count > 1)
			qsort(keys, count, sizeof(*keys), key_order);
		for (size_t i = 1; i < count && !*dup; i++)
			if (!key_order(&keys[i - 1], &keys[i]))
				*dup = keys[i];
	}
out:
	free(keys);
	return ret;
}

int sops_config_parse(const char *text, size_t len, const char *dir, struct sops_config **out)
{
	yaml_node_t *dup;
	yaml_parser_t yp;
	struct parser p;
	struct sops_config *c = NULL;
	yaml_node_t *root, *rules, *stores;
	bool have_doc = false;
	int ret = 0;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.name = ".sops.yaml";
	p.text = text;
	p.len = len;
	if (len > CONFIG_MAX_SIZE)
		return GS_FAIL(GS_ERR_LIMIT, "'%s': too large", gs_shown(p.name));
	if (!yaml_parser_initialize(&yp))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &p.doc)) {
		/* libyaml ran out of memory: no fault of the file's (a failed
		 * allocation of its loader sets no error type at all) */
		ret = yp.error == YAML_MEMORY_ERROR || yp.error == YAML_NO_ERROR
			? GS_FAIL(GS_ERR_NOMEM, "out of memory")
			: GS_FAIL(GS_ERR_CONFIG, "'%s': invalid YAML at line %zu: %s", gs_shown(p.name),
				  yp.problem_mark.line + 1, yp.problem ? yp.problem : "syntax error");
		goto out;
	}
	have_doc = true;
	c = gs_calloc(1, sizeof(*c));
	if (!c || !(c->dir = gs_strdup(dir ? dir : "."))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (unread_syntax(&p)) {
		ret = GS_FAIL(GS_ERR_CONFIG, "'%s': %s is not supported: sops reads it otherwise than gitseal would",
			      gs_shown(p.name), unread_syntax(&p));
		goto out;
	}
	if ((ret = duplicate_key(&p, &dup)) < 0)
		goto out;
	if (dup) {
		ret = GS_FAIL(GS_ERR_CONFIG,
			      "'%s': the key '%s' is given twice in one mapping (line %zu), which sops refuses",
			      gs_shown(p.name),
			      gs_shown_n((const char *)dup->data.scalar.value,
					 dup->data.scalar.length > 64 ? 64 : dup->data.scalar.length),
			      dup->start_mark.line + 1);
		goto out;
	}
	root = yaml_document_get_root_node(&p.doc);
	if (!root || is_null(root))
		goto out;
	if (root->type != YAML_MAPPING_NODE) {
		ret = GS_FAIL(GS_ERR_CONFIG, "'%s': top level must be a mapping", gs_shown(p.name));
		goto out;
	}
	stores = map_get(&p, root, "stores");
	if ((ret = parse_indent(&p, stores, "yaml", &c->yaml_indent)) < 0 ||
	    (ret = parse_indent(&p, stores, "json", &c->json_indent)) < 0)
		goto out;
	rules = map_get(&p, root, "creation_rules");
	if (!rules || is_null(rules))
		goto out;
	if (rules->type != YAML_SEQUENCE_NODE) {
		ret = GS_FAIL(GS_ERR_CONFIG, "'%s': creation_rules must be a list", gs_shown(p.name));
		goto out;
	}
	c->rules = gs_calloc((size_t)(rules->data.sequence.items.top - rules->data.sequence.items.start) + 1,
			  sizeof(*c->rules));
	if (!c->rules) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (yaml_node_item_t *it = rules->data.sequence.items.start;
	     it < rules->data.sequence.items.top && ret == 0; it++) {
		yaml_node_t *r = node_at(&p, *it);

		c->rule_count++;
		ret = r ? parse_rule(&p, r, &c->rules[c->rule_count - 1], c->rule_count)
			: GS_FAIL(GS_ERR_CONFIG, "'%s': invalid creation rule", gs_shown(p.name));
	}
out:
	if (have_doc)
		yaml_document_delete(&p.doc);
	yaml_parser_delete(&yp);
	if (ret < 0) {
		sops_config_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void sops_config_free(struct sops_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->rule_count; i++) {
		struct sops_rule *r = &c->rules[i];

		free(r->path_regex);
		if (r->path_re)
			regfree(r->path_re);
		free(r->path_re);
		free(r->selection.value);
		for (size_t g = 0; g < r->group_count; g++)
			group_free(&r->groups[g]);
		free(r->groups);
	}
	free(c->rules);
	free(c->path);
	free(c->dir);
	free(c);
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	size_t n;
	char *out;

	if (path[0] == '/')
		return gs_strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	n = strlen(cwd) + strlen(path) + 2;
	out = gs_malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", cwd, path);
	return out;
}

/* filepath.Clean, enough for matching: drop "." parts, fold "..", "//". */
static void clean_path(char *p)
{
	char *src = p, *dst = p;

	while (*src) {
		if (src[0] == '/' && (src[1] == '/' || (src[1] == '.' && (src[2] == '/' || !src[2])))) {
			src += src[1] == '/' ? 1 : 2;
			continue;
		}
		if (src[0] == '/' && src[1] == '.' && src[2] == '.' && (src[3] == '/' || !src[3])) {
			while (dst > p && *--dst != '/')
				;
			src += 3;
			continue;
		}
		*dst++ = *src++;
	}
	if (dst == p)
		*dst++ = '/';
	*dst = '\0';
}

int sops_config_load(const char *path, struct sops_config **out)
{
	struct gs_buf text;
	char *abs = NULL, *slash;
	int ret;

	*out = NULL;
	gs_buf_init(&text, false);
	if ((ret = gs_read_file(path, &text, CONFIG_MAX_SIZE)) < 0)
		goto out;
	if (!(abs = absolute(path))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	clean_path(abs);
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((ret = sops_config_parse((const char *)text.data, text.len, abs, out)) < 0) {
		gs_error_prefix("%s", path);
		goto out;
	}
	if (!((*out)->path = gs_strdup(path))) {
		sops_config_free(*out);
		*out = NULL;
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
out:
	free(abs);
	gs_buf_release(&text);
	return ret;
}

int sops_config_find(const char *start_dir, char **path_out)
{
	char *dir = absolute(start_dir ? start_dir : ".");
	int ret = 0;

	*path_out = NULL;
	if (!dir)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	clean_path(dir);
	for (int level = 0; level < CONFIG_MAX_LEVELS; level++) {
		size_t n = strlen(dir) + sizeof("/.sops.yaml");
		char *cand = gs_malloc(n);
		struct stat st;
		char *slash;

		if (!cand) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		snprintf(cand, n, "%s%s.sops.yaml", dir, strcmp(dir, "/") ? "/" : "");
		/* repository content: a link would bring rules from outside it
		 * (the git filter refuses it too, gitrepo_config_path) */
		if (lstat(cand, &st) == 0 && S_ISLNK(st.st_mode)) {
			ret = GS_FAIL(GS_ERR_CONFIG, "'%s' is not a regular file (a symbolic link): the repository's "
				      "rules must be a file in it (--config or SOPS_CONFIG to use it)", gs_shown(cand));
			free(cand);
			break;
		}
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			*path_out = cand;
			break;
		}
		free(cand);
		if (strcmp(dir, "/") == 0)
			break;
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(dir);
	return ret;
}

int sops_config_match(const struct sops_config *c, const char *file_path,
		      const struct sops_rule **out)
{
	char *abs = absolute(file_path);
	const char *rel;
	size_t dlen;
	int ret = GS_ERR_NO_RULE;

	*out = NULL;
	if (!abs)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	clean_path(abs);
	rel = abs;
	dlen = strlen(c->dir);
	/* parseCreationRuleForFile: strip "<config dir>/" when it is a prefix */
	if (strcmp(c->dir, "/") == 0)
		rel = abs + 1;
	else if (strncmp(abs, c->dir, dlen) == 0 && abs[dlen] == '/')
		rel = abs + dlen + 1;
	for (size_t i = 0; i < c->rule_count; i++) {
		const struct sops_rule *r = &c->rules[i];

		if (!r->path_regex || !r->path_regex[0] || !r->path_re) {
			*out = r;
			ret = 0;
			break;
		}
		if ((ret = re2posix_match(r->path_re, rel)) != 0) {
			*out = ret > 0 ? r : NULL;
			ret = ret > 0 ? 0 : ret;
			break;
		}
		ret = GS_ERR_NO_RULE;
	}
	if (ret == GS_ERR_NO_RULE)
		gs_error_set(GS_ERR_NO_RULE, "no matching creation rules found for '%s'", gs_shown(file_path));
	free(abs);
	return ret;
}

/* by length: a value may hold a NUL, and encrypt's are not followed by
 * one (doc.share_source) */
static bool entry_is(const struct doc_node *root, const char *key, const char *want)
{
	const struct doc_entry *e = doc_map_find(root, key);

	return e && e->value && e->value->kind == DOC_SCALAR && e->value->len == strlen(want) &&
	       memcmp(e->value->text, want, e->value->len) == 0;
}

bool sops_config_is_k8s_secret(const struct doc *d)
{
	for (size_t b = 0; b < d->count; b++) {
		const struct doc_node *root = d->branches[b];

		if (!root || root->kind != DOC_MAP || !entry_is(root, "kind", "Secret") ||
		    !entry_is(root, "apiVersion", "v1"))
			return false;
	}
	return d->count > 0;
}

const char *sops_rule_label(const struct sops_rule *r)
{
	return r->path_regex && *r->path_regex ? r->path_regex : "(every path)";
}
