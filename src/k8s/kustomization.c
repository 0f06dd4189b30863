/* The kustomization walker: follows a kustomization and everything it
 * names (resources, bases, components, patches, generator sources and
 * configs, and the other fields that hold paths) and records each local
 * path, joined and cleaned as kustomize does, so that the renderer can
 * check it lies inside the root, index the encrypted sources, decrypt
 * generator sources before the build and stage what the build reads.
 * Field names: kustomize api/types/kustomization.go. */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "k8s_int.h"

enum { WALK_MAX_DIRS = 10000, WALK_MAX_FILES = K8S_MAX_FILES };

static const char *const kustomization_names[] = {
	"kustomization.yaml", "kustomization.yml", "Kustomization",
};

const char *k8s_kustomization_name(const struct k8s_root *root, const char *dir_rel)
{
	for (size_t i = 0; i < sizeof(kustomization_names) / sizeof(kustomization_names[0]); i++) {
		char *p = k8s_rel_join(dir_rel, kustomization_names[i]);
		struct stat st;
		bool found = p && !k8s_root_stat(root, p, &st) && S_ISREG(st.st_mode);

		free(p);
		if (found)
			return kustomization_names[i];
	}
	return NULL;
}

/* kustomize's remote targets: URLs, scp-like git addresses and the hosts
 * it knows without a scheme (api/internal/git/repospec.go). */
static bool is_remote(const char *s)
{
	static const char *const prefixes[] = {
		"git@", "git::", "gh:", "github.com/", "gitlab.com/", "bitbucket.org/",
	};

	if (strstr(s, "://"))
		return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return true;
	}
	return false;
}

void k8s_walk_release(struct k8s_walk *w)
{
	for (size_t i = 0; i < w->count; i++) {
		free(w->files[i].rel);
		free(w->files[i].kdir);
	}
	for (size_t i = 0; i < w->dir_count; i++)
		free(w->dirs[i]);
	for (size_t i = 0; i < w->inline_count; i++) {
		free(w->inlines[i].text);
		free(w->inlines[i].kfile);
		free(w->inlines[i].kdir);
	}
	free(w->files);
	free(w->dirs);
	free(w->inlines);
	free(w->generator_dir);
	free(w->value_copy);
	free(w->whole_copy);
	memset(w, 0, sizeof(*w));
}

/* *index (when not NULL): where the file is in w->files. */
static int add_file_at(struct k8s_walk *w, const char *rel, enum k8s_file_role role, const char *kdir,
		       size_t *index)
{
	struct k8s_walk_file *f;
	int ret;

	for (size_t i = 0; i < w->count; i++) {
		if (w->files[i].role == role && !strcmp(w->files[i].rel, rel)) {
			if (index)
				*index = i;
			return 0;
		}
	}
	if (w->count >= WALK_MAX_FILES)
		return GS_FAIL(GS_ERR_LIMIT, "more than %d files in the kustomization", WALK_MAX_FILES);
	if ((ret = GS_ARRAY_GROW(w->files, w->count, w->cap, 32)) < 0)
		return ret;
	f = &w->files[w->count];
	memset(f, 0, sizeof(*f));
	f->role = role;
	f->rel = gs_strdup(rel);
	f->kdir = gs_strdup(kdir);
	if (!f->rel || !f->kdir) {
		free(f->rel);
		free(f->kdir);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	if (index)
		*index = w->count;
	w->count++;
	return 0;
}

static int add_file(struct k8s_walk *w, const char *rel, enum k8s_file_role role, const char *kdir)
{
	return add_file_at(w, rel, role, kdir, NULL);
}

static bool dir_seen(const struct k8s_walk *w, const char *rel)
{
	for (size_t i = 0; i < w->dir_count; i++) {
		if (!strcmp(w->dirs[i], rel))
			return true;
	}
	return false;
}

static int add_dir(struct k8s_walk *w, const char *rel)
{
	int ret;

	if (w->dir_count >= WALK_MAX_DIRS)
		return GS_FAIL(GS_ERR_LIMIT, "more than %d kustomizations", WALK_MAX_DIRS);
	if ((ret = GS_ARRAY_GROW(w->dirs, w->dir_count, w->dir_cap, 16)) < 0)
		return ret;
	w->dirs[w->dir_count] = gs_strdup(rel);
	if (!w->dirs[w->dir_count])
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	w->dir_count++;
	return 0;
}

static int add_inline(struct k8s_walk *w, const struct doc_node *text, const char *kfile,
		      const char *kdir)
{
	struct k8s_walk_inline *it;
	int ret;

	if (w->inline_count >= WALK_MAX_FILES)
		return GS_FAIL(GS_ERR_LIMIT, "more than %d inline configs", WALK_MAX_FILES);
	if ((ret = GS_ARRAY_GROW(w->inlines, w->inline_count, w->inline_cap, 4)) < 0)
		return ret;
	it = &w->inlines[w->inline_count];
	it->text = gs_strndup(text->text, text->len);
	it->kfile = gs_strdup(kfile);
	it->kdir = gs_strdup(kdir);
	if (!it->text || !it->kfile || !it->kdir) {
		free(it->text);
		free(it->kfile);
		free(it->kdir);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	w->inline_count++;
	return 0;
}

/* Whether key is name in another case as Go's encoding/json matches a
 * field name (kustomize reads a kustomization and a builtin generator's
 * config through JSON): ASCII letters folded, and the two runes that fold
 * to ASCII ones, U+212A (Kelvin sign) to 'k' and U+017F (long s) to 's'. */
static bool folds_to(const char *key, size_t len, const char *name)
{
	size_t i = 0, n = 0;

	for (; i < len && name[n]; n++) {
		unsigned char c = (unsigned char)key[i];
		int r;

		if (c < 0x80) {
			r = tolower(c);
			i++;
		} else if (len - i >= 3 && !memcmp(key + i, "\xe2\x84\xaa", 3)) {
			r = 'k';
			i += 3;
		} else if (len - i >= 2 && !memcmp(key + i, "\xc5\xbf", 2)) {
			r = 's';
			i += 2;
		} else {
			return false;
		}
		if (r != tolower((unsigned char)name[n]))
			return false;
	}
	return i == len && !name[n];
}

/* A key of map (a kustomization or an entry it lists) that kustomize reads
 * as one of the fields names, gitseal only as written, is refused: the walk
 * would not see the paths it names ('Transformers', 'reſources'). */
/* names: the fields, separated by spaces (one string, not a table of
 * pointers: every pointer of a table is a relocation in the binary's
 * relro pages, which each process writes at its start). */
static int check_field_case(const char *kfile, const struct doc_node *map, const char *names)
{
	for (size_t i = 0; map && map->kind == DOC_MAP && i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		for (const char *n = names; !e->removed && e->key && *n;) {
			size_t len = strcspn(n, " ");
			char name[48];

			snprintf(name, sizeof(name), "%.*s", (int)len, n);
			if ((e->key_len != len || memcmp(e->key, name, len)) && folds_to(e->key, e->key_len, name))
				return GS_FAIL(GS_ERR_USAGE, "'%s': kustomize reads '%s' as '%s' (field names match "
							     "in any case): write it '%s'", gs_shown(kfile),
					       gs_shown_n(e->key, e->key_len), name, name);
			n += len + (n[len] == ' ');
		}
	}
	return 0;
}

struct walker {
	const struct k8s_root *root;
	struct k8s_walk *w;
	int depth;
};

static int walk_dir(struct walker *k, const char *dir_rel, bool as_generators);

/* A local path named in the kustomization in dir: joined, cleaned and
 * checked beneath the root. */
static int local_path(struct walker *k, const char *kfile, const char *dir, const char *p,
		      char **rel_out, struct stat *st)
{
	int ret;

	*rel_out = k8s_rel_join(dir, p);
	if (!*rel_out) {
		gs_error_prefix("'%s'", gs_shown(kfile));
		return GS_ERR_USAGE;
	}
	ret = k8s_root_stat(k->root, *rel_out, st);
	if (ret) {
		gs_error_prefix("'%s'", gs_shown(kfile));
		free(*rel_out);
		*rel_out = NULL;
	}
	return ret;
}

static bool str_item(const struct doc_entry *e)
{
	return !e->removed && e->value->kind == DOC_SCALAR && e->value->type == DOC_STR;
}

/* resources, bases, components: files or kustomization directories. */
static int walk_resources(struct walker *k, const char *kfile, const char *dir,
			  const struct doc_node *list, bool as_generators)
{
	int ret = 0;

	if (!list || list->kind != DOC_LIST)
		return 0;
	for (size_t i = 0; i < list->count; i++) {
		const struct doc_entry *e = &list->entries[i];
		struct stat st;
		char *rel;

		if (!str_item(e))
			continue;
		/* a local repository fetched as a remote one: a path out of the root */
		if (strcasestr(e->value->text, "file://"))
			return GS_FAIL(GS_ERR_USAGE,
				       "'%s': '%s' is a local repository: file:// bases "
				       "read outside the root",
				       gs_shown(kfile), gs_shown(e->value->text));
		/* kustomize reads a list item with a line break as a config itself */
		if (as_generators && memchr(e->value->text, '\n', e->value->len)) {
			ret = add_inline(k->w, e->value, kfile, dir);
			if (ret)
				return ret;
			continue;
		}
		/* what kustomize cannot clone it reads as a local path, joined
		 * and cleaned by its words ('a://b/../../x' is '../x', and a
		 * base may lie anywhere): a remote base is one that path does
		 * not find beneath the root; out of the root it is refused */
		ret = local_path(k, kfile, dir, e->value->text, &rel, &st);
		if (is_remote(e->value->text)) {
			/* kustomize may clone it all the same */
			k->w->has_remote = true;
			if (ret == GS_ERR_NOT_FOUND) {
				gs_error_clear();
				continue;
			}
		}
		if (ret)
			return ret;
		if (S_ISDIR(st.st_mode) && as_generators && !k->w->generator_dir &&
		    gs_asprintf(&k->w->generator_dir, "'%s': '%s'", gs_shown(kfile), gs_shown(e->value->text)) < 0) {
			k->w->generator_dir = NULL;
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		} else if (S_ISDIR(st.st_mode)) {
			ret = walk_dir(k, rel, as_generators);
		} else {
			ret = add_file(k->w, rel, as_generators ? K8S_FILE_GENERATOR : K8S_FILE_RESOURCE, dir);
		}
		free(rel);
		if (ret)
			return ret;
	}
	return 0;
}

/* Paths that must only lie beneath the root (and be staged); *index
 * (when not NULL): where the file is in the walk's files. */
static int walk_file_at(struct walker *k, const char *kfile, const char *dir, const char *p,
			enum k8s_file_role role, size_t *index)
{
	struct stat st;
	char *rel;
	int ret = local_path(k, kfile, dir, p, &rel, &st);

	if (ret)
		return ret;
	if (!S_ISREG(st.st_mode))
		ret = GS_FAIL(GS_ERR_USAGE, "'%s': '%s' is not a file", gs_shown(kfile), gs_shown(p));
	else
		ret = add_file_at(k->w, rel, role, dir, index);
	free(rel);
	return ret;
}

static int walk_plain_path(struct walker *k, const char *kfile, const char *dir, const char *p,
			   enum k8s_file_role role)
{
	return walk_file_at(k, kfile, dir, p, role, NULL);
}

static int walk_path_list(struct walker *k, const char *kfile, const char *dir,
			  const struct doc_node *list, enum k8s_file_role role, bool allow_inline)
{
	int ret = 0;

	if (!list)
		return 0;
	if (list->kind == DOC_SCALAR && list->type == DOC_STR && list->len)
		return walk_plain_path(k, kfile, dir, list->text, role);
	if (list->kind != DOC_LIST)
		return 0;
	for (size_t i = 0; i < list->count; i++) {
		const struct doc_entry *e = &list->entries[i];

		if (!str_item(e) || (allow_inline && memchr(e->value->text, '\n', e->value->len)))
			continue;
		ret = walk_plain_path(k, kfile, dir, e->value->text, role);
		if (ret)
			return ret;
	}
	return 0;
}

/* Whether a patch's target selects nothing but Secrets. kustomize reads
 * group, version and kind as anchored regular expressions, an empty or
 * missing one matching anything (api/types/selector.go): the kind must be
 * 'Secret', the version absent or 'v1', the group absent (an empty group
 * cannot name the core one: render refuses a built Secret of another
 * group in such a build, build.c). No target: the patch's own kind. */
static bool target_secrets_only(const struct doc_node *patch)
{
	const struct doc_node *target = k8s_map_get(patch, "target");
	const struct doc_node *group = k8s_map_get(target, "group");
	const char *kind = k8s_map_str(target, "kind"), *version = k8s_map_str(target, "version");

	if (!target)
		return true;
	return kind && !strcmp(kind, "Secret") && (!k8s_map_get(target, "version") ||
						   (version && (!*version || !strcmp(version, "v1")))) &&
	       (!group || (group->kind == DOC_SCALAR && group->type == DOC_STR && !group->len));
}

static int check_patch(struct walker *k, const char *kfile, size_t n, const struct doc_node *patch,
		       const char *key, const char *rel);
static int note_line(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool name_in(const char *name, size_t len, const char *names);

/* A patch that kustomize may let change its target's kind (options
 * allowKindChange, api/types/patch.go; a Go map, its keys exact): a
 * Secret made another kind takes every value along. */
static int check_kind_change(struct walker *k, const char *where, const struct doc_node *patch)
{
	const struct doc_node *allow = k8s_map_get(k8s_map_get(patch, "options"), "allowKindChange");

	if (!allow || (allow->kind == DOC_SCALAR && (allow->type == DOC_NULL ||
						     (allow->type == DOC_BOOL && !strcmp(allow->text, "false")))))
		return 0;
	return note_line(&k->w->value_copy, "%s: a patch that may change a kind (options allowKindChange) could "
					    "make a Secret another kind: a value decrypted for the build must stay in "
					    "a v1 Secret", where);
}

/* Field specs (a transformer's fieldSpecs, a configurations file's, a
 * labels entry's fields) whose path, '/'-separated (kustomize
 * api/types/fieldspec.go), begins at a resource's kind or apiVersion:
 * a prefix, a label, a namespace or an image name written there turns a
 * Secret into another kind ('images: [{name: Secret, newName:
 * ConfigMap}]' over 'path: kind'). Every 'path' key below n (any case:
 * kustomize reads these through Go's JSON) is one. */
static int check_type_field_specs(struct walker *k, const char *where, const struct doc_node *n, int depth)
{
	int ret = 0;

	if (!n || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return 0;
	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "%s: nested too deeply", where);
	for (size_t i = 0; !ret && i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];
		const char *p;

		if (e->removed)
			continue;
		if (n->kind == DOC_MAP && e->key && folds_to(e->key, e->key_len, "path") && str_item(e)) {
			p = e->value->text + strspn(e->value->text, "/");
			if (name_in(p, strcspn(p, "/"), "kind apiVersion"))
				ret = note_line(&k->w->value_copy, "%s: a field spec with path '%s' writes a resource's "
								   "kind or apiVersion: a Secret could become another "
								   "kind, and a value decrypted for the build must stay in "
								   "a v1 Secret", where, gs_shown(e->value->text));
			continue;
		}
		ret = check_type_field_specs(k, where, e->value, depth + 1);
	}
	return ret;
}

/* The value of the key of map that Go's JSON reads as name (any case). */
static const struct doc_node *folded_get(const struct doc_node *map, const char *name)
{
	for (size_t i = 0; map && map->kind == DOC_MAP && i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		if (!e->removed && e->key && folds_to(e->key, e->key_len, name))
			return e->value;
	}
	return NULL;
}

static bool reads_secret_values(const struct doc_node *sel, const struct doc_node *field);

/* vars (api/types/var.go): each substitutes the field it reads into
 * '$(NAME)' wherever kustomize's varReference fields hold one, never a
 * Secret's values: a var reading what may be one is noted as a
 * replacement out of Secrets is. */
static int check_vars(struct walker *k, const char *kfile, const struct doc_node *vars)
{
	for (size_t i = 0; vars && vars->kind == DOC_LIST && i < vars->count; i++) {
		const struct doc_node *v = vars->entries[i].value;
		const struct doc_node *field = folded_get(folded_get(v, "fieldref"), "fieldPath");
		int ret;

		if (vars->entries[i].removed || !v || v->kind != DOC_MAP)
			continue;
		if (reads_secret_values(folded_get(v, "objref"), field) &&
		    (ret = note_line(&k->w->whole_copy, "'%s': var %zu reads what may be a Secret's value, which "
							"kustomize substitutes outside Secrets, and a value decrypted for "
							"the build is shorter than 6 bytes: render does not follow such a "
							"value, it would be published unseen", gs_shown(kfile), i + 1)))
			return ret;
	}
	return 0;
}


/* patches / patchesJson6902: maps whose 'path' is a file, or that hold
 * the patch inline. */
static int walk_path_maps(struct walker *k, const char *kfile, const char *dir,
			  const struct doc_node *list, enum k8s_file_role role)
{
	int ret = 0;

	if (!list || list->kind != DOC_LIST)
		return 0;
	for (size_t i = 0; i < list->count; i++) {
		const char *p = k8s_map_str(list->entries[i].value, "path");
		char where[PATH_MAX + 32];
		size_t at;

		if (list->entries[i].removed)
			continue;
		if ((ret = check_field_case(kfile, list->entries[i].value, "path target options")) ||
		    (ret = check_field_case(kfile, k8s_map_get(list->entries[i].value, "target"), "kind version group")))
			return ret;
		snprintf(where, sizeof(where), "'%s': patch %zu", gs_shown(kfile), i + 1);
		if ((ret = check_kind_change(k, where, list->entries[i].value)))
			return ret;
		if (!p || !*p) {
			if ((ret = check_patch(k, kfile, i, list->entries[i].value, "patch", NULL)))
				return ret;
			continue;
		}
		ret = walk_file_at(k, kfile, dir, p, role, &at);
		if (!ret)
			ret = check_patch(k, kfile, i, list->entries[i].value, "patch", k->w->files[at].rel);
		if (ret)
			return ret;
		if (role == K8S_FILE_PATCH && !target_secrets_only(list->entries[i].value))
			k->w->files[at].wide_target = true;
	}
	return 0;
}

/* Whether the len bytes at name are one of names (separated by spaces). */
static bool name_in(const char *name, size_t len, const char *names)
{
	for (const char *n = names; *n;) {
		size_t nlen = strcspn(n, " ");

		if (nlen == len && !memcmp(name, n, len))
			return true;
		n += nlen + (n[nlen] == ' ');
	}
	return false;
}

/* Whether a field path in kustomize's dotted form begins with one of
 * names (separated by spaces); a path that begins with a '[...]'
 * selector begins with none. */
static bool path_begins_with(const char *path, const char *names)
{
	return name_in(path, strcspn(path, ".["), names);
}

/* Whether a replacement's source may read a Secret's values: its kind is
 * Secret or any (a missing or empty selector field matches everything,
 * api/resid/gvk.go IsSelected), and its field is none of the clear ones.
 * kustomize's default field is metadata.name. */
static bool reads_secret_values(const struct doc_node *sel, const struct doc_node *field)
{
	const struct doc_node *kind = k8s_map_get(sel, "kind");
	const char *k = k8s_map_str(sel, "kind");

	if (kind && kind->kind == DOC_SCALAR && kind->type != DOC_NULL && (!k || (*k && strcmp(k, "Secret"))))
		return false;
	if (!field || (field->kind == DOC_SCALAR && field->type == DOC_NULL))
		return false;
	if (field->kind != DOC_SCALAR || field->type != DOC_STR)
		return true;
	return field->len && !path_begins_with(field->text, "metadata apiVersion kind type");
}

/* Whether a replacement's source options cut its value at a delimiter
 * and copy one part (api/filters/replacement/replacement.go). */
static bool cuts_value(const struct doc_node *source)
{
	const struct doc_node *options = k8s_map_get(source, "options");
	const struct doc_node *delimiter = k8s_map_get(options, "delimiter");

	if (!delimiter || (delimiter->kind == DOC_SCALAR && delimiter->type == DOC_NULL))
		return false;
	return delimiter->kind != DOC_SCALAR || delimiter->type != DOC_STR || delimiter->len;
}

/* Whether a replacement target writes into v1 Secrets' data or
 * stringData only (the target selector matched as the source's). */
static bool target_secret_values(const struct doc_node *target)
{
	const struct doc_node *sel = k8s_map_get(target, "select");
	const struct doc_node *paths = k8s_map_get(target, "fieldPaths");
	const char *kind = k8s_map_str(sel, "kind"), *group = k8s_map_str(sel, "group");
	const char *version = k8s_map_str(sel, "version");

	if (!kind || strcmp(kind, "Secret") || (k8s_map_get(sel, "group") && (!group || *group)) ||
	    (k8s_map_get(sel, "version") && (!version || (*version && strcmp(version, "v1")))))
		return false;
	for (size_t i = 0; paths && i < paths->count; i++) {
		const struct doc_entry *e = &paths->entries[i];

		if (paths->kind != DOC_LIST)
			return false;
		if (!e->removed && (!str_item(e) || !path_begins_with(e->value->text, "data stringData")))
			return false;
	}
	return !paths || paths->kind == DOC_LIST;
}

/* The first replacement or JSON patch operation that may take a Secret's
 * value where render does not follow it, or change what may be a Secret
 * into another kind (k->w->value_copy), or that may copy a whole value of
 * one elsewhere (k->w->whole_copy): the failure line, refused in a build
 * that hands kustomize decrypted values (build.c), the second where one
 * of them is too short for render to follow. */
static int note_line(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note_line(char **slot, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*slot)
		return 0;
	va_start(ap, fmt);
	n = gs_vasprintf(slot, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*slot = NULL;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Whether a selector's kind (a patch target's, a replacement's select)
 * may pick a Secret: missing, empty, not a plain name (kustomize reads a
 * patch target's as an anchored regular expression) or 'Secret'. */
static bool kind_may_be_secret(const struct doc_node *sel)
{
	const char *kind = k8s_map_str(sel, "kind");

	if (!sel || !kind || !*kind)
		return true;
	for (const char *c = kind; *c; c++)
		if (!isalnum((unsigned char)*c))
			return true;
	return !strcmp(kind, "Secret");
}

/* One replacement (api/types/replacement.go), the n-th of file. */
static int check_replacement(struct walker *k, const char *file, const struct doc_node *r, size_t n)
{
	const struct doc_node *source = k8s_map_get(r, "source"), *targets = k8s_map_get(r, "targets");
	bool wide = false;
	int ret = check_field_case(file, r, "path source targets");

	if (ret || (ret = check_field_case(file, source, "kind group version name namespace fieldPath options")) ||
	    (ret = check_field_case(file, k8s_map_get(source, "options"), "delimiter index")))
		return ret;
	for (size_t i = 0; targets && targets->kind == DOC_LIST && i < targets->count; i++) {
		const struct doc_node *t = targets->entries[i].value, *paths;

		if (targets->entries[i].removed)
			continue;
		if ((ret = check_field_case(file, t, "select reject fieldPaths options")) ||
		    (ret = check_field_case(file, k8s_map_get(t, "select"), "kind group version name namespace")))
			return ret;
		wide |= !target_secret_values(t);
		paths = k8s_map_get(t, "fieldPaths");
		for (size_t j = 0; kind_may_be_secret(k8s_map_get(t, "select")) && paths && paths->kind == DOC_LIST &&
				   j < paths->count; j++) {
			const struct doc_entry *e = &paths->entries[j];

			if (str_item(e) && path_begins_with(e->value->text, "kind apiVersion *") &&
			    (ret = note_line(&k->w->value_copy, "'%s': replacement %zu writes the kind or apiVersion "
								"of what may be a Secret: a value decrypted for the build "
								"must stay in a v1 Secret", gs_shown(file), n + 1)))
				return ret;
		}
	}
	if (targets && targets->kind != DOC_LIST)
		wide = true;
	if (!source || !wide || !reads_secret_values(source, k8s_map_get(source, "fieldPath")))
		return 0;
	if (cuts_value(source))
		return note_line(&k->w->value_copy, "'%s': replacement %zu copies a part of a value (source options "
						    "delimiter) from what may be a Secret's values elsewhere than into a "
						    "v1 Secret's data or stringData: render follows only whole values "
						    "decrypted for the build, a part would be published unseen",
				 gs_shown(file), n + 1);
	return note_line(&k->w->whole_copy, "'%s': replacement %zu copies what may be a Secret's value elsewhere "
					    "than into a v1 Secret's data or stringData, and a value decrypted for "
					    "the build is shorter than 6 bytes: render does not follow such a value, "
					    "it would be published unseen", gs_shown(file), n + 1);
}

static int refuse_binary_tags(const uint8_t *data, size_t len);

/* YAML (or JSON) text holding a list or a mapping, loaded as a
 * kustomization is. The document model's YAML loader takes a mapping
 * only: a list is loaded as the value of a key, its lines indented under
 * it (which keeps their structure); *top: the list or the mapping. */
static int load_list_or_map(const uint8_t *data, size_t len, struct doc *d, const struct doc_node **top)
{
	struct gs_buf wrapped;
	int ret;

	if (!k8s_load_config_yaml(data, len, d)) {
		*top = d->count ? d->branches[0] : NULL;
		return 0;
	}
	gs_error_clear();
	doc_release(d);
	doc_init(d, DOC_FORMAT_YAML);
	/* its line, not the wrapped text's */
	if ((ret = refuse_binary_tags(data, len)))
		return ret;
	gs_buf_init(&wrapped, false);
	ret = gs_buf_append_str(&wrapped, "r:\n");
	for (size_t i = 0; !ret && i < len;) {
		const uint8_t *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) + 1 : len - i;

		if (!(ret = gs_buf_append_str(&wrapped, "  ")))
			ret = gs_buf_append(&wrapped, data + i, n);
		i += n;
	}
	if (!ret)
		ret = k8s_load_config_yaml(wrapped.data, wrapped.len, d);
	*top = !ret && d->count ? k8s_map_get(d->branches[0], "r") : NULL;
	gs_buf_release(&wrapped);
	return ret;
}

/* A replacement file: a list of replacements or one. */
static int load_replacement_file(const struct k8s_root *root, const char *rel, struct doc *d,
				 const struct doc_node **top)
{
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, false);
	ret = k8s_root_read(root, rel, &text, K8S_MAX_FILE);
	if (!ret)
		ret = load_list_or_map(text.data, text.len, d, top);
	if (ret)
		gs_error_prefix("'%s'", gs_shown(rel));
	gs_buf_release(&text);
	return ret;
}

/* Whether a JSON patch pointer lies in a Secret's values: its first
 * segment data or stringData. The patcher kustomize uses (evanphx
 * json-patch) drops whatever comes before the first '/', and reads "" as
 * the whole object (which holds them too, where whole is true). */
static bool pointer_in_values(const char *ptr, bool whole)
{
	const char *slash = strchr(ptr, '/');

	if (!slash)
		return whole && !*ptr;
	return name_in(slash + 1, strcspn(slash + 1, "/"), "data stringData");
}

/* Whether a JSON patch pointer names a resource's kind or apiVersion, or
 * the whole resource ("", which the patcher replaces whole). */
static bool pointer_names_type(const char *ptr)
{
	const char *slash = strchr(ptr, '/');

	if (!slash)
		return !*ptr;
	return name_in(slash + 1, strcspn(slash + 1, "/"), "kind apiVersion");
}

/* A JSON patch (RFC 6902; text, inline or a file's) that patch applies:
 * render follows each value decrypted for the build of 6 bytes or more
 * (track.c), so a shorter one copied or moved out of a Secret's values
 * (its data or stringData) would go out unseen. Noted, as a replacement
 * that cuts a value is, unless it goes to a v1 Secret's data or
 * stringData. Text that is no list is a strategic merge patch; text that
 * does not load is noted too. */
static int check_json_patch(struct walker *k, const char *where, const struct doc_node *patch,
			    const uint8_t *text, size_t len)
{
	const struct doc_node *ops = NULL;
	bool into_secret = target_secrets_only(patch);
	struct doc d;
	int ret = 0;

	if (!kind_may_be_secret(k8s_map_get(patch, "target")))
		return 0;
	doc_init(&d, DOC_FORMAT_YAML);
	/* what kustomize may read otherwise (a merge key, a !!binary value)
	 * could hide an operation */
	if ((ret = load_list_or_map(text, len, &d, &ops)) && ret != GS_ERR_NOMEM) {
		char why[512];

		snprintf(why, sizeof(why), "%s", gs_error_message());
		gs_error_clear();
		ret = note_line(&k->w->value_copy, "%s: a patch that may copy or move what may be a Secret's data or "
					 "stringData does not load here (%s): render could not tell where its values go",
				      where, why);
	}
	for (size_t i = 0; !ret && ops && ops->kind == DOC_LIST && i < ops->count; i++) {
		const struct doc_node *op = ops->entries[i].value, *from;
		const char *name, *path;

		/* the patcher reads "op", "from" and "path" in this case only */
		if (ops->entries[i].removed || !op || op->kind != DOC_MAP)
			continue;
		name = k8s_map_str(op, "op");
		path = k8s_map_str(op, "path");
		/* a Secret turned into another kind takes every value along */
		if (name && strcmp(name, "test") && path && pointer_names_type(path)) {
			ret = note_line(&k->w->value_copy, "%s operation %zu: a JSON patch changes the kind or apiVersion "
							   "of what may be a Secret: a value decrypted for the build must "
							   "stay in a v1 Secret", where, i + 1);
			continue;
		}
		if (!name || (strcmp(name, "copy") && strcmp(name, "move")))
			continue;
		from = k8s_map_get(op, "from");
		if (from && from->kind == DOC_SCALAR && from->type == DOC_STR && !pointer_in_values(from->text, true))
			continue;
		if (into_secret && path && pointer_in_values(path, false))
			continue;
		ret = note_line(&k->w->value_copy, "%s operation %zu: a JSON patch %s what may be a Secret's data or "
					 "stringData elsewhere than into a v1 Secret's data or stringData: render "
					 "follows only decrypted values of 6 bytes or more, a shorter one would be "
					 "published unseen", where, i + 1, name[0] == 'c' ? "copies" : "moves");
	}
	doc_release(&d);
	return ret;
}

/* The JSON patch of the n-th patches or patchesJson6902 entry, or of a
 * patch transformer's config (n SIZE_MAX): inline under key, else the
 * file rel. */
static int check_patch(struct walker *k, const char *kfile, size_t n, const struct doc_node *patch,
		       const char *key, const char *rel)
{
	const struct doc_node *inline_text = k8s_map_get(patch, key);
	char where[PATH_MAX + 64];
	struct gs_buf text;
	int ret;

	if (!rel) {
		if (!inline_text || inline_text->kind != DOC_SCALAR || inline_text->type != DOC_STR)
			return 0;
		if (n == SIZE_MAX)
			snprintf(where, sizeof(where), "'%s': %s", gs_shown(kfile), key);
		else
			snprintf(where, sizeof(where), "'%s': patch %zu", gs_shown(kfile), n + 1);
		return check_json_patch(k, where, patch, (const uint8_t *)inline_text->text, inline_text->len);
	}
	snprintf(where, sizeof(where), "'%s'", gs_shown(rel));
	gs_buf_init(&text, false);
	ret = k8s_root_read(k->root, rel, &text, K8S_MAX_FILE);
	if (!ret)
		ret = check_json_patch(k, where, patch, text.data, text.len);
	gs_buf_release(&text);
	return ret;
}

/* replacements (of a kustomization or a ReplacementTransformer config):
 * each given in place or by path, a file holding a list of them or one.
 * The files are walked like the kustomization's other files. The first
 * replacement that may copy a part of a Secret's value (its source
 * options cut it at a delimiter) to anything but a v1 Secret's data or
 * stringData is noted, and refused in a build that hands kustomize
 * decrypted values (build.c): render follows whole decrypted values
 * through the build (track.c), and a part of one would go out unseen. */
static int walk_replacements(struct walker *k, const char *kfile, const char *dir,
			     const struct doc_node *list)
{
	int ret = 0;

	for (size_t i = 0; !ret && list && list->kind == DOC_LIST && i < list->count; i++) {
		const struct doc_node *r = list->entries[i].value, *top = NULL;
		const char *p = k8s_map_str(r, "path");
		char *rel = NULL;
		struct doc d;
		size_t at;

		if (list->entries[i].removed)
			continue;
		if (!p || !*p) {
			ret = check_replacement(k, kfile, r, i);
			continue;
		}
		if ((ret = check_field_case(kfile, r, "path source targets")) ||
		    (ret = walk_file_at(k, kfile, dir, p, K8S_FILE_OTHER, &at)))
			return ret;
		if (!(rel = gs_strdup(k->w->files[at].rel)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		doc_init(&d, DOC_FORMAT_YAML);
		ret = load_replacement_file(k->root, rel, &d, &top);
		if (!ret && top && top->kind == DOC_MAP)
			ret = check_replacement(k, rel, top, 0);
		for (size_t j = 0; !ret && top && top->kind == DOC_LIST && j < top->count; j++)
			if (!top->entries[j].removed)
				ret = check_replacement(k, rel, top->entries[j].value, j);
		doc_release(&d);
		free(rel);
	}
	return ret;
}

/* configMapGenerator / secretGenerator sources: files ([key=]path), envs,
 * env (kustomize api/types/generatorargs.go, kv.go). */
int k8s_walk_generator_args(struct k8s_walk *w, const struct k8s_root *root, const char *kfile,
			    const char *dir, const struct doc_node *args, bool secret)
{
	struct walker k = { .root = root, .w = w };
	const struct doc_node *files = k8s_map_get(args, "files");
	const struct doc_node *envs = k8s_map_get(args, "envs");
	const char *env = k8s_map_str(args, "env");
	enum k8s_file_role env_role = secret ? K8S_FILE_SECRET_ENV : K8S_FILE_CONFIGMAP_SOURCE;
	enum k8s_file_role file_role = secret ? K8S_FILE_SECRET_FILE : K8S_FILE_CONFIGMAP_SOURCE;
	int ret = check_field_case(kfile, args, "files envs env");

	if (ret)
		return ret;

	for (size_t i = 0; files && files->kind == DOC_LIST && i < files->count; i++) {
		const struct doc_entry *e = &files->entries[i];
		char *key = NULL, *path = NULL;

		if (!str_item(e))
			continue;
		ret = k8s_file_key_path(e->value->text, &key, &path);
		if (!ret)
			ret = walk_plain_path(&k, kfile, dir, path, file_role);
		free(key);
		free(path);
		if (ret)
			return ret;
	}
	ret = walk_path_list(&k, kfile, dir, envs, env_role, false);
	if (ret)
		return ret;
	if (env && *env)
		return walk_plain_path(&k, kfile, dir, env, env_role);
	return 0;
}

/* kustomize's builtin transformers that read files, given as a config of
 * their own (api/plugins/builtins): the patch files of the patch
 * transformers, walked as the kustomization's patches are, and the files
 * of a ReplacementTransformer's replacements, as its replacements are.
 * The build reads them staged, and a file that a patches entry names is
 * staged decrypted: read again by such a config, its target had gone
 * unchecked (a PatchTransformer aimed at a ConfigMap published a Secret
 * patch's values); a replacement's file went unwalked, neither checked
 * beneath the root nor staged. */
int k8s_walk_builtin_config(struct k8s_walk *w, const struct k8s_root *root, const char *kfile,
			    const char *dir, const struct doc_node *cfg, const char *kind)
{
	struct walker k = { .root = root, .w = w };
	const char *p = k8s_map_str(cfg, "path"), *json_key;
	size_t at;
	char where[PATH_MAX + 8];
	int ret = check_field_case(kfile, cfg, "path paths target replacements options");

	if (ret || (ret = check_field_case(kfile, k8s_map_get(cfg, "target"), "kind version group")))
		return ret;
	snprintf(where, sizeof(where), "'%s'", gs_shown(kfile));
	if (!strcmp(kind, "ReplacementTransformer"))
		return walk_replacements(&k, kfile, dir, k8s_map_get(cfg, "replacements"));
	if (!strcmp(kind, "PatchStrategicMergeTransformer"))
		return walk_path_list(&k, kfile, dir, k8s_map_get(cfg, "paths"), K8S_FILE_PATCH, false);
	/* the other builtin transformers write where their fieldSpecs say */
	if (strcmp(kind, "PatchTransformer") && strcmp(kind, "PatchJson6902Transformer"))
		return check_type_field_specs(&k, where, cfg, 0);
	if (!strcmp(kind, "PatchTransformer") && (ret = check_kind_change(&k, where, cfg)))
		return ret;
	json_key = strcmp(kind, "PatchTransformer") ? "jsonOp" : "patch";
	if (!p || !*p)
		return check_patch(&k, kfile, SIZE_MAX, cfg, json_key, NULL);
	if ((ret = walk_file_at(&k, kfile, dir, p, K8S_FILE_PATCH, &at)) ||
	    (ret = check_patch(&k, kfile, SIZE_MAX, cfg, json_key, w->files[at].rel)))
		return ret;
	/* a JSON patch is no Secret of its own: decrypted, it would go
	 * wherever its target says */
	if (strcmp(kind, "PatchTransformer") || !target_secrets_only(cfg))
		w->files[at].wide_target = true;
	return 0;
}

static int walk_generator_list(struct walker *k, const char *kfile, const char *dir,
			       const struct doc_node *list, bool secret)
{
	int ret = 0;

	if (!list || list->kind != DOC_LIST)
		return 0;
	for (size_t i = 0; i < list->count; i++) {
		if (list->entries[i].removed)
			continue;
		ret = k8s_walk_generator_args(k->w, k->root, kfile, dir, list->entries[i].value,
					      secret);
		if (ret)
			return ret;
	}
	return 0;
}

/* The field specs of a configurations file (kustomize's TransformerConfig:
 * the fields its namePrefix, labels, namespace, images... write). */
static int check_configuration_doc(struct walker *k, const char *where, const struct doc_node *n)
{
	return check_type_field_specs(k, where, n, 0);
}

/* The key that makes a property of a crds definition one kustomize makes
 * a field spec of (api/internal/accumulator/loadconfigfromcrds.go: the
 * x-kubernetes-identity, -annotation, -label-selector and object-ref
 * extensions, and a $ref it follows; any x- key, in any case, counts),
 * or NULL. */
static const struct doc_entry *crd_property_mark(const struct doc_node *prop)
{
	for (size_t i = 0; prop && prop->kind == DOC_MAP && i < prop->count; i++) {
		const struct doc_entry *e = &prop->entries[i];

		if (!e->removed && e->key && ((e->key_len >= 2 && !strncasecmp(e->key, "x-", 2)) ||
					      (e->key_len == 4 && !memcmp(e->key, "$ref", 4))))
			return e;
	}
	return NULL;
}

/* A crds file (OpenAPI definitions by type name): kustomize makes a field
 * spec, for the kind the type's name ends in (every kind where that is
 * empty), at each marked property; at 'kind' or 'apiVersion' its name
 * prefix or annotations write there, and 'namePrefix: x' made a generated
 * Secret an xSecret. The definition's 'Schema' and 'properties' are read
 * in any case (Go's JSON), the property names as written. */
static int check_crd_doc(struct walker *k, const char *where, const struct doc_node *n)
{
	for (size_t i = 0; n && n->kind == DOC_MAP && i < n->count; i++) {
		const struct doc_node *def = n->entries[i].value;

		if (n->entries[i].removed || !n->entries[i].key)
			continue;
		for (size_t s = 0; def && def->kind == DOC_MAP && s < def->count; s++) {
			const struct doc_entry *schema = &def->entries[s];

			if (schema->removed || !schema->key || !folds_to(schema->key, schema->key_len, "schema") ||
			    schema->value->kind != DOC_MAP)
				continue;
			for (size_t p = 0; p < schema->value->count; p++) {
				const struct doc_entry *props = &schema->value->entries[p];

				if (props->removed || !props->key ||
				    !folds_to(props->key, props->key_len, "properties") ||
				    props->value->kind != DOC_MAP)
					continue;
				for (size_t q = 0; q < props->value->count; q++) {
					const struct doc_entry *prop = &props->value->entries[q];
					const char *name = prop->key ? prop->key + strspn(prop->key, "/") : "";
					const struct doc_entry *mark;

					if (prop->removed || !name_in(name, strcspn(name, "/"), "kind apiVersion") ||
					    !(mark = crd_property_mark(prop->value)))
						continue;
					return note_line(&k->w->value_copy,
							 "%s: definition '%s' marks its property '%s' for kustomize's "
							 "transformers (%s), which then write a resource's kind or "
							 "apiVersion: a Secret could become another kind, and a value "
							 "decrypted for the build must stay in a v1 Secret",
							 where, gs_shown_n(n->entries[i].key, n->entries[i].key_len),
							 gs_shown_n(prop->key, prop->key_len),
							 gs_shown_n(mark->key, mark->key_len));
				}
			}
		}
	}
	return 0;
}

/* Each file of list (beneath dir, already walked) through check. */
static int check_listed_files(struct walker *k, const char *kfile, const char *dir, const struct doc_node *list,
			      int (*check)(struct walker *, const char *, const struct doc_node *))
{
	int ret = 0;

	for (size_t i = 0; !ret && list && list->kind == DOC_LIST && i < list->count; i++) {
		const struct doc_entry *e = &list->entries[i];
		char where[PATH_MAX + 8];
		struct doc d;
		char *rel;

		if (!str_item(e))
			continue;
		if (!(rel = k8s_rel_join(dir, e->value->text))) {
			gs_error_prefix("'%s'", gs_shown(kfile));
			return GS_ERR_USAGE;
		}
		snprintf(where, sizeof(where), "'%s'", gs_shown(rel));
		doc_init(&d, DOC_FORMAT_YAML);
		ret = k8s_walk_load_yaml(k->root, rel, &d);
		for (size_t b = 0; !ret && b < d.count; b++)
			ret = check(k, where, d.branches[b]);
		doc_release(&d);
		free(rel);
	}
	return ret;
}

/* Fields that name files beneath the root: patchesStrategicMerge, patches,
 * patchesJson6902, replacements, crds, configurations, openapi.path. */
static int walk_path_fields(struct walker *k, const char *kfile, const char *dir,
			    const struct doc_node *kz)
{
	static const struct {
		const char *field;
		enum k8s_file_role role;
	} path_maps[] = {
		{ "patches", K8S_FILE_PATCH },
		{ "patchesJson6902", K8S_FILE_OTHER },
	};
	static const char *const path_lists[] = { "crds", "configurations" };
	const struct doc_node *openapi = k8s_map_get(kz, "openapi");
	int ret = check_field_case(kfile, openapi, "path");

	if (ret || (ret = walk_path_list(k, kfile, dir, k8s_map_get(kz, "patchesStrategicMerge"), K8S_FILE_PATCH,
					 true)))
		return ret;
	for (size_t i = 0; i < sizeof(path_maps) / sizeof(path_maps[0]); i++) {
		ret = walk_path_maps(k, kfile, dir, k8s_map_get(kz, path_maps[i].field),
				     path_maps[i].role);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < sizeof(path_lists) / sizeof(path_lists[0]); i++) {
		ret = walk_path_list(k, kfile, dir, k8s_map_get(kz, path_lists[i]), K8S_FILE_OTHER,
				     false);
		if (ret)
			return ret;
	}
	if ((ret = check_listed_files(k, kfile, dir, k8s_map_get(kz, "configurations"), check_configuration_doc)) ||
	    (ret = check_listed_files(k, kfile, dir, k8s_map_get(kz, "crds"), check_crd_doc)))
		return ret;
	if ((ret = walk_replacements(k, kfile, dir, k8s_map_get(kz, "replacements"))))
		return ret;
	if (openapi && k8s_map_str(openapi, "path"))
		return walk_plain_path(k, kfile, dir, k8s_map_str(openapi, "path"), K8S_FILE_OTHER);
	return 0;
}

static int walk_kustomization(struct walker *k, const char *kfile, const char *dir,
			      const struct doc_node *kz, bool as_generators)
{
	/* resources and bases are generators when the kustomization is one */
	enum { AS_PARENT, AS_RESOURCES, AS_GENERATORS };
	static const struct {
		const char *field;
		int read_as;
	} resource_fields[] = {
		{ "resources", AS_PARENT },	{ "bases", AS_PARENT },
		{ "components", AS_RESOURCES }, { "generators", AS_GENERATORS },
		{ "transformers", AS_GENERATORS }, { "validators", AS_GENERATORS },
	};
	int ret;

	/* every field the walk reads, and Helm's, which it refuses */
	static const char fields[] = "resources bases components generators transformers validators helmCharts "
				     "helmChartInflationGenerator helmGlobals patchesStrategicMerge patches "
				     "patchesJson6902 replacements crds configurations openapi secretGenerator "
				     "configMapGenerator labels vars";
	char where[PATH_MAX + 8];

	if (kz->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "'%s' is not a mapping", gs_shown(kfile));
	if ((ret = check_field_case(kfile, kz, fields)))
		return ret;
	if (k8s_map_get(kz, "helmCharts") || k8s_map_get(kz, "helmChartInflationGenerator"))
		return GS_FAIL(GS_ERR_USAGE, "'%s': Helm charts in a kustomization are not rendered; "
					     "use Argo CD's Helm source", gs_shown(kfile));
	for (size_t i = 0; i < sizeof(resource_fields) / sizeof(resource_fields[0]); i++) {
		int read_as = resource_fields[i].read_as;
		bool gen = read_as == AS_PARENT ? as_generators : read_as == AS_GENERATORS;

		ret = walk_resources(k, kfile, dir, k8s_map_get(kz, resource_fields[i].field), gen);
		if (ret)
			return ret;
	}
	ret = walk_path_fields(k, kfile, dir, kz);
	if (ret)
		return ret;
	snprintf(where, sizeof(where), "'%s'", gs_shown(kfile));
	if ((ret = check_type_field_specs(k, where, k8s_map_get(kz, "labels"), 0)) ||
	    (ret = check_vars(k, kfile, k8s_map_get(kz, "vars"))))
		return ret;
	ret = walk_generator_list(k, kfile, dir, k8s_map_get(kz, "secretGenerator"), true);
	if (ret)
		return ret;
	return walk_generator_list(k, kfile, dir, k8s_map_get(kz, "configMapGenerator"), false);
}

bool k8s_has_merge_key(const struct doc_node *n)
{
	if (!n || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return false;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (n->kind == DOC_MAP && e->key && e->key_len == 2 && !memcmp(e->key, "<<", 2))
			return true;
		if (k8s_has_merge_key(e->value))
			return true;
	}
	return false;
}

static int refuse_merge_keys(const struct doc *d)
{
	for (size_t b = 0; b < d->count; b++) {
		if (k8s_has_merge_key(d->branches[b]))
			return GS_FAIL(GS_ERR_USAGE, "YAML merge keys ('<<') are not allowed here: "
						     "kustomize applies them, gitseal would not see "
						     "the paths they add");
	}
	return 0;
}

/* kustomize reads YAML through go-yaml, which decodes a !!binary scalar
 * into its bytes; libyaml (and so this walk) keeps its base64 text, and
 * the document model keeps no tag of a key: "? !!binary cmVzb3VyY2Vz"
 * was "resources" to kustomize, nothing here, so its paths, out of the
 * root, went unchecked (and "- !!binary Li4vb3V0c2lkZQ==" was a decoy
 * directory here, "../outside" there). The events show every tag,
 * resolved (a %TAG handle or the verbatim form too). */
int k8s_binary_tag_line(const uint8_t *data, size_t len, size_t *line)
{
	static const char binary[] = "tag:yaml.org,2002:binary";
	yaml_parser_t p;
	yaml_event_t ev;
	bool end = false;
	int ret = 0;

	*line = 0;
	/* every spelling of the tag ends in these letters */
	if (!memmem(data, len, "binary", 6))
		return 0;
	if (!yaml_parser_initialize(&p))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	yaml_parser_set_input_string(&p, data, len);
	/* the loader read the text whole: an error here is libyaml's memory */
	while (!end && !ret && !*line) {
		if (!yaml_parser_parse(&p, &ev)) {
			ret = GS_FAIL(p.error == YAML_MEMORY_ERROR ? GS_ERR_NOMEM : GS_ERR_PARSE, "invalid YAML");
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.tag && !strcmp((const char *)ev.data.scalar.tag, binary))
			*line = ev.start_mark.line + 1;
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ret;
}

static int refuse_binary_tags(const uint8_t *data, size_t len)
{
	size_t line;
	int ret = k8s_binary_tag_line(data, len, &line);

	if (ret || !line)
		return ret;
	return GS_FAIL(GS_ERR_USAGE, "a !!binary value is not allowed here: kustomize decodes it, gitseal "
				     "would see its base64 text (line %zu)", line);
}

/* A key or value holding a NUL byte: the walk reads C strings, so
 * "cm.yaml\0/../../../other" was cm.yaml here, while kustomize cleans the
 * whole text by its words (the ".." take the "cm.yaml\0" away) and built
 * a kustomization out of the root. */
static bool has_nul(const struct doc_node *n)
{
	if (!n)
		return false;
	if (n->kind == DOC_SCALAR)
		return n->text && memchr(n->text, '\0', n->len);
	for (size_t i = 0; (n->kind == DOC_MAP || n->kind == DOC_LIST) && i < n->count; i++)
		if ((n->entries[i].key && memchr(n->entries[i].key, '\0', n->entries[i].key_len)) ||
		    has_nul(n->entries[i].value))
			return true;
	return false;
}

int k8s_load_config_yaml(const uint8_t *data, size_t len, struct doc *d)
{
	int ret = store_load(DOC_FORMAT_YAML, data, len, d);

	if (!ret)
		ret = refuse_merge_keys(d);
	for (size_t b = 0; !ret && b < d->count; b++)
		if (has_nul(d->branches[b]))
			ret = GS_FAIL(GS_ERR_USAGE, "a key or value holding a NUL byte is not allowed here: kustomize "
						    "reads the whole text, gitseal would stop at the NUL");
	return ret ? ret : refuse_binary_tags(data, len);
}

int k8s_walk_load_yaml(const struct k8s_root *root, const char *rel, struct doc *d)
{
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, false);
	ret = k8s_root_read(root, rel, &text, K8S_MAX_FILE);
	if (ret)
		goto out;
	ret = k8s_load_config_yaml(text.data, text.len, d);
out:
	if (ret)
		gs_error_prefix("'%s'", gs_shown(rel));
	gs_buf_release(&text);
	return ret;
}

static int walk_dir(struct walker *k, const char *dir_rel, bool as_generators)
{
	const char *name;
	char *kfile = NULL;
	struct doc d;
	int ret;

	if (dir_seen(k->w, dir_rel))
		return 0;
	if (k->depth >= 64)
		return GS_FAIL(GS_ERR_LIMIT, "'%s': kustomizations nested too deeply", gs_shown(dir_rel));
	name = k8s_kustomization_name(k->root, dir_rel);
	if (!name)
		return GS_FAIL(GS_ERR_NOT_FOUND, "'%s' has no kustomization", gs_shown(dir_rel));
	ret = add_dir(k->w, dir_rel);
	if (ret)
		return ret;
	kfile = k8s_rel_join(dir_rel, name);
	if (!kfile)
		return GS_ERR_NOMEM;
	doc_init(&d, DOC_FORMAT_YAML);
	ret = add_file(k->w, kfile, K8S_FILE_KUSTOMIZATION, dir_rel);
	if (ret)
		goto out;
	ret = k8s_walk_load_yaml(k->root, kfile, &d);
	if (ret)
		goto out;
	k->depth++;
	for (size_t b = 0; !ret && b < d.count; b++)
		ret = walk_kustomization(k, kfile, dir_rel, d.branches[b], as_generators);
	k->depth--;
out:
	doc_release(&d);
	free(kfile);
	return ret;
}

int k8s_walk(const struct k8s_root *root, const char *app_rel, struct k8s_walk *w)
{
	struct walker k = { .root = root, .w = w };

	memset(w, 0, sizeof(*w));
	return walk_dir(&k, app_rel, false);
}

int k8s_walk_add_path(struct k8s_walk *w, const struct k8s_root *root, const char *dir,
		      const char *spec, bool key_value)
{
	struct walker k = { .root = root, .w = w };
	char *key = NULL, *path = NULL;
	int ret;

	if (key_value) {
		ret = k8s_file_key_path(spec, &key, &path);
		if (ret)
			goto out;
	}
	ret = walk_plain_path(&k, "generator config", dir, key_value ? path : spec,
			      K8S_FILE_OTHER);
out:
	free(key);
	free(path);
	return ret;
}
