/* Private to src/k8s/ (and its tests and fuzz targets). */
#ifndef GITSEAL_K8S_INT_H
#define GITSEAL_K8S_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/k8s.h"

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

/* index.c: the encrypted values of verified source documents, each with
 * the path of map keys it sits at and its decrypted value. */
struct k8s_cipher {
	char *path;                 /* "len:key" segments, exact */
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
 * identical ciphertext at the same key path of its verified source. On a
 * mismatch, bad_path gets the offending key path (keys only) and
 * GS_ERR_MAC_MISMATCH is returned. */
int k8s_resource_decrypt(struct doc *d, struct doc_node *root, const struct k8s_cipher_index *ix,
			 char *bad_path, size_t bad_path_cap) __attribute__((warn_unused_result));

/* Removes the sops entry and the origin annotation (and annotations that
 * this leaves empty). Returns the origin annotation's text, or NULL. */
const struct doc_node *k8s_resource_strip(struct doc_node *root);

/* dotenv.c: KEY=VALUE lines as godotenv reads them (comments, export,
 * single and double quotes). Pairs are appended to map in d. */
int k8s_dotenv_parse(struct doc *d, struct doc_node *map, const char *text, size_t len)
	__attribute__((warn_unused_result));

/* ksops.c: generator configs (viaduct.ai/v1 ksops, gitseal.dev/v1
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
/* Runs the generator: documents appended to items (a list in out_doc). */
int k8s_generator_run(const struct k8s_generator *g, const char *base_dir,
		      const struct age_identity_list *ids, struct doc *out_doc, struct doc_node *items)
	__attribute__((warn_unused_result));

/* Reads and decrypts one sops file (format from its name) into plain
 * (secure). */
int k8s_file_decrypt(const char *path, const struct age_identity_list *ids, struct gs_buf *plain,
		     enum doc_format *format) __attribute__((warn_unused_result));

/* Helpers shared by the files here. */
const char *k8s_map_str(const struct doc_node *map, const char *key);
struct doc_node *k8s_map_get(const struct doc_node *map, const char *key);
char *k8s_path_join(const char *dir, const char *rel);

#endif
