/* Private to src/sops/ (and its tests and fuzz targets). */
#ifndef GITSEAL_SOPS_INT_H
#define GITSEAL_SOPS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/re2posix.h"
#include "gitseal/sops.h"

/* ---- value.c: ENC[AES256_GCM,...] and typed plaintext (spec 2) ---- */

enum sops_value_type {
	SOPS_TYPE_STR,
	SOPS_TYPE_INT,
	SOPS_TYPE_FLOAT,
	SOPS_TYPE_BOOL,
	SOPS_TYPE_TIME,
	SOPS_TYPE_COMMENT,
	SOPS_TYPE_BYTES,
};

/* The four fields of an ENC string, pointing into the parsed text. */
struct sops_enc_fields {
	const char *data, *iv, *tag, *type;
	size_t data_len, iv_len, tag_len, type_len;
};

/* Regex semantics of aes/cipher.go encre: anchored at the start, greedy,
 * every field non-empty, no newline inside a field. */
int sops_enc_parse(const char *s, size_t len, struct sops_enc_fields *out)
	__attribute__((warn_unused_result));
bool sops_enc_looks_encrypted(const char *s, size_t len);

int sops_value_type_from_name(const char *name, size_t len, enum sops_value_type *out)
	__attribute__((warn_unused_result));
const char *sops_value_type_name(enum sops_value_type t);

/* AES-256-GCM contexts reused across the values of one walk (one per
 * direction, made on first use), keyed once for one data key. */
struct sops_cipher {
	struct evp_cipher_ctx_st *ctx[2]; /* [0] decrypt, [1] encrypt */
	const uint8_t *key[2];            /* the key each was given (not owned) */
	size_t iv_len[2];                 /* the IV length each was set to */
};

void sops_cipher_init(struct sops_cipher *c);
void sops_cipher_release(struct sops_cipher *c);

/* Encrypts plaintext into a fresh "ENC[...]" string appended to out.
 * iv may be NULL (32 random bytes) or iv_len bytes to use. */
int sops_value_encrypt_with(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE],
			    const uint8_t *plain, size_t len, enum sops_value_type type,
			    const char *aad, size_t aad_len, const uint8_t *iv, size_t iv_len,
			    struct gs_buf *out) __attribute__((warn_unused_result));
int sops_value_encrypt(const uint8_t key[SOPS_DATA_KEY_SIZE], const uint8_t *plain, size_t len,
		       enum sops_value_type type, const char *aad, size_t aad_len,
		       const uint8_t *iv, size_t iv_len, struct gs_buf *out)
	__attribute__((warn_unused_result));

/* Decrypts an ENC string; the tag is verified before anything is kept.
 * plain is reset and receives the plaintext (it must be a secure buffer). */
int sops_value_decrypt_with(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE],
			    const char *enc, size_t len, const char *aad, size_t aad_len,
			    struct gs_buf *plain, enum sops_value_type *type)
	__attribute__((warn_unused_result));
/* The same into the ENC text's own memory (secure, len bytes): on success
 * it holds the plaintext, *plain_len bytes, NUL-terminated and the rest
 * wiped; on failure it is damaged and must be discarded. No copy of a
 * large value is made. Returns 1, the text untouched, when an unusual
 * tag leaves no room: then decrypt with sops_value_decrypt_with. */
int sops_value_decrypt_in_place(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE],
				char *enc, size_t len, const char *aad, size_t aad_len,
				size_t *plain_len, enum sops_value_type *type)
	__attribute__((warn_unused_result));
int sops_value_decrypt(const uint8_t key[SOPS_DATA_KEY_SIZE], const char *enc, size_t len,
		       const char *aad, size_t aad_len, struct gs_buf *plain,
		       enum sops_value_type *type) __attribute__((warn_unused_result));

/* Go strconv.FormatFloat(v, 'f', -1, 64); "NaN", "+Inf", "-Inf". */
int sops_float_format(double v, char *out, size_t cap) __attribute__((warn_unused_result));

/* The sops plaintext bytes and type of a scalar or comment node (table
 * 2.3): bool as True/False, float re-rendered, int and str as they are. */
int sops_node_plaintext(const struct doc_node *n, struct gs_buf *out, enum sops_value_type *type)
	__attribute__((warn_unused_result));

/* Validates a decrypted typed plaintext and gives the bytes the MAC takes
 * (sops ToBytes of the decoded value: int re-rendered, bool True/False). */
int sops_plaintext_canonical(enum sops_value_type type, const uint8_t *plain, size_t len,
			     struct gs_buf *out) __attribute__((warn_unused_result));
/* Stores a canonical typed plaintext into a node (doc text form); type
 * comment turns the node into a comment. */
int sops_node_set_canonical(struct doc *d, struct doc_node *n, enum sops_value_type type,
			    const uint8_t *canon, size_t len) __attribute__((warn_unused_result));

/* ---- gotime.c: type:time as Go reads and writes a time.Time ---- */

/* "9999-12-31T23:59:59.999999999+23:59" and its NUL */
enum { SOPS_TIME_TEXT_MAX = 40 };

/* A type:time plaintext as sops reads it (Go's Time.UnmarshalText: RFC
 * 3339, also a one-digit hour, a ',' before the fraction and an offset up
 * to 24:00, as time.Parse takes them) written back as sops hashes and
 * encrypts it (Time.MarshalText: "2024-01-02T03:04:05.5+01:00", "Z" for
 * UTC). Fails on anything else, and on an offset MarshalText refuses.
 * The metadata's lastmodified has rules of its own (mac.c). */
int sops_time_value_canonical(const char *s, size_t len, char out[static SOPS_TIME_TEXT_MAX], size_t *out_len)
	__attribute__((warn_unused_result));

/* ---- walk.c: tree walk, selection, encrypt/decrypt of leaves (spec 3) ---- */

struct sops_regex_entry;

struct sops_selector {
	enum sops_selection_kind kind;
	const char *value;
	const regex_t *re;               /* the compiled regex, shared (walk.c) */
	struct sops_regex_entry *regex;  /* its cache entry, released with the selector */
};

int sops_selector_init(struct sops_selector *s, const struct sops_selection *sel)
	__attribute__((warn_unused_result));
void sops_selector_release(struct sops_selector *s);

/* A leaf as the walk sees it. */
struct sops_leaf {
	struct doc_node *container;  /* map or list holding it */
	size_t index;                /* its entry there */
	struct doc_node *node;
	const char *aad;             /* path joined with ':' plus ':' */
	size_t aad_len;
	bool is_comment;
	bool selected;
};

typedef int (*sops_leaf_fn)(void *ctx, struct sops_leaf *leaf);

/* Visits every non-null scalar and comment of every branch in sops order,
 * skipping removed entries and the top-level sops entry. */
int sops_walk(struct doc *d, const struct sops_selector *sel, sops_leaf_fn fn, void *ctx)
	__attribute__((warn_unused_result));

/* ---- batch.c: values decrypted ahead of the walk, on two threads ---- */

struct sops_batch;

/* Whether the walk decrypts leaf in its own memory (what a batch takes). */
bool sops_batch_candidate(const struct doc *d, const struct sops_leaf *leaf);
/* Decrypts in place every candidate of d under sel with key, the walk's
 * order kept; *out NULL (and 0) when d has too few values to gain, or a
 * selection the walk alone can make. key must outlive the batch. */
int sops_batch_decrypt(struct doc *d, const struct sops_selection *sel, const uint8_t *key,
		       struct sops_batch **out) __attribute__((warn_unused_result));
/* The next candidate's outcome, n being the node the walk is at: 0 with
 * its plaintext's length and type, 1 when it did not fit its own memory
 * (its text unchanged), or the error that value had. */
int sops_batch_take(struct sops_batch *b, const struct doc_node *n, size_t *plain_len,
		    enum sops_value_type *type) __attribute__((warn_unused_result));
/* After the walk: an error unless it took every value. */
int sops_batch_finish(const struct sops_batch *b) __attribute__((warn_unused_result));
void sops_batch_free(struct sops_batch *b);

/* ---- mac.c (spec 4) ---- */

struct sops_mac {
	void *md; /* EVP_MD_CTX */
	bool only_encrypted;
};

/* SHA-512 fetched ahead of the first sops_mac_init (OpenSSL loaded) */
void sops_mac_warm(void);
int sops_mac_init(struct sops_mac *m, bool only_encrypted) __attribute__((warn_unused_result));
int sops_mac_update(struct sops_mac *m, const uint8_t *p, size_t n) __attribute__((warn_unused_result));
/* Uppercase hex, 128 characters plus NUL. Frees the context. */
int sops_mac_final(struct sops_mac *m, char hex[129]) __attribute__((warn_unused_result));
void sops_mac_release(struct sops_mac *m);

/* Canonical RFC 3339 form of a timestamp (fraction dropped, Z or +hh:mm),
 * into out of at least SOPS_TIME_CANONICAL_MAX bytes. */
enum { SOPS_TIME_CANONICAL_MAX = 26 };
int sops_time_canonical(const char *s, size_t len, char *out, size_t cap)
	__attribute__((warn_unused_result));
int sops_time_now(char out[32]) __attribute__((warn_unused_result));

int sops_mac_encrypt(const uint8_t key[SOPS_DATA_KEY_SIZE], const char hex[129],
		     const char *lastmodified, struct gs_buf *out) __attribute__((warn_unused_result));
/* Decrypts the stored mac (AAD = canonical lastmodified) and compares in
 * constant time. c: the walk's cipher, already keyed with key when a value
 * was decrypted (its key schedule is kept). */
int sops_mac_check(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE], const char *stored, size_t stored_len,
		   const char *lastmodified, size_t lm_len, const char hex[129])
	__attribute__((warn_unused_result));

/* ---- metadata.c (spec 5) ---- */

struct sops_age_entry {
	const char *recipient;
	const char *enc;
	size_t enc_len;
};

/* hc_vault entry (hcvault/keysource.go; 3.13 writes the keys sorted). */
struct sops_vault_entry {
	const char *address;
	const char *engine_path;
	const char *key_name;
	const char *created_at;
	const char *enc;
	size_t enc_len;
};

/* pgp entry (pgp/keysource.go ToMap; stores.go pgpkey). */
struct sops_pgp_entry {
	const char *fp;
	const char *created_at;
	const char *enc;
	size_t enc_len;
};

/* A list of keys gitseal cannot wrap for (kms, gcp_kms, azure_kv, hckms,
 * or a type it does not know), kept verbatim while the data key stays. */
struct sops_raw_key {
	const char *type;            /* the metadata key, e.g. "kms" */
	const struct doc_node *node; /* the list, as read */
};

struct sops_meta_group {
	struct sops_age_entry *age;
	size_t age_count;
	struct sops_pgp_entry *pgp;
	size_t pgp_count;
	struct sops_vault_entry *vault;
	size_t vault_count;
	struct sops_raw_key *raw;    /* key types gitseal cannot use */
	size_t raw_count;
	size_t other_key_count;      /* entries in those raw lists */
};


/* Strings point into the document the metadata was read from. */
struct sops_metadata {
	struct sops_meta_group *groups;
	size_t group_count;
	bool from_key_groups;
	int shamir_threshold;
	const char *lastmodified;
	size_t lastmodified_len;
	const char *mac;
	size_t mac_len;
	struct sops_selection selection; /* value borrowed, not malloc'd */
	const char *version;
};

int sops_metadata_read(const struct doc *d, struct sops_metadata *m) __attribute__((warn_unused_result));
void sops_metadata_release(struct sops_metadata *m);

/* What to write: the key groups (age and vault entries, plus raw keys
 * kept from a previous version), the selection, lastmodified and the
 * encrypted mac. One group is written flat, several as key_groups. */
struct sops_metadata_out {
	const struct sops_meta_group *groups;
	size_t group_count;
	int shamir_threshold;
	const struct sops_selection *selection;
	const char *lastmodified;
	const char *mac;
	const char *version;
};

/* Appends a fresh `sops` entry to every branch's root map. */
int sops_metadata_write(struct doc *d, const struct sops_metadata_out *m)
	__attribute__((warn_unused_result));

/* ---- keys.c: data key, wrap/unwrap (spec 7, 8); shamir.c (spec 9) ---- */

/* Secure, SOPS_DATA_KEY_SIZE bytes. */
uint8_t *sops_data_key_new(void);

/* Wraps payload for one recipient; armored age text appended to out. */
int sops_key_wrap(const struct age_recipient *r, const uint8_t *payload, size_t len, struct gs_buf *out)
	__attribute__((warn_unused_result));

/* The most keys a file may name: decrypt refuses more (each pgp/vault
 * entry runs gpg or asks Vault, each age entry costs an X25519), so
 * encrypt refuses to write such a file: it could not be read back. */
int sops_key_counts_check(size_t age, size_t runs) __attribute__((warn_unused_result));
/* The cache set with sops_key_cache_use, or NULL (keys.c). */
const struct sops_key_cache *sops_key_cache_current(void);
/* sops_doc_keys from metadata already read */
int sops_metadata_keys(const struct sops_metadata *m, struct sops_key_summary *out)
	__attribute__((warn_unused_result));
/* Recovers the data key from the metadata into key (secure, 32 bytes).
 * order: key types to try first, comma-separated (--decryption-order), or
 * NULL for sops's default (age, pgp). A shamir_threshold in m lower than
 * the key shares opened need is raised to what they need (the metadata is
 * outside the MAC). */
int sops_data_key_unwrap(struct sops_metadata *m, const struct age_identity_list *ids, const char *order,
			 uint8_t key[SOPS_DATA_KEY_SIZE]) __attribute__((warn_unused_result));

enum { SOPS_SHARE_SIZE = SOPS_DATA_KEY_SIZE + 1 };

/* Shamir over GF(2^8)/0x11B; shares are 32 y bytes then x (x = i + 1).
 * shares: n * SOPS_SHARE_SIZE bytes of secure memory. */
int sops_shamir_split(const uint8_t secret[SOPS_DATA_KEY_SIZE], int n, int threshold, uint8_t *shares)
	__attribute__((warn_unused_result));
int sops_shamir_combine(const uint8_t *shares, size_t count, uint8_t secret[SOPS_DATA_KEY_SIZE])
	__attribute__((warn_unused_result));

/* ---- tree.c: a document under a known data key ---- */

/* Decryption with a known data key (fixtures, PGP files). */
int sops_decrypt_doc_with_key(struct doc *d, const uint8_t key[SOPS_DATA_KEY_SIZE],
			      const struct sops_decrypt_opts *opts) __attribute__((warn_unused_result));

struct sops_stash;

/* A previous encrypted version, decrypted (without changing it) and
 * verified, with every leaf's ciphertext indexed by (AAD, typed value). */
struct sops_previous {
	struct sops_metadata meta;
	uint8_t *key;
	struct sops_stash *stash;
};

int sops_previous_open_with_key(struct doc *prev, const uint8_t key[SOPS_DATA_KEY_SIZE],
				struct sops_previous *p) __attribute__((warn_unused_result));
/* Decrypts d in place under key (the MAC checked unless opts says not)
 * and fills p with what sealing it again needs: the metadata m, as the
 * caller read it from d (sops_metadata_read: a file opened reads it once;
 * taken over by p whatever the outcome), a copy of the key and, with
 * keep_stash, every leaf's ciphertext for reuse. One walk, one parse: the
 * opened file and its previous version are the same document. */
int sops_open_with_meta(struct doc *d, struct sops_metadata *m, const uint8_t key[SOPS_DATA_KEY_SIZE],
			const struct sops_decrypt_opts *opts, bool keep_stash, struct sops_previous *p)
	__attribute__((warn_unused_result));
void sops_previous_release(struct sops_previous *p);

/* What encryption changed in a document, so that it can be shown as the
 * plaintext it was (to verify an output against it) and as ciphertext
 * again (to write another layout), without a copy of the tree. The
 * ciphertexts live in the log's arena and go with it. */
struct sops_leaf_state {
	char *text;
	size_t len;
	enum doc_type type;
	enum doc_kind kind;
	bool dirty;
};

struct sops_undo_item {
	struct doc_node *node;
	struct sops_leaf_state state[2]; /* [0] plaintext, [1] encrypted */
};

struct sops_undo_meta {
	size_t branch;         /* a branch, its root and the sops entry appended to it */
	struct doc_node *root;
	size_t index;
};

struct sops_undo {
	struct sops_undo_item *items;
	size_t count, cap;
	struct sops_undo_meta *meta;
	size_t meta_count;
	struct gs_arena arena;
	void **buffers;  /* large ciphertexts, each in a buffer of its own */
	size_t buffer_count;
	bool encrypted; /* the state the nodes are in */
};

void sops_undo_init(struct sops_undo *u);
/* Puts every recorded leaf and metadata entry in one state. */
void sops_undo_show(struct sops_undo *u, bool encrypted);
/* Shows the plaintext and frees the ciphertexts; the metadata entries
 * stay recorded (shown removed). */
void sops_undo_drop_ciphertexts(struct sops_undo *u);
/* The same, and forgets the metadata entries. */
void sops_undo_release(struct sops_undo *u);

/* Encrypts d under key; groups hold the wrapped key entries to write
 * (shamir_threshold written when non-zero). With prev (same key),
 * unchanged values keep their ciphertext, and when nothing changed
 * lastmodified, mac and version are kept. lastmodified NULL means now. */
int sops_encrypt_with_key(struct doc *d, const uint8_t key[SOPS_DATA_KEY_SIZE],
			  const struct sops_meta_group *groups, size_t group_count, int shamir_threshold,
			  const struct sops_selection *sel, const struct sops_previous *prev,
			  const char *lastmodified) __attribute__((warn_unused_result));
/* The same, recording every change in undo (NULL: none). */
int sops_encrypt_with_key_undo(struct doc *d, const uint8_t key[SOPS_DATA_KEY_SIZE],
			       const struct sops_meta_group *groups, size_t group_count,
			       int shamir_threshold, const struct sops_selection *sel,
			       const struct sops_previous *prev, const char *lastmodified,
			       struct sops_undo *undo) __attribute__((warn_unused_result));

/* ---- file.c, seal.c: the file pipeline ---- */

struct sops_file {
	enum doc_format format;
	bool opened;               /* from an encrypted file (else created) */
	struct doc doc;            /* opened: the plaintext tree, decrypted in place */
	struct doc previous;       /* created: the previous version given for reuse */
	struct sops_previous prev; /* the data key, metadata and ciphertexts to reuse */
	bool have_prev;            /* prev holds a key */
	struct sops_metadata previous_meta; /* created: previous's metadata, whether it opens or not */
	struct sops_key_summary keys;
};

/* inspect.c: the public name of a data key (SOPS_KEY_ID_SIZE bytes). */
void sops_data_key_id(const uint8_t *key, uint8_t id[SOPS_KEY_ID_SIZE]);

/* ---- engine.c ---- */

/* Encrypts d for the key groups of opts. prev_meta (may be NULL): the
 * metadata of the previous version, which tells which key entries must
 * not be lost. With prev (that version opened) its data key, the wrapped
 * entries of keys that stay and the unchanged ciphertexts are kept, unless
 * opts->new_data_key; otherwise a new data key is made. The data key used
 * is copied to key_out (SOPS_DATA_KEY_SIZE secure bytes) when it is not
 * NULL; undo as above. */
int sops_encrypt_doc_reusing(struct doc *d, const struct sops_encrypt_opts *opts,
			     const struct sops_metadata *prev_meta, const struct sops_previous *prev,
			     uint8_t *key_out, struct sops_undo *undo) __attribute__((warn_unused_result));
/* Opens previous for reuse with ids; false when it cannot be used (reuse
 * is an optimisation: a version that does not open or verify is simply
 * not reused). */
bool sops_previous_for_reuse(struct doc *previous, const struct age_identity_list *ids,
			     struct sops_previous *p);

#endif
