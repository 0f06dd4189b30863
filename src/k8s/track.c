/* Plaintext followed through a kustomize build. A build that decrypted
 * generator sources or patches, or ran KSOPS, hands kustomize plaintext,
 * and kustomize's own features (a JSON patch changing a generated Secret's
 * kind or copying a value into its annotations, replacements, vars) can
 * carry it into any field of any resource. render knows every value it
 * decrypted for the build; after the build each must lie only in the
 * values of a built core v1 Secret's data or stringData, which Argo CD
 * masks and etcd keeps as a Secret.
 *
 * The built documents are searched as render reads them: scalars decoded,
 * so YAML and JSON quoting, escapes and folding hide nothing; keys and
 * comments are searched too. Each value is looked for as it is and as its
 * base64, also wrapped over lines as kustomize writes long base64
 * (gitseal/secret_scan.h). Not seen: values shorter than
 * GS_SECRET_MIN_LEN, and a part of a value (replacements with delimiter
 * and index options copy one). */
#include <stdio.h>
#include <string.h>

#include "gitseal/base64.h"
#include "gitseal/secret_scan.h"
#include "gitseal/shown.h"
#include "gitseal/sops_format.h"
#include "k8s_int.h"

static bool is_v1_secret(const struct doc_node *root)
{
	const char *api = k8s_map_str(root, "apiVersion"), *kind = k8s_map_str(root, "kind");

	return api && kind && !strcmp(api, "v1") && !strcmp(kind, "Secret");
}

/* A top-level entry whose map holds a Secret's values. */
static bool values_entry(const struct doc_entry *e)
{
	return e->key && e->value->kind == DOC_MAP &&
	       ((e->key_len == 4 && !memcmp(e->key, "data", 4)) ||
		(e->key_len == 10 && !memcmp(e->key, "stringData", 10)));
}

static bool is_ciphertext(const struct doc_node *n)
{
	return n && n->kind == DOC_SCALAR && n->len > strlen(SOPS_ENC_OPEN) &&
	       !memcmp(n->text, SOPS_ENC_OPEN, strlen(SOPS_ENC_OPEN));
}

/* The value under key in a map (NULL: none, or not a map). */
static const struct doc_node *map_value(const struct doc_node *map, const char *key, size_t len)
{
	for (size_t i = 0; map && map->kind == DOC_MAP && i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		if (e->key && e->key_len == len && !memcmp(e->key, key, len))
			return e->value;
	}
	return NULL;
}

/* Whether the value at key was ciphertext in its file. A value sops
 * keeps in clear by the file's own rules (unencrypted_suffix, regexes)
 * is no secret: the repository publishes it. */
static bool was_encrypted(const struct doc_node *cipher_map, const char *key, size_t len)
{
	return is_ciphertext(map_value(cipher_map, key, len));
}

int k8s_track_secret(struct gs_secret_set *s, const struct doc_node *root,
		     const struct doc_node *cipher)
{
	int ret = 0;

	if (!root || root->kind != DOC_MAP || !is_v1_secret(root))
		return 0;
	for (size_t i = 0; !ret && i < root->count; i++) {
		const struct doc_entry *top = &root->entries[i];
		const struct doc_node *values = top->removed || !values_entry(top) ? NULL : top->value;
		const struct doc_node *sealed = values ? map_value(cipher, top->key, top->key_len) : NULL;

		for (size_t k = 0; values && !ret && k < values->count; k++) {
			const struct doc_entry *e = &values->entries[k];

			if (!e->removed && e->key && e->value->kind == DOC_SCALAR &&
			    was_encrypted(sealed, e->key, e->key_len))
				ret = gs_secret_set_add(s, (const uint8_t *)e->value->text, e->value->len);
		}
	}
	return ret;
}

/* kustomize's env files (api/kv KeyValuesFromLine): lines split at '\n'
 * with a '\r' before it dropped, a byte order mark dropped from the first,
 * leading blanks trimmed, blank and '#' lines skipped, the key what
 * precedes the first '=', the value all that follows it (quotes and
 * trailing blanks kept). */
int k8s_track_env_lines(struct gs_secret_set *s, const char *text, size_t len,
			const struct doc_node *cipher)
{
	size_t at = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
	int ret = 0;

	while (!ret && at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len, stop = end;
		const char *eq;

		if (stop > at && text[stop - 1] == '\r')
			stop--;
		while (at < stop && strchr(" \t\v\f\r", text[at]))
			at++;
		eq = at < stop && text[at] != '#' ? memchr(text + at, '=', stop - at) : NULL;
		if (eq && was_encrypted(cipher, text + at, (size_t)(eq - text - at)))
			ret = gs_secret_set_add(s, (const uint8_t *)eq + 1, (size_t)(text + stop - eq - 1));
		at = end + 1;
	}
	return ret;
}

/* As a KSOPS secretFrom envs entry reads an env file (dotenv.c). */
static int track_env_parsed(struct gs_secret_set *s, const char *text, size_t len,
			    const struct doc_node *cipher)
{
	struct doc env;
	struct doc_node *m;
	int ret;

	doc_init(&env, DOC_FORMAT_DOTENV);
	m = doc_new_map(&env);
	ret = m ? k8s_dotenv_parse(&env, m, text, len) : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t k = 0; !ret && k < m->count; k++) {
		const struct doc_entry *e = &m->entries[k];

		if (was_encrypted(cipher, e->key, e->key_len))
			ret = gs_secret_set_add(s, (const uint8_t *)e->value->text, e->value->len);
	}
	doc_release(&env);
	return ret;
}

static bool holds_ciphertext(const struct doc_node *n, int depth)
{
	if (is_ciphertext(n))
		return true;
	if (depth > K8S_MAX_DEPTH || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return false;
	for (size_t i = 0; i < n->count; i++) {
		if (!n->entries[i].removed && holds_ciphertext(n->entries[i].value, depth + 1))
			return true;
	}
	return false;
}

int k8s_track_sops(struct gs_secret_set *s, const struct doc *cipher, const struct doc *plain,
		   const struct gs_buf *text, unsigned uses)
{
	bool sealed = false;
	int ret = 0;

	for (size_t i = 0; i < cipher->count && !sealed; i++)
		sealed = holds_ciphertext(cipher->branches[i], 0);
	if (!sealed)
		return 0;
	gs_secret_set_group(s);
	if (uses & K8S_TRACK_WHOLE)
		ret = gs_secret_set_add(s, text->data, text->len);
	if (!ret && (uses & K8S_TRACK_ENV_LINES))
		ret = k8s_track_env_lines(s, (const char *)text->data, text->len,
					  cipher->count ? cipher->branches[0] : NULL);
	if (!ret && (uses & K8S_TRACK_ENV_PARSED))
		ret = track_env_parsed(s, (const char *)text->data, text->len,
				       cipher->count ? cipher->branches[0] : NULL);
	for (size_t i = 0; !ret && (uses & K8S_TRACK_SECRETS) && i < plain->count; i++)
		ret = k8s_track_secret(s, plain->branches[i], i < cipher->count ? cipher->branches[i] : NULL);
	return ret;
}

/* The length of name without kustomize's name hash suffix (api/hasher
 * encode: '-' and the first 10 hex digits of a SHA-256, with 0 1 3 a e
 * written g h k m t), or 0 when it has none. Any name of that shape is
 * taken for hashed. kustomize's hash (Go's JSON of type, name, data and
 * stringData) is not recomputed: it covers the name before an overlay's
 * prefix and suffix, which the output does not keep, and a mismatch could
 * only let a hashed name pass. */
size_t k8s_name_hash_base(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len < 12 || name[len - 11] != '-')
		return 0;
	for (size_t i = len - 10; i < len; i++)
		if (!strchr("2456789bcdfghkmt", name[i]) || !name[i])
			return 0;
	return len - 11;
}

/* A value of a Secret's data or stringData as it is and, for data, as
 * its base64 decodes (blanks skipped), each followed by a line break. */
static int value_text(struct gs_buf *out, const struct doc_node *v, bool data)
{
	size_t start, got;
	int ret;

	if ((ret = gs_buf_append(out, v->text, v->len)) || (ret = gs_buf_append(out, "\n", 1)) || !data)
		return ret;
	start = out->len;
	if ((ret = gs_buf_reserve(out, v->len / 4 * 3 + 4)))
		return ret;
	if (gs_base64_decode_secret(v->text, v->len, " \t\r\n", out->data + start, v->len / 4 * 3 + 4, &got))
		return 0;
	out->len += got;
	return gs_buf_append(out, "\n", 1);
}

int k8s_track_name_hash(struct gs_secret_set *s, const struct doc_node *root, bool *guessable)
{
	struct gs_buf text;
	const char *type = k8s_map_str(root, "type");
	int ret = 0;

	*guessable = false;
	if (!root || root->kind != DOC_MAP || !is_v1_secret(root) ||
	    !k8s_name_hash_base(k8s_map_str(k8s_map_get(root, "metadata"), "name")))
		return 0;
	gs_buf_init(&text, true);
	if (type)
		ret = gs_buf_append(&text, type, strlen(type));
	for (size_t i = 0; !ret && i < root->count; i++) {
		const struct doc_entry *top = &root->entries[i];

		for (size_t k = 0; !top->removed && values_entry(top) && !ret && k < top->value->count; k++) {
			const struct doc_entry *e = &top->value->entries[k];

			if (!e->removed && e->value->kind == DOC_SCALAR && e->value->text)
				ret = value_text(&text, e->value, top->key_len == 4);
		}
	}
	if (!ret)
		ret = gs_secret_set_short_unpaired(s, (const char *)text.data, text.len, guessable);
	gs_buf_release(&text);
	return ret;
}

/* What to do when the value is no secret, on the refusal's line. */
#define PUBLIC_HINT " (a value also meant to be public: keep it in clear in the sops file)"

struct track_walk {
	struct gs_secret_set *set;
	struct gs_buf path; /* "key:key:[2]:key", of keys searched already */
};

/* where: "'path'", "a key in 'path'" or "a comment in 'path'". */
static int search(struct track_walk *w, const char *text, size_t len, const char *in)
{
	bool found;
	int ret = gs_secret_set_find(w->set, text, len, &found);

	if (ret || !found)
		return ret;
	if (in && !w->path.len)
		return GS_FAIL(GS_ERR_CONFIG, "%s the resource's top level holds a value decrypted for "
					      "the build: only a v1 Secret's data and stringData may" PUBLIC_HINT,
			       in);
	return GS_FAIL(GS_ERR_CONFIG, "%s%s'%s' holds a value decrypted for the build: only a v1 "
				      "Secret's data and stringData may" PUBLIC_HINT,
		       in ? in : "", in ? " " : "",
		       gs_shown_n((const char *)w->path.data, w->path.len > 400 ? 400 : w->path.len));
}

static int segment_push(struct gs_buf *path, const struct doc_entry *e, size_t pos)
{
	int ret = path->len ? gs_buf_append(path, ":", 1) : 0;

	if (ret)
		return ret;
	return e->key ? gs_buf_append(path, e->key, e->key_len) : gs_buf_printf(path, "[%zu]", pos);
}

/* kustomize's YAML writer (kyaml, on yaml.v3) writes U+0085 (NEL) in a
 * string as a space: a decrypted value kustomize reads as YAML text and
 * writes again (a KSOPS Secret, a decrypted patch) would leave the build
 * changed, exit 0. Values it encodes itself (files, envs) keep it. */
static const char NEL[] = "\xc2\x85";

static bool holds_nel(const char *text, size_t len)
{
	return text && memmem(text, len, NEL, sizeof(NEL) - 1) != NULL;
}

static int nel_walk(const struct doc_node *n, struct gs_buf *path, int depth)
{
	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (n->kind == DOC_SCALAR && n->type == DOC_STR && holds_nel(n->text, n->len))
		return GS_FAIL(GS_ERR_CONFIG, "'%s' holds U+0085 (NEL), which kustomize writes back as a "
					      "space: the built value would differ (give it base64 in data, or "
					      "as a KSOPS binaryFiles source)",
			       gs_shown_n((const char *)path->data, path->len > 400 ? 400 : path->len));
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return 0;
	for (size_t i = 0, pos = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];
		size_t mark = path->len;
		int ret;

		if (e->removed || e->value->kind == DOC_COMMENT)
			continue;
		if ((ret = segment_push(path, e, pos++)))
			return ret;
		if (e->key && holds_nel(e->key, e->key_len))
			ret = GS_FAIL(GS_ERR_CONFIG, "a key at '%s' holds U+0085 (NEL), which kustomize "
						     "writes back as a space: the built key would differ",
				      gs_shown_n((const char *)path->data,
						 path->len > 400 ? 400 : path->len));
		if (!ret)
			ret = nel_walk(e->value, path, depth + 1);
		path->len = mark;
		path->data[mark] = '\0';
		if (ret)
			return ret;
	}
	return 0;
}

int k8s_track_kyaml_keeps(const struct doc_node *root)
{
	struct gs_buf path;
	int ret;

	gs_buf_init(&path, false);
	ret = gs_buf_reserve(&path, 64);
	if (!ret)
		ret = nel_walk(root, &path, 0);
	gs_buf_release(&path);
	return ret;
}

static int walk(struct track_walk *w, const struct doc_node *n, bool secret, bool masked, int depth);

/* One entry of a map or list, its key searched before it names a path.
 * secret: the entry is at the top of a v1 Secret; masked: its value is
 * one of that Secret's values, where decrypted values belong. */
static int walk_entry(struct track_walk *w, const struct doc_entry *e, size_t pos, bool secret,
		      bool masked, int depth)
{
	size_t mark = w->path.len;
	int ret = 0;

	if (e->value->kind == DOC_COMMENT)
		return search(w, e->value->text, e->value->len, "a comment in");
	if (e->key && (ret = search(w, e->key, e->key_len, "a key in")))
		return ret;
	if ((ret = segment_push(&w->path, e, pos)))
		return ret;
	if (!masked || e->value->kind != DOC_SCALAR)
		ret = walk(w, e->value, false, secret && values_entry(e), depth + 1);
	w->path.len = mark;
	w->path.data[mark] = '\0';
	return ret;
}

static int walk(struct track_walk *w, const struct doc_node *n, bool secret, bool masked, int depth)
{
	int ret = 0;

	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (n->kind == DOC_SCALAR)
		return search(w, n->text, n->len, NULL);
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return 0;
	for (size_t i = 0, pos = 0; !ret && i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed)
			continue;
		ret = walk_entry(w, e, pos, secret, masked, depth);
		pos += e->value->kind != DOC_COMMENT;
	}
	return ret;
}

int k8s_track_check(struct gs_secret_set *s, const struct doc_node *root)
{
	struct track_walk w = { .set = s };
	int ret;

	if (!gs_secret_set_count(s))
		return 0;
	gs_buf_init(&w.path, false);
	ret = gs_buf_reserve(&w.path, 64);
	if (!ret)
		ret = walk(&w, root, root->kind == DOC_MAP && is_v1_secret(root), false, 0);
	gs_buf_release(&w.path);
	return ret;
}

bool k8s_track_holds(struct gs_secret_set *s, const char *text)
{
	bool found = false;

	/* a failed search withholds the text all the same */
	return text && (gs_secret_set_find(s, text, strlen(text), &found) || found);
}
