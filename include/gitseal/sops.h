/* The sops engine: encrypts and decrypts document trees value by value
 * (AES-256-GCM, path as AAD), computes and checks the MAC, reads and writes
 * the metadata, and re-encrypts against a previous version (reuse).
 * Format: ../shared/spec/sops-format.md. */
#ifndef GITSEAL_SOPS_H
#define GITSEAL_SOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/age.h"
#include "gitseal/doc.h"
#include "gitseal/secmem.h"
#include "gitseal/sops_format.h"

/* Which leaves are encrypted; at most one option is set. */
enum sops_selection_kind {
	SOPS_SEL_NONE,
	SOPS_SEL_UNENCRYPTED_SUFFIX,
	SOPS_SEL_ENCRYPTED_SUFFIX,
	SOPS_SEL_UNENCRYPTED_REGEX,
	SOPS_SEL_ENCRYPTED_REGEX,
	SOPS_SEL_UNENCRYPTED_COMMENT_REGEX,
	SOPS_SEL_ENCRYPTED_COMMENT_REGEX,
};

/* The metadata key (and .sops.yaml option) of a selection kind, e.g.
 * "encrypted_regex"; NULL for SOPS_SEL_NONE. */
const char *sops_selection_key(enum sops_selection_kind kind);

struct sops_selection {
	enum sops_selection_kind kind;
	char *value; /* malloc'd; suffix or regex */
	bool mac_only_encrypted;
};

/* One key group, as strings: age recipients (written to the metadata as
 * they are), Vault transit URIs (https://HOST/v1/ENGINE/keys/NAME), PGP
 * fingerprints, and keys of types gitseal cannot wrap for ("foreign":
 * sops_foreign_key_describe's "TYPE ID" form). A foreign key can only be
 * kept from the previous version of a file while its data key stays. */
struct sops_key_group {
	char **age;          /* recipient strings, trimmed, de-duplicated within key_groups */
	size_t age_count;
	char **vault_uris;   /* hc_vault_transit_uri */
	size_t vault_count;
	char **pgp;          /* fingerprints, spaces removed (sops) */
	size_t pgp_count;
	char **foreign;      /* "kms ARN", "gcp_kms ID", "azure_kv URL", "hckms ID", "TYPE #N" */
	size_t foreign_count;
};

/* "TYPE ID" for one metadata entry of a key type gitseal cannot wrap for
 * (type as in the metadata: kms, gcp_kms, azure_kv, hckms, or another
 * name; index tells an entry of an unknown type apart). *out malloc'd. */
int sops_foreign_key_describe(const char *type, const struct doc_node *entry, size_t index, char **out)
	__attribute__((warn_unused_result));

/* Who may read a file and which values to seal. With several key groups
 * the data key is split with Shamir (spec 9): shamir_threshold groups
 * (0: all of them) are needed to decrypt. */
struct sops_encrypt_opts {
	const struct sops_key_group *groups; /* NULL: the one group of recipients below */
	size_t group_count;
	const struct age_recipient_list *recipients; /* shorthand for one age-only group */
	char **recipient_strings;                     /* as written to metadata, same order */
	struct sops_selection selection;
	int shamir_threshold;
	/* With previous: a new data key all the same (rotate); previous only
	 * tells which key entries would be lost. */
	bool new_data_key;
	/* Key entries gitseal cannot wrap for (kms, gcp_kms, azure_kv, hckms,
	 * unknown types) are kept from previous while the data key stays and
	 * the key groups are not split anew; otherwise, and for such keys named
	 * by the groups but absent from previous, encryption fails with
	 * GS_ERR_UNSUPPORTED_KEY unless this is set (then they are left out). */
	bool drop_unsupported_keys;
	/* With previous's data key and key groups kept (set, edit: the file's
	 * own keys): an age entry that names no recipient stays as it is (sops
	 * carries it). Otherwise such an entry cannot be carried, nor compared
	 * with a rule (updatekeys, rotate, the git filter): GS_ERR_UNSUPPORTED_KEY
	 * unless drop_unsupported_keys. */
	bool keep_unnamed;
};

/* Key group lists (strings owned by the list): add (no duplicates), test
 * (fingerprints in either case), copy, compare (b holds a's age, Vault and
 * PGP keys in the same groups, order aside, and at least a's keys of other
 * types: gitseal keeps those it cannot wrap for and never removes one),
 * free. */
int sops_key_group_add_age(struct sops_key_group *g, const char *recipient)
	__attribute__((warn_unused_result));
int sops_key_group_add_vault(struct sops_key_group *g, const char *uri)
	__attribute__((warn_unused_result));
int sops_key_group_add_pgp(struct sops_key_group *g, const char *fingerprint)
	__attribute__((warn_unused_result));
int sops_key_group_add_foreign(struct sops_key_group *g, const char *key)
	__attribute__((warn_unused_result));
bool sops_key_group_has(const struct sops_key_group *g, const char *key);
int sops_key_groups_copy(const struct sops_key_group *src, size_t n, struct sops_key_group **out)
	__attribute__((warn_unused_result));
bool sops_key_groups_equal(const struct sops_key_group *a, size_t na, const struct sops_key_group *b,
			   size_t nb);
void sops_key_groups_free(struct sops_key_group *g, size_t n);

/* How many of group_count key groups it takes to decrypt: shamir_threshold,
 * all of them when it is 0, and 1 for a single group. */
int sops_groups_needed(size_t group_count, int shamir_threshold);
/* What changes in a file's key groups besides their keys, a line each
 * after indent, appended to out: "key groups: 3 -> 2" and "groups needed:
 * 3 -> 2" (fewer needed: more people can read with no key added).
 * Nothing when neither changes. */
int sops_groups_change_describe(size_t from_groups, int from_threshold, size_t to_groups, int to_threshold,
				const char *indent, struct gs_buf *out) __attribute__((warn_unused_result));

/* Identities for decryption, gathered from the sops environment
 * (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,
 * SOPS_AGE_SSH_PRIVATE_KEY_FILE, the default keys.txt). */
int sops_identities_load(struct age_identity_list *ids) __attribute__((warn_unused_result));
/* SOPS_AGE_KEY_CMD and SOPS_AGE_SSH_PRIVATE_KEY_CMD run with
 * SOPS_AGE_RECIPIENT=recipient (sops runs them per age key): the
 * identities they gave, kept for the process; NULL when no command is set
 * or nothing came of it. Thread-safe. */
const struct age_identity_list *sops_identities_for_recipient(const char *recipient);
bool sops_identities_have_commands(void);
/* What went wrong with the sources so far ("SOPS_AGE_KEY_FILE '/x': ..."),
 * "" if nothing: for the message when no key opens a file. */
void sops_identities_problems(char *out, size_t cap);
/* Frees what the key commands gave (at exit). */
void sops_identities_forget(void);

/* A cache of age payloads (data keys, Shamir shares) a process may keep
 * instead of opening the same age file again (the git filter's,
 * src/git/keycache.c: an X25519 and two HKDFs saved per file). Each
 * record is bound to one age file (enc, every byte of it) and the one
 * identity that opened it or whose recipient it was made for: a cached
 * payload is handed out only for that very file and that identity.
 * lookup: 1 with the payload (want bytes) appended to plain, else 0;
 * opened: identity id opened enc to payload; wrapped: enc was made here
 * for recipient (its text) with payload. Called from several threads. */
struct sops_key_cache {
	int (*lookup)(void *ctx, const struct age_identity_list *ids, const char *enc, size_t enc_len,
		      size_t want, struct gs_buf *plain);
	void (*opened)(void *ctx, const struct age_identity *id, const char *enc, size_t enc_len,
		       const uint8_t *payload, size_t len);
	void (*wrapped)(void *ctx, const char *recipient, const char *enc, size_t enc_len, const uint8_t *payload,
			size_t len);
	void *ctx;
};
/* Every age file this process opens or makes from now on goes through c
 * (NULL: none). Set before any thread that opens files starts. */
void sops_key_cache_use(const struct sops_key_cache *c);

/* Reading an encrypted document without its data key (inspect.c). The
 * metadata is outside the MAC: these are claims, the caller decides what
 * to trust. */
struct sops_key_summary {
	struct sops_key_group *groups; /* malloc'd strings */
	size_t group_count;
	int shamir_threshold;
	struct sops_selection selection; /* value malloc'd */
	size_t other_keys;               /* entries of types gitseal cannot wrap (kms, ...): the groups' foreign */
	size_t unnamed_age;              /* age entries that name no recipient (in no group's list) */
};

/* A group's keys as one list (age recipients, PGP fingerprints, Vault
 * URIs: the names a user accepts); keys of other types are not in it. */
size_t sops_key_group_size(const struct sops_key_group *g);
const char *sops_key_group_key(const struct sops_key_group *g, size_t i);

/* The keys and selection rule the metadata names. */
int sops_doc_keys(const struct doc *d, struct sops_key_summary *out) __attribute__((warn_unused_result));
void sops_key_summary_release(struct sops_key_summary *k);
/* 0 when every value that sel (the default rule when its kind is NONE)
 * seals is a well-formed ENC[...] value; GS_ERR_DECRYPT_VALUE and the key
 * path of the first one in clear (in sops's AAD form, "db:password")
 * written to where otherwise. */
int sops_doc_check_sealed(struct doc *d, const struct sops_selection *sel, char *where, size_t where_size)
	__attribute__((warn_unused_result));
/* 1 when the plaintext d (an opened file) holds a value that was not
 * sealed under sel (as above): one sel leaves in clear, or an empty string
 * (never sealed); its key path (AAD form) in where. Neither its key nor,
 * under mac_only_encrypted, its value is authenticated. 0 when every value
 * was sealed. Null values are not visited (sops neither seals nor hashes
 * them). */
int sops_doc_find_clear(struct doc *d, const struct sops_selection *sel, char *where, size_t where_size)
	__attribute__((warn_unused_result));
/* How many values of the plaintext d sel would encrypt (*sealed), of those
 * sops can encrypt (*values: not comments, empty strings or nulls). */
int sops_doc_count_sealed(struct doc *d, const struct sops_selection *sel, size_t *sealed, size_t *values)
	__attribute__((warn_unused_result));
/* 0 unless a value of the plaintext d that sel leaves in clear is one that
 * wider seals and that no document of kept (verified encrypted versions of
 * the same file) holds in clear already, the same value at the same path
 * (a value changed there is the user's): then GS_ERR_DECRYPT_VALUE and its
 * key path (AAD form) in where. A file's own rule is outside the MAC: this
 * tells a rule narrowed by whoever edited the metadata from one the caller
 * accepted. */
int sops_doc_check_narrowed(struct doc *d, const struct sops_selection *sel, const struct sops_selection *wider,
			    struct doc *const *kept, size_t nkept, char *where, size_t where_size)
	__attribute__((warn_unused_result));
/* The size of a data key's public name: a keyed BLAKE2b of the key, which
 * tells nothing about it, so that a caller can recognise keys it made
 * without keeping them (sops_file_key_id, sops_seal_opts.key_id). */
enum { SOPS_KEY_ID_SIZE = 32 };

/* Encrypts a plaintext document in place (values become ENC[...], the
 * sops metadata entry is appended to every branch). With previous (an
 * encrypted document of the same file, may be NULL) and identities that
 * open it, the reuse rules apply: same data key, unchanged values keep
 * their ciphertext, lastmodified/mac kept when nothing changed. */
int sops_encrypt_doc(struct doc *d, const struct sops_encrypt_opts *opts, struct doc *previous,
		     const struct age_identity_list *ids) __attribute__((warn_unused_result));

struct sops_decrypt_opts {
	bool ignore_mac;
};

/* Starts loading the cryptography a sops file needs (libcrypto, AES-256-GCM)
 * on a thread of its own, for a command about to read one: it overlaps
 * the reading and parsing. input_bytes: the input's size (0 if unknown);
 * from STORE_THREADED_MIN_INPUT on, the kept worker thread is made first
 * (made while the warming thread is in dlopen, it waits for the loader's
 * lock), and malloc's heap is laid out for it (gs_heap_expect) before
 * either thread exists. Optional; once per process. */
void sops_crypto_warm(size_t input_bytes);

/* Decrypts an encrypted document in place: values become plaintext, the
 * sops entry is removed. The MAC is checked before this returns success;
 * on any failure the document must be discarded. */
int sops_decrypt_doc(struct doc *d, const struct age_identity_list *ids,
		     const struct sops_decrypt_opts *opts) __attribute__((warn_unused_result));

/* True when the document has a sops metadata entry. */
bool sops_doc_is_encrypted(const struct doc *d);
/* The metadata entry (the top-level "sops" of the first document), or NULL. */
struct doc_entry *sops_metadata_entry(const struct doc *d);
/* 0 when d can be encrypted: not encrypted yet (GS_ERR_ALREADY_ENCRYPTED),
 * at least one document (GS_ERR_EMPTY_INPUT). */
int sops_doc_check_plain(const struct doc *d) __attribute__((warn_unused_result));

/* ---- The file pipeline: one way to read and write a sops file ----
 *
 * Every command, the git filter and merge driver, and render/krm read and
 * write sops files through these, so that the rule "exit 0 means decrypt
 * gives back exactly what you gave" is kept in one place:
 *
 *   sops_file_open()    encrypted bytes (or a document already parsed) ->
 *                       the plaintext tree, decrypted in place with the MAC
 *                       checked; the data key and the metadata are kept for
 *                       sealing again.
 *   sops_file_create()  a new file for given keys; a previous encrypted
 *                       version (parsed) gives its data key and unchanged
 *                       ciphertexts when the identities open it (reuse).
 *   sops_file_seal()    plaintext tree -> encrypted bytes, proven before
 *                       they are returned: emit -> reload with the same
 *                       store -> decrypt with the data key in hand ->
 *                       doc_equal() with the tree, metadata equal. On a
 *                       mismatch the fresh layout (yaml.v3's, as sops
 *                       writes) is emitted and proven; if that fails too,
 *                       nothing is returned: GS_ERR_VERIFY, one line naming
 *                       the key path (never a value).
 *   sops_plain_emit()   plaintext tree -> bytes (decrypt, edit, exec-file,
 *                       render), proven the same way: emit -> reload ->
 *                       doc_equal(), fallback to the fresh layout.
 *   gs_output_write()   (gitseal/io.h) bytes -> a path: a regular file is
 *                       replaced atomically (through a symlink, mode kept);
 *                       a FIFO, a device or "-" is written directly.
 *
 * Policy stays with the caller: which keys (sops_keys_resolve() for flags
 * and creation rules), a default selection such as the one for Kubernetes
 * Secrets, the indentation, where the bytes go.
 *
 * Change one value (as `set` does):
 *   struct sops_file *f;
 *   struct sops_open_opts oo = { .format = fmt, .ids = ids, .reseal = true };
 *   ret = sops_file_open(data, len, &oo, &f);             // MAC checked
 *   if (!ret) ret = doc_scalar_set(...sops_file_doc(f)...); // edit the tree
 *   if (!ret) ret = sops_file_seal(f, sops_file_doc(f), NULL, &out);
 *   if (!ret) ret = gs_output_write(path, out.data, out.len, 0600);
 *   sops_file_free(f);
 *
 * Clean a plaintext the caller parsed, with the version git holds:
 *   ret = sops_keys_resolve(config, path, NULL, &keys);
 *   ret = sops_file_create(fmt, &keys, &previous_doc, ids, &f); // takes previous_doc
 *   ret = sops_file_seal(f, &plain_doc, NULL, &out);            // plain_doc stays usable
 *   sops_file_free(f); sops_key_summary_release(&keys);
 *
 * Decrypt for a reader (render, smudge): sops_file_open() without reseal,
 * then sops_plain_emit(sops_file_doc(f), ...) or walk the tree. */
struct sops_file;
struct sops_config;

/* Who can read a new file and which values are sealed: a struct
 * sops_key_summary (above), owned by the caller; deep copy. */
int sops_key_summary_copy(const struct sops_key_summary *src, struct sops_key_summary *dst)
	__attribute__((warn_unused_result));

/* Keys given on the command line (or by the environment); each replaces
 * what the creation rule says (spec 10.3). */
struct sops_key_flags {
	const char *const *age;   /* recipients: replace the rule's keys, one group */
	size_t age_count;
	const char *const *vault; /* Vault transit URIs, likewise */
	size_t vault_count;
	const char *const *pgp;   /* PGP fingerprints, likewise */
	size_t pgp_count;
	int shamir_threshold;     /* non-zero: beats the rule's */
	struct sops_selection selection; /* kind != NONE: beats the rule's */
};

/* The keys for a new file at rule_path: flags, else the first matching
 * creation rule of config (may be NULL). The selection stays
 * SOPS_SEL_NONE when neither gives one (the caller may apply a default). */
int sops_keys_resolve(const struct sops_config *config, const char *rule_path,
		      const struct sops_key_flags *flags, struct sops_key_summary *out)
	__attribute__((warn_unused_result));

struct sops_open_opts {
	enum doc_format format;
	const struct age_identity_list *ids;
	bool ignore_mac;
	bool reseal; /* keep every ciphertext for reuse by sops_file_seal (set, edit, ...) */
	const char *decryption_order; /* key types to try first, comma-separated ("pgp,age"),
				       * or NULL: sops's default (age, pgp, then the others) */
};

/* Opens encrypted bytes (copied). */
int sops_file_open(const uint8_t *data, size_t len, const struct sops_open_opts *o,
		   struct sops_file **out) __attribute__((warn_unused_result));
/* The same, the document taking over text (no copy; text is left empty). */
int sops_file_open_buf(struct gs_buf *text, const struct sops_open_opts *o, struct sops_file **out)
	__attribute__((warn_unused_result));
/* The same for a document the caller loaded (taken over; left empty). */
int sops_file_open_doc(struct doc *encrypted, const struct sops_open_opts *o, struct sops_file **out)
	__attribute__((warn_unused_result));

/* A new file for keys (copied). previous: an encrypted version of the
 * same file, taken over (left empty), or NULL. */
int sops_file_create(enum doc_format format, const struct sops_key_summary *keys, struct doc *previous,
		     const struct age_identity_list *ids, struct sops_file **out)
	__attribute__((warn_unused_result));

/* The plaintext tree of an opened file (the caller may change it); an
 * empty document for a created file. */
struct doc *sops_file_doc(struct sops_file *f);
/* The file's keys: from its metadata when opened, as given when created. */
const struct sops_key_summary *sops_file_keys(const struct sops_file *f);
/* The public name of an opened file's data key (SOPS_KEY_ID_SIZE); false
 * when the file holds none (created without a previous version that
 * opened). */
bool sops_file_key_id(const struct sops_file *f, uint8_t id[SOPS_KEY_ID_SIZE]);
enum doc_format sops_file_format(const struct sops_file *f);

/* Why a write fell back to the fresh layout: a key path or a reason,
 * never a value. */
enum { SOPS_WHY_SIZE = 384 };

struct sops_seal_opts {
	const struct sops_key_group *groups; /* NULL: the file's own groups and threshold */
	size_t group_count;
	int shamir_threshold;
	bool fresh_key;                      /* a new data key, every value anew (rotate) */
	bool drop_unsupported_keys;          /* see sops_encrypt_opts */
	bool keep_unnamed;                   /* see sops_encrypt_opts */
	bool convert;                        /* write output_format instead of the file's */
	enum doc_format output_format;
	int indent;                          /* 0: the store's default (see store_emit_opts) */
	bool drop_source;                    /* plain's source text may be freed once emitted */
	bool open_end;                       /* the output does not end its last line where plain's
					      * source, in the same format, does not either (YAML,
					      * dotenv, INI: sops_text_ends_open), if that proves */
	char *fell_back;                     /* if set (SOPS_WHY_SIZE bytes): why the fresh
					      * layout was written, "" when it was not */
	uint8_t *key_id;                     /* if set (SOPS_KEY_ID_SIZE bytes): the public name
					      * of the data key sealed with */
};

/* Encrypts plain (a plaintext tree in the file's format: the opened one or
 * another) into out, verified as described above. plain is left as it was
 * given, except that the values it encrypts lose their YAML tags (as sops
 * drops them: what decrypts is the value without its tag); o may be NULL. */
int sops_file_seal(struct sops_file *f, struct doc *plain, const struct sops_seal_opts *o,
		   struct gs_buf *out) __attribute__((warn_unused_result));
void sops_file_free(struct sops_file *f);

/* Whether a text in format does not end its last line, where the stores
 * that end a sealed file with their metadata (YAML, dotenv, INI) would add
 * the line break: a sealed file ending so says its plaintext did (JSON and
 * binary files keep it by themselves). */
bool sops_text_ends_open(enum doc_format format, const uint8_t *text, size_t len);
/* The length of the line break that ends text: 2 for CR LF, 1 for LF, 0. */
size_t sops_text_line_end(const uint8_t *text, size_t len);

struct sops_emit_opts {
	int indent;        /* 0: the store's default */
	bool drop_source;  /* the caller needs only the tree afterwards: the source text may be
			    * freed before the check (memory) */
	char *fell_back;   /* as in sops_seal_opts */
	bool unverified;   /* bytes that are only compared, never written or printed (the git
			    * filter's comparison with what git hands over): not loaded back */
	bool open_end;     /* as in sops_seal_opts */
};

/* Writes a plaintext tree as format into out (a secure buffer), verified:
 * the bytes load again with format's store into the same data (when
 * converting: no comments in JSON, text values in dotenv and INI, tags in
 * YAML only). Falls back to the fresh layout; GS_ERR_VERIFY if neither. */
int sops_plain_emit(struct doc *plain, enum doc_format format, const struct sops_emit_opts *o,
		    struct gs_buf *out) __attribute__((warn_unused_result));
/* Proves text, a value printed on its own (a list: no store reads one as
 * a file), before it is printed: before + text + after, loaded with
 * format's store, must hold want, whose root holds the value under the
 * key "k" (YAML: "k:\n" before a block list; JSON: {"k": and }). 0, or
 * GS_ERR_VERIFY and one line naming the path below name (the value's). */
int sops_plain_prove_value(const struct doc *want, enum doc_format format, const char *name,
			   const char *before, struct gs_buf *text, const char *after)
	__attribute__((warn_unused_result));

/* One-shot forms of the pipeline, for callers that hold bytes. */
struct sops_file_encrypt_opts {
	enum doc_format format;
	const char *rule_path;              /* matched against the creation rules */
	const struct sops_config *config;   /* may be NULL */
	const char *const *age_recipients;  /* from flags or env: replace the rule's keys */
	size_t age_recipient_count;
	const char *const *vault_uris;      /* likewise (--hc-vault-transit) */
	size_t vault_uri_count;
	const char *const *pgp_fingerprints; /* likewise (--pgp) */
	size_t pgp_count;
	bool drop_unsupported_keys;         /* see sops_encrypt_opts */
	int shamir_threshold;               /* non-zero: beats the rule's */
	struct sops_selection selection;    /* from flags: overrides the rule's */
	const uint8_t *previous;            /* previous encrypted version (reuse), or NULL */
	size_t previous_len;
	const struct age_identity_list *identities; /* to open previous */
	int indent;                         /* 0 = the store's default */
	bool convert;                       /* write output_format instead of format */
	enum doc_format output_format;
};

/* load -> sops_keys_resolve -> create -> seal. */
int sops_file_encrypt(const uint8_t *plain, size_t len, const struct sops_file_encrypt_opts *o,
		      struct gs_buf *out) __attribute__((warn_unused_result));
/* open -> sops_plain_emit in the same format. */
int sops_file_decrypt(const uint8_t *cipher, size_t len, enum doc_format format,
		      const struct age_identity_list *ids, const struct sops_decrypt_opts *o,
		      struct gs_buf *out) __attribute__((warn_unused_result));

#endif
