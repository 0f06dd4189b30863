/* Private to src/k8s/ (and its tests and fuzz targets). */
#ifndef GITSEAL_K8S_INT_H
#define GITSEAL_K8S_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/k8s.h"
#include "gitseal/sops_format.h"

enum {
	K8S_MAX_DOCS = 100000,   /* documents in one stream */
	K8S_MAX_FILES = 100000,  /* files below a rendered directory */
	K8S_MAX_FILE = 64 * 1024 * 1024,
	K8S_MAX_DEPTH = 256,     /* nesting of maps and lists */
};

#define K8S_ORIGIN_ANNOTATION "config.kubernetes.io/origin"

/* failures.c */
int k8s_failure_add(struct k8s_failures *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* stream.c: a YAML stream cut into its documents at "---" / "..." lines
 * at column 0 (a document marker always ends a block or flow scalar, so
 * this needs no parse). Blank or comment-only documents are skipped. */
struct k8s_span {
	size_t start;
	size_t end;
};

int k8s_stream_split(const char *text, size_t len, struct k8s_span **out, size_t *count)
	__attribute__((warn_unused_result));
bool k8s_text_is_blank(const char *text, size_t len);

/* emit.c: a document tree as block YAML (2-space indent, lists under a key
 * not indented, as kustomize writes). Strings that would read back as
 * another type are double-quoted; multi-line strings use literal blocks. */
int k8s_yaml_emit(const struct doc_node *n, struct gs_buf *out) __attribute__((warn_unused_result));
/* Emits with proof: comments are dropped from n, the text is loaded back
 * and compared with n as data (doc_equal); nothing is appended to out
 * unless they are equal. */
int k8s_yaml_emit_verified(struct doc_node *n, struct gs_buf *out) __attribute__((warn_unused_result));

/* index.c: the encrypted values of verified source documents, each with
 * the path it sits at (map keys, and list elements by name or position)
 * and its decrypted value. */
struct k8s_cipher {
	char *path;                 /* "len:key", "[pos]", "[=len:name]" segments, exact */
	size_t path_len;
	const char *enc;            /* the ENC[...] string, as in the source */
	size_t enc_len;
	const struct doc_node *plain;
};

struct k8s_cipher_index {
	struct k8s_cipher *items;
	size_t count;
	size_t cap;
};

void k8s_cipher_index_init(struct k8s_cipher_index *ix);
void k8s_cipher_index_release(struct k8s_cipher_index *ix);
/* Walks an encrypted tree and its decryption side by side (same shape;
 * removed entries and comments skipped) and records every ENC leaf. */
int k8s_cipher_index_add(struct k8s_cipher_index *ix, const struct doc_node *enc,
			 const struct doc_node *plain) __attribute__((warn_unused_result));
const struct k8s_cipher *k8s_cipher_index_find(const struct k8s_cipher_index *ix, const char *path,
					       size_t path_len, const char *enc, size_t enc_len);
bool k8s_is_enc_value(const struct doc_node *n);

/* Replaces every ENC leaf of a built resource by the plaintext of the
 * identical ciphertext at the same path of its verified source. On a
 * mismatch, bad_path gets the offending path (keys and element names) and
 * GS_ERR_MAC_MISMATCH is returned. */
int k8s_resource_decrypt(struct doc *d, struct doc_node *root, const struct k8s_cipher_index *ix,
			 char *bad_path, size_t bad_path_cap) __attribute__((warn_unused_result));

/* Removes the top-level sops entry of a built resource; false when it
 * had none. */
bool k8s_resource_strip_sops(struct doc_node *root);


/* units.c: a manifest file cut into what is decrypted as one sops
 * document (the whole file when sops encrypted it as one, else each
 * document), each loaded. On a parse failure *bad_doc is its 1-based
 * number. */
struct k8s_unit {
	struct k8s_span span;
	size_t first_doc; /* 0-based index of its first document */
	bool encrypted;
	struct doc doc;
};

int k8s_units_load(const uint8_t *text, size_t len, enum doc_format format,
		   struct k8s_unit **units, size_t *count, size_t *bad_doc)
	__attribute__((warn_unused_result));
void k8s_units_release(struct k8s_unit *units, size_t count);

/* sources.c: verified sources of a build, and binding to them. */
struct k8s_identity {
	const char *api_version;
	const char *kind;
	const char *name;
	const char *namespace;
};

struct k8s_source_doc {
	const char *file;    /* root-relative */
	size_t doc_number;   /* 1-based */
	struct k8s_identity id;
	bool namespace_authenticated; /* its clear values (namespace, kind) covered by the MAC */
	struct k8s_cipher_index ix;
};

struct k8s_sources;
struct k8s_root;

void k8s_identity_of(const struct doc_node *root, struct k8s_identity *id);
int k8s_sources_new(struct k8s_sources **out) __attribute__((warn_unused_result));
void k8s_sources_free(struct k8s_sources *s);
/* Reads a YAML or JSON file beneath the root and decrypts and indexes its
 * encrypted documents. A failure is added to fails, once per document. */
int k8s_sources_add_file(struct k8s_sources *s, const struct k8s_root *root, const char *rel,
			 const struct age_identity_list *ids, struct k8s_failures *fails)
	__attribute__((warn_unused_result));
/* Binds a built resource to its source document and decrypts it in place
 * (*bound NULL when it holds no ENC value). */
int k8s_sources_bind(const struct k8s_sources *s, struct doc *d, struct doc_node *root,
		     const struct k8s_source_doc **bound) __attribute__((warn_unused_result));
/* A document decrypted from a sops file whose MAC leaves its clear values
 * out (mac_only_encrypted): its apiVersion and kind are not authenticated,
 * and whoever edits the file can make a Secret a ConfigMap, its values
 * still decrypting. Fails unless it is a core v1 Secret. */
int k8s_check_unauthenticated_kind(const struct doc_node *root) __attribute__((warn_unused_result));
/* Fails when a document outside any sops file holds encrypted text. */
int k8s_check_no_ciphertext(const struct doc_node *root) __attribute__((warn_unused_result));
/* Fails when a Secret's data (a ConfigMap's binaryData) holds base64 of
 * encrypted text: kustomize encoded a generator source that was still
 * encrypted. */
int k8s_check_no_encoded_ciphertext(const struct doc_node *root) __attribute__((warn_unused_result));


/* stage.c: a private copy of what a build reads, for builds that need
 * files changed first (decrypted generator sources, KSOPS configs). */
struct k8s_stage {
	char *dir;     /* 0700 temporary directory */
	char *tree;    /* dir/tree: the staged root */
	char *plugins; /* dir/plugins: kustomize's plugin home, ksops only */
};

int k8s_stage_create(struct k8s_stage *st) __attribute__((warn_unused_result));
/* Overwrites every staged file and removes the directory. */
void k8s_stage_remove(struct k8s_stage *st);
int k8s_stage_dir(const struct k8s_stage *st, const char *rel) __attribute__((warn_unused_result));
int k8s_stage_write(const struct k8s_stage *st, const char *rel, const uint8_t *data, size_t len)
	__attribute__((warn_unused_result));
/* Copies a file beneath the root to the same path in the tree. */
int k8s_stage_copy(const struct k8s_stage *st, const struct k8s_root *root, const char *rel)
	__attribute__((warn_unused_result));
/* The plugin home with ksops (viaduct.ai/v1 and v2) linked to self_exe. */
int k8s_stage_plugins(const struct k8s_stage *st, const char *self_exe)
	__attribute__((warn_unused_result));


/* stream.c: the output stream, "---" between documents. text holds
 * text_docs documents (a separator of its own at its start is kept) and
 * must end with a line break (GS_ERR_VERIFY otherwise: one added could
 * change a block scalar at its end). */
int k8s_stream_append(struct gs_buf *out, size_t *docs, const uint8_t *text, size_t len,
		      size_t text_docs) __attribute__((warn_unused_result));
/* A decrypted document (plain: a tree from the file pipeline, or one
 * decrypted from its sources), written by the pipeline's proven emitter
 * (sops_plain_emit) in the layout it was loaded with, or as YAML afresh
 * for a JSON source; nothing is appended unless it proved. */
int k8s_stream_append_plain(struct gs_buf *out, size_t *docs, struct doc *plain)
	__attribute__((warn_unused_result));
/* The proven text k8s_stream_append_plain appends, in text (secure; what
 * it held is replaced). */
int k8s_stream_plain_text(struct doc *plain, struct gs_buf *text) __attribute__((warn_unused_result));
/* A document of the input (d, loaded from text) as it was written, or
 * through k8s_stream_append_plain when the text does not end with a line
 * break. */
int k8s_stream_append_source(struct gs_buf *out, size_t *docs, struct doc *d, const uint8_t *text,
			     size_t len) __attribute__((warn_unused_result));

/* prefetch.c: count independent items, each prepared once on any thread
 * (at most `ahead` past the one in use) and consumed on the caller's
 * thread in item order; from 2 items on, other threads prepare beside it.
 * A non-zero consume stops the run and is returned; items prepared but
 * not consumed are then the caller's to release. */
struct k8s_prefetch_ops {
	void (*prepare)(void *ctx, size_t item); /* records its own outcome in ctx */
	int (*consume)(void *ctx, size_t item);
};

int k8s_prefetch_run(size_t count, size_t ahead, const struct k8s_prefetch_ops *ops, void *ctx)
	__attribute__((warn_unused_result));

/* render.c and build.c: the namespace policy (--bind-namespace) for a
 * resource written out, with the source it was decrypted from (NULL:
 * none). */
int k8s_render_check_namespace(const struct k8s_render_opts *opts, const struct doc_node *out,
			       const struct k8s_source_doc *src, bool plaintext_inputs)
	__attribute__((warn_unused_result));
const char *k8s_resource_name(const struct doc_node *root, char *buf, size_t cap);
int k8s_render_kustomize(const struct k8s_root *root, const char *app_rel,
			 const struct k8s_render_opts *opts, const struct age_identity_list *ids,
			 struct k8s_failures *fails, struct gs_buf *out, size_t *out_docs)
	__attribute__((warn_unused_result));

/* sources.c: every branch of src cloned into dst (initialized). */
int k8s_doc_copy(struct doc *dst, const struct doc *src) __attribute__((warn_unused_result));

/* track.c: the plaintext a build handed kustomize (generator sources,
 * patches, KSOPS output), followed through it. */
struct gs_secret_set;
/* Adds the values of a v1 Secret document's data and stringData that
 * were ciphertext at the same key of cipher (the document as its sops
 * file holds it; NULL: none were). */
int k8s_track_secret(struct gs_secret_set *s, const struct doc_node *root,
		     const struct doc_node *cipher) __attribute__((warn_unused_result));
/* Adds every value of an env file as kustomize reads it whose key's
 * value was ciphertext in cipher (a sops dotenv file's map). */
int k8s_track_env_lines(struct gs_secret_set *s, const char *text, size_t len,
			const struct doc_node *cipher) __attribute__((warn_unused_result));
/* How a decrypted sops file reaches kustomize (any of them). */
enum {
	K8S_TRACK_WHOLE = 1,      /* a files: source: its plaintext text */
	K8S_TRACK_ENV_LINES = 2,  /* a secretGenerator env source */
	K8S_TRACK_ENV_PARSED = 4, /* a KSOPS secretFrom envs source */
	K8S_TRACK_SECRETS = 8,    /* a patch, a KSOPS manifest: its v1 Secrets */
};
/* Adds what kustomize reads of a sops file, as a group of its own
 * (gs_secret_set_group) (cipher: as loaded; plain: as
 * decrypted; text: plain emitted in its format, may be NULL when uses is
 * K8S_TRACK_SECRETS alone), only what was ciphertext in it: nothing for a
 * file that holds none. */
int k8s_track_sops(struct gs_secret_set *s, const struct doc *cipher, const struct doc *plain,
		   const struct gs_buf *text, unsigned uses) __attribute__((warn_unused_result));
/* The length of a name without kustomize's name hash suffix, or 0 when
 * it has none. */
size_t k8s_name_hash_base(const char *name);
/* *guessable: root is a built v1 Secret whose name has kustomize's hash
 * suffix and whose type and values hold a value decrypted for the build
 * shorter than GS_SECRET_MIN_LEN and no longer value of the same sops
 * file (gs_secret_set_short_unpaired): the name, a hash of them, would
 * let them be guessed offline. */
int k8s_track_name_hash(struct gs_secret_set *s, const struct doc_node *root, bool *guessable)
	__attribute__((warn_unused_result));
/* Fails (GS_ERR_CONFIG, naming the field, never the value) when a built
 * resource holds a value of s, or its base64, anywhere but among the
 * values of its data and stringData as a v1 Secret. */
int k8s_track_check(struct gs_secret_set *s, const struct doc_node *root)
	__attribute__((warn_unused_result));
/* Fails (GS_ERR_CONFIG, naming the path, never the value) when a key or
 * string of root holds U+0085 (NEL), which kustomize's YAML writer turns
 * into a space: for what kustomize reads as YAML and writes again. */
int k8s_track_kyaml_keeps(const struct doc_node *root) __attribute__((warn_unused_result));
/* Whether text (NUL-terminated; NULL: false) holds a value of s, or might
 * (the search failed): then a message must not show it. */
bool k8s_track_holds(struct gs_secret_set *s, const char *text);

/* dotenv.c: KEY=VALUE lines as godotenv reads them (comments, export,
 * single and double quotes). Pairs are appended to map in d. */
int k8s_dotenv_parse(struct doc *d, struct doc_node *map, const char *text, size_t len)
	__attribute__((warn_unused_result));

/* ksops.c: generator configs (viaduct.ai/v1 and v2 ksops, gitseal.dev/v1
 * SecretGenerator). */
struct k8s_secret_from {
	const struct doc_node *metadata; /* may be NULL */
	const char *type;                /* may be NULL */
	const struct doc_node *files;    /* lists of strings; may be NULL */
	const struct doc_node *binary_files;
	const struct doc_node *envs;
};

struct k8s_generator {
	const struct doc_node *files;
	struct k8s_secret_from *secret_from;
	size_t secret_from_count;
};

bool k8s_generator_kind_ok(const struct doc_node *cfg);
int k8s_generator_parse(const struct doc_node *cfg, struct k8s_generator *g)
	__attribute__((warn_unused_result));
void k8s_generator_release(struct k8s_generator *g);
/* Splits "key=path" (or "path", key = base name). */
int k8s_file_key_path(const char *spec, char **key, char **path) __attribute__((warn_unused_result));
/* Runs the generator, its paths relative to base_rel beneath the root:
 * documents appended to items (a list in out_doc). track (NULL: none):
 * each file's values that were ciphertext added as it is decrypted, as
 * kustomize reads them (k8s_track_sops), its trees released before the
 * next file is read. */
int k8s_generator_run(const struct k8s_generator *g, const struct k8s_root *root,
		      const char *base_rel, const struct age_identity_list *ids,
		      struct gs_secret_set *track, struct doc *out_doc, struct doc_node *items)
	__attribute__((warn_unused_result));

/* confine.c: the root every file read resolves beneath. */
struct k8s_root {
	int fd;     /* O_PATH descriptor of the root directory */
	char *path; /* absolute, resolved */
};

/* Finds the root for app_dir: explicit_root (which must contain it), else
 * the nearest ancestor holding .git or Argo CD's checkout directory
 * (_cmp_server/<uuid>), else the root ARGOCD_APP_SOURCE_PATH names, else
 * app_dir itself. *app_rel gets app_dir relative to the root ("." for the
 * root itself). */
int k8s_root_open_for(const char *app_dir, const char *explicit_root, struct k8s_root *root,
		      char **app_rel) __attribute__((warn_unused_result));
void k8s_root_release(struct k8s_root *root);
/* Cleans a relative path lexically ("a/./b/../c" -> "a/c"); fails on an
 * absolute path or one that climbs above its start. */
int k8s_path_clean(const char *p, char *out, size_t cap) __attribute__((warn_unused_result));
/* dir_rel + "/" + p, cleaned; NULL with the error set when p is absolute or
 * climbs above the root. */
char *k8s_rel_join(const char *dir_rel, const char *p);
/* Opens rel beneath the root: symbolic links and '..' are followed only
 * while they stay inside it. */
int k8s_root_open(const struct k8s_root *root, const char *rel, int flags, int *fd_out)
	__attribute__((warn_unused_result));
int k8s_root_stat(const struct k8s_root *root, const char *rel, struct stat *st)
	__attribute__((warn_unused_result));
/* Reads a regular file beneath the root. */
int k8s_root_read(const struct k8s_root *root, const char *rel, struct gs_buf *out, size_t max)
	__attribute__((warn_unused_result));
int k8s_fd_read(int fd, const char *name, struct gs_buf *out, size_t max)
	__attribute__((warn_unused_result));

/* kustomization.c: the files a kustomization reads, by role. */
enum k8s_file_role {
	K8S_FILE_KUSTOMIZATION,
	K8S_FILE_RESOURCE,         /* a manifest file in resources/bases */
	K8S_FILE_PATCH,            /* a strategic-merge patch file (or a JSON patch in patches:) */
	K8S_FILE_GENERATOR,        /* a generator, transformer or validator config */
	K8S_FILE_SECRET_FILE,      /* secretGenerator files: */
	K8S_FILE_SECRET_ENV,       /* secretGenerator envs:/env: */
	K8S_FILE_CONFIGMAP_SOURCE, /* configMapGenerator files:/envs:/env: */
	K8S_FILE_OTHER,            /* crds, configurations, openapi, JSON 6902 patches, replacements */
};

struct k8s_walk_file {
	char *rel;  /* root-relative, cleaned */
	char *kdir; /* the kustomization directory that names it */
	enum k8s_file_role role;
	/* a patch file that a patches entry applies with a target that can
	 * select a resource of a kind other than Secret, or of a group or
	 * version other than core v1 */
	bool wide_target;
};

/* A generator, transformer or validator config written inline in a
 * kustomization (a YAML string in the list). */
struct k8s_walk_inline {
	char *text;
	char *kfile; /* the kustomization that holds it */
	char *kdir;  /* its directory */
};

struct k8s_walk {
	struct k8s_walk_file *files;
	size_t count;
	size_t cap;
	char **dirs; /* kustomization directories, root-relative */
	size_t dir_count, dir_cap;
	struct k8s_walk_inline *inlines;
	size_t inline_count, inline_cap;
	bool has_remote; /* remote resources (kustomize fetches them) */
	/* the first kustomization directory listed as generators, transformers
	 * or validators: "'<kustomization>': '<entry>'", or NULL */
	char *generator_dir;
	/* the first replacement that may copy a part of a Secret's value, or
	 * JSON patch operation that may copy or move a whole one, to anything
	 * but a v1 Secret's data or stringData, or that may change a Secret's
	 * kind or apiVersion (a JSON patch, a patch allowed to change kinds, a
	 * replacement or fieldSpec writing it): the failure line, or NULL */
	char *value_copy;
	/* the first replacement or var that may copy a whole value of what may
	 * be a Secret's data or stringData to anything but a v1 Secret's: the
	 * failure line (refused where a value decrypted for the build is too
	 * short to be followed), or NULL */
	char *whole_copy;
};

/* The kustomization file name in dir_rel, or NULL. */
const char *k8s_kustomization_name(const struct k8s_root *root, const char *dir_rel);
/* Walks the kustomization in app_rel; every local path must lie beneath
 * the root. */
int k8s_walk(const struct k8s_root *root, const char *app_rel, struct k8s_walk *w)
	__attribute__((warn_unused_result));
void k8s_walk_release(struct k8s_walk *w);
/* The sources of one configMapGenerator/secretGenerator entry (also the
 * builtin SecretGenerator plugin config). */
int k8s_walk_generator_args(struct k8s_walk *w, const struct k8s_root *root, const char *kfile,
			    const char *dir, const struct doc_node *args, bool secret)
	__attribute__((warn_unused_result));
/* The files of a builtin transformer config (kind): a PatchTransformer's,
 * PatchStrategicMergeTransformer's or PatchJson6902Transformer's patches,
 * walked as a kustomization's patches, a ReplacementTransformer's
 * replacement files as its replacements; other kinds name none. */
int k8s_walk_builtin_config(struct k8s_walk *w, const struct k8s_root *root, const char *kfile,
			    const char *dir, const struct doc_node *cfg, const char *kind)
	__attribute__((warn_unused_result));
/* A file a generator config names (spec "key=path" when key_value),
 * relative to dir; checked beneath the root and staged. */
int k8s_walk_add_path(struct k8s_walk *w, const struct k8s_root *root, const char *dir,
		      const char *spec, bool key_value) __attribute__((warn_unused_result));
/* Parses a kustomization or generator config: YAML whose merge keys ('<<')
 * are refused, as kustomize's reader (yaml.v2) applies them, so paths could
 * reach the build that the walker, reading the keys as written, never
 * checked. */
int k8s_load_config_yaml(const uint8_t *data, size_t len, struct doc *d) __attribute__((warn_unused_result));
/* Reads and parses such a YAML file beneath the root (errors name it). */
int k8s_walk_load_yaml(const struct k8s_root *root, const char *rel, struct doc *d)
	__attribute__((warn_unused_result));

/* Whether a map below n has a YAML merge key ('<<'): readers on go-yaml
 * (kustomize, Kubernetes, Argo CD) apply it, gitseal's tree keeps it as
 * written. Bounded by the stores' nesting limit. */
bool k8s_has_merge_key(const struct doc_node *n);
/* *line: the first line (1-based) of text holding a scalar tagged
 * !!binary, which go-yaml decodes into its bytes and libyaml leaves as
 * base64 text (the document model keeps no tag of a key); 0: none. */
int k8s_binary_tag_line(const uint8_t *data, size_t len, size_t *line) __attribute__((warn_unused_result));

/* Helpers shared by the files here. */
const char *k8s_map_str(const struct doc_node *map, const char *key);
struct doc_node *k8s_map_get(const struct doc_node *map, const char *key);
char *k8s_path_join(const char *dir, const char *rel);

#endif
