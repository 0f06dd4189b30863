/* Private interface of the age module: shared by the files of src/age, the unit
 * tests and the fuzz targets only. */
#ifndef GITSEAL_AGE_INT_H
#define GITSEAL_AGE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "gitseal/age.h"
#include "gitseal/base64.h"
#include "gitseal/io.h"
#include "gitseal/pq.h"

#define AGE_INTRO "age-encryption.org/v1"
#define AGE_ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define AGE_ARMOR_END "-----END AGE ENCRYPTED FILE-----"

enum {
	AGE_MAC_SIZE = 32,
	AGE_NONCE_SIZE = 16,
	AGE_TAG_SIZE = 16,
	AGE_CHUNK_CT_SIZE = AGE_CHUNK_SIZE + AGE_TAG_SIZE,
	AGE_STANZA_COLUMNS = 64,
	AGE_STANZA_LINE_BYTES = 48,
	AGE_WRAPPED_KEY_SIZE = AGE_FILE_KEY_SIZE + AGE_TAG_SIZE,
	AGE_HEADER_MAX = 16 * 1024 * 1024,
	AGE_LINE_MAX = 64 * 1024,
	AGE_SSH_TAG_SIZE = 4,
	/* Unwrap result: the stanza is not for this identity. */
	AGE_UNWRAP_SKIP = 1,
};

enum age_key_type {
	AGE_KEY_X25519,
	AGE_KEY_SCRYPT,
	AGE_KEY_SSH_ED25519,
	AGE_KEY_SSH_RSA,
	AGE_KEY_MLKEM768X25519,      /* post-quantum hybrid (age1pq1...) */
};

struct age_recipient {
	enum age_key_type type;
	uint8_t pk[32];              /* X25519 point (native, or ed25519 mapped) */
	uint8_t *ssh_blob;           /* SSH wire-format public key */
	size_t ssh_blob_len;
	uint8_t ssh_tag[AGE_SSH_TAG_SIZE];
	EVP_PKEY *rsa;
	uint8_t *pq_pk;              /* MLKEM768-X25519 public key, 1216 bytes */
	uint8_t *passphrase;         /* secure memory */
	size_t passphrase_len;
	int log_n;
};

/* An X25519 identity's own point comes from its key file's "# public key:"
 * line when there is one (AGE_PK_HINTED), saving the scalar multiplication
 * a small `age -d` would spend on it (x25519.c checks it when a stanza does
 * not open with it). */
enum {
	AGE_PK_COMPUTED = 0,
	AGE_PK_HINTED,               /* the file's line, not yet found right */
	AGE_PK_HINT_RIGHT,           /* that line, found equal to the computed point */
	AGE_PK_HINT_WRONG,           /* it differed: computed on every use */
};

struct age_identity {
	enum age_key_type type;
	uint8_t *secret;             /* secure: X25519 scalar, hybrid seed, or the passphrase */
	size_t secret_len;
	uint8_t pk[32];              /* own X25519 point; see pk_hint */
	atomic_uchar pk_hint;        /* AGE_PK_*: whether pk is computed or the key file's word */
	uint8_t *ssh_blob;
	size_t ssh_blob_len;
	uint8_t ssh_tag[AGE_SSH_TAG_SIZE];
	EVP_PKEY *rsa;
	struct mlkem768x25519_key *pq; /* the hybrid seed expanded (secure) */
	struct age_ssh_locked *locked; /* a passphrase-protected ssh key (ssh.c) */
};

/* keys.c: an X25519 identity's own point. age_identity_true_pk computes
 * it whatever its key file said; age_identity_pk may take the file's word
 * (the salt of a stanza's key: then it returns true), and
 * age_identity_pk_recheck, called when a stanza did not open with that,
 * checks it: true, with pk set to the computed point, when the file's word
 * was wrong (try the stanza again). */
void age_identity_true_pk(const struct age_identity *id, uint8_t pk[32]);
bool age_identity_pk(const struct age_identity *id, uint8_t pk[32]);
bool age_identity_pk_recheck(const struct age_identity *id, uint8_t pk[32]);

/* bech32.c: BIP-173 Bech32 without the 90-character limit. */
int age_bech32_encode(const char *hrp, const uint8_t *data, size_t len, bool upper, char *out,
		      size_t cap) __attribute__((warn_unused_result));
/* Decodes s (NUL-terminated, one case only). hrp receives the lower-case
 * HRP; data receives up to data_cap bytes. Returns 0 or -1. */
int age_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data, size_t data_cap,
		      size_t *data_len) __attribute__((warn_unused_result));

/* A buffered source with peek and line reads over a gs_reader. */
struct age_bufin {
	struct gs_reader *src;
	uint8_t *buf;
	size_t cap, pos, len;
	size_t size;                 /* of buf: grown to cap when the input is larger */
	bool eof;
	uint64_t fetched;            /* bytes read from src so far */
};

int age_bufin_init(struct age_bufin *b, struct gs_reader *src, size_t cap)
	__attribute__((warn_unused_result));
void age_bufin_release(struct age_bufin *b);
/* Makes at least n bytes visible (fewer only at EOF); *avail says how many. */
int age_bufin_peek(struct age_bufin *b, size_t n, const uint8_t **p, size_t *avail)
	__attribute__((warn_unused_result));
/* Returns the next line without its LF. *found_lf is false when the input
 * ended first (the remaining bytes are returned). A line longer than the
 * buffer gives GS_ERR_LIMIT. */
int age_bufin_line(struct age_bufin *b, const uint8_t **line, size_t *len, bool *found_lf)
	__attribute__((warn_unused_result));
/* Reads up to n bytes, as many as the input has (like gs_read_full). */
int age_bufin_read(struct age_bufin *b, uint8_t *dst, size_t n, size_t *got)
	__attribute__((warn_unused_result));
struct gs_reader age_bufin_reader(struct age_bufin *b);
/* Bytes handed out so far: the offset in src of the next byte read. */
uint64_t age_bufin_position(const struct age_bufin *b);

/* header.c */
struct age_stanza {
	char **args;                 /* args[0] is the type */
	size_t argc;
	uint8_t *body;
	size_t body_len;
};

struct age_header {
	struct age_stanza *stanzas;
	size_t count;
	uint8_t mac[AGE_MAC_SIZE];
};

/* prepare.c: takes a header made ahead of time for r (with its file
 * key), when preparation is on and one is ready; false otherwise (and r
 * gets headers made for the next files). */
bool age_prepared_take(const struct age_recipient *r, uint8_t *file_key, struct age_header *h);

/* Parses the header from b, leaving b at the first payload byte. Syntax
 * errors are GS_ERR_AGE_HEADER; reader errors pass through. */
int age_header_parse(struct age_bufin *b, struct age_header *h) __attribute__((warn_unused_result));
void age_header_release(struct age_header *h);
int age_stanza_add(struct age_header *h, const char *const *args, size_t argc, const uint8_t *body,
		   size_t body_len) __attribute__((warn_unused_result));
/* Serialises the version line, the stanzas and "---" (the MAC input). */
int age_header_write_mac_input(const struct age_header *h, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* The whole header including " MAC\n". */
int age_header_write(const struct age_header *h, struct gs_buf *out)
	__attribute__((warn_unused_result));
int age_header_compute_mac(const struct age_header *h, const uint8_t *file_key,
			   uint8_t mac[AGE_MAC_SIZE]) __attribute__((warn_unused_result));

/* crypto helpers (header.c) */
int age_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		    const char *info, uint8_t *out, size_t out_len) __attribute__((warn_unused_result));
int age_aead_wrap(const uint8_t key[32], const uint8_t file_key[AGE_FILE_KEY_SIZE],
		  uint8_t out[AGE_WRAPPED_KEY_SIZE]);
/* 0, AGE_UNWRAP_SKIP when the tag does not verify, or a header error when
 * the body is not 32 bytes. */
int age_aead_unwrap(const uint8_t key[32], const uint8_t *body, size_t body_len,
		    uint8_t file_key[AGE_FILE_KEY_SIZE], const char *type) __attribute__((warn_unused_result));

/* stream.c: the STREAM payload. Its first AGE_STREAM_LARGE_FROM_CHUNK chunks
 * go through libsodium on the calling thread, the rest through OpenSSL and
 * stream_pipeline.c (named here for the tests, which probe both sides);
 * from chunk 0 when age_expect_payload said it is large and the cipher is
 * linked in. */
enum { AGE_STREAM_LARGE_FROM_CHUNK = 32 };
int age_stream_encrypt(const uint8_t file_key[AGE_FILE_KEY_SIZE], const uint8_t nonce[AGE_NONCE_SIZE],
		       struct gs_reader *in, struct gs_writer *out) __attribute__((warn_unused_result));
int age_stream_decrypt(const uint8_t file_key[AGE_FILE_KEY_SIZE], const uint8_t nonce[AGE_NONCE_SIZE],
		       struct age_bufin *in, struct gs_writer *out) __attribute__((warn_unused_result));
/* Waits for the loading age_expect_payload started, if any. */
void age_preload_wait(void);
/* True once that loading has ended (loaded or failed; at once with the
 * cipher linked in): the payload then moves on to OpenSSL after its next
 * chunk, whatever that chunk's number, or from its first. */
bool age_preload_done(void);

/* chacha_linked.c: ChaCha20-Poly1305 from OpenSSL's ChaCha20 and Poly1305
 * code linked into the binary, where the build has it (else stream.c goes
 * through EVP). A context per thread, in secure memory. */
struct age_linked_aead;
bool age_linked_aead_available(void);
/* For the tests, which run the EVP path too: off, it is not available. */
void age_linked_aead_turn_off(bool off);
int age_linked_aead_new(struct age_linked_aead **out, const uint8_t key[32]) __attribute__((warn_unused_result));
void age_linked_aead_free(struct age_linked_aead *a);
/* Seals the len bytes at buf in place and appends the tag. */
void age_linked_seal(struct age_linked_aead *a, const uint8_t nonce[12], uint8_t *buf, size_t len);
/* 0 when the chunk of ct_len bytes at buf authenticates, opened in place;
 * 1 when it does not, the bytes left as they were. */
int age_linked_open(struct age_linked_aead *a, const uint8_t nonce[12], uint8_t *buf, size_t ct_len)
	__attribute__((warn_unused_result));

/* stream_pipeline.c: the payload of a large file in batches of chunks,
 * read in order by the calling thread, sealed or opened by whichever of it
 * and an output thread is free, written in order by the output thread. */
enum {
	AGE_PIPELINE_BATCH_CHUNKS = 4,
	AGE_PIPELINE_BATCHES = 4,
	/* decryption: the chunks back to back, as read, from an address with
	 * the input offset's place in a cache line (stream.c, decrypt_fill) */
	AGE_PIPELINE_BATCH_SIZE = AGE_PIPELINE_BATCH_CHUNKS * AGE_CHUNK_CT_SIZE,
	/* encryption: each chunk's plaintext at a cache line's start
	 * (stream.c, encrypt_fill), the chunks AGE_PIPELINE_STRIDE apart */
	AGE_PIPELINE_LINE = 64,
	AGE_PIPELINE_STRIDE = (AGE_CHUNK_CT_SIZE + AGE_PIPELINE_LINE - 1) / AGE_PIPELINE_LINE * AGE_PIPELINE_LINE,
	AGE_PIPELINE_BATCH_ALLOC = AGE_PIPELINE_LINE + (AGE_PIPELINE_BATCH_CHUNKS - 1) * AGE_PIPELINE_STRIDE +
				   AGE_CHUNK_CT_SIZE,
	AGE_PIPELINE_COMPLETE = 1, /* drain: the stream is complete */
};

struct age_batch {
	uint8_t *data;               /* AGE_PIPELINE_BATCH_ALLOC bytes; the chunks sealed or opened in place */
	uint8_t *first;              /* decryption: where fill put the first chunk */
	size_t len[AGE_PIPELINE_BATCH_CHUNKS]; /* each chunk's bytes */
	size_t count;                /* chunks in the batch */
	uint64_t counter;            /* the first chunk's number (set by the pipeline) */
	bool end;                    /* fill: the input ends in this batch */
	bool failed;                 /* the pipeline: fill failed */
	/* transform's result: done chunks sealed, or opened and authentic (the
	 * last of them the final chunk of the stream when final is set); then
	 * a failure (error, why) at the next one */
	size_t done;
	bool final;
	int error;
	const char *why;
};

struct age_pipeline_ops {
	/* The calling thread, in order: reads the next batch, setting end when
	 * the input ends. */
	int (*fill)(void *ctx, struct age_batch *b);
	/* Either thread (worker 0 is the calling one, 1 the output thread). */
	void (*transform)(void *ctx, int worker, struct age_batch *b);
	/* The output thread, in order: 0 to go on, AGE_PIPELINE_COMPLETE, or
	 * an error; after a batch with end set the pipeline stops. */
	int (*drain)(void *ctx, struct age_batch *b);
};

/* Runs the batches from chunk number counter on; returns the first error
 * in the order of the input (from fill or drain), or 0. */
int age_pipeline_run(const struct age_pipeline_ops *ops, void *ctx, uint64_t counter)
	__attribute__((warn_unused_result));

/* armor.c */
struct age_armor_reader {
	struct age_bufin *in;
	uint8_t line[AGE_STANZA_LINE_BYTES];
	size_t line_pos, line_len;
	bool started, done;
	int err;
};

void age_armor_reader_init(struct age_armor_reader *a, struct age_bufin *in);
struct gs_reader age_armor_reader_as_reader(struct age_armor_reader *a);
/* True when the input, after whitespace, starts with "-" (the armor's
 * BEGIN line): a binary age file always starts with "age-". */
int age_armor_detect(struct age_bufin *in, bool *armored) __attribute__((warn_unused_result));

struct age_armor_writer {
	struct gs_writer *out;
	uint8_t pending[AGE_STANZA_LINE_BYTES];
	size_t pending_len;
	char *obuf;
	size_t olen, ocap;
};

int age_armor_writer_init(struct age_armor_writer *w, struct gs_writer *out)
	__attribute__((warn_unused_result));
struct gs_writer age_armor_writer_as_writer(struct age_armor_writer *w);
int age_armor_writer_finish(struct age_armor_writer *w) __attribute__((warn_unused_result));
void age_armor_writer_release(struct age_armor_writer *w);

/* x25519.c, scrypt.c, ssh.c, pq.c: stanza wrap and unwrap. Unwrap returns 0
 * with the file key, AGE_UNWRAP_SKIP, or a negative error. */
int age_x25519_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
	__attribute__((warn_unused_result));
int age_x25519_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
	__attribute__((warn_unused_result));
int age_scrypt_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
	__attribute__((warn_unused_result));
int age_scrypt_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
	__attribute__((warn_unused_result));
int age_scrypt_parse_log_n(const char *s, int *log_n) __attribute__((warn_unused_result));
int age_ssh_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
	__attribute__((warn_unused_result));
int age_ssh_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
	__attribute__((warn_unused_result));

int age_pq_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
	__attribute__((warn_unused_result));
int age_pq_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
	__attribute__((warn_unused_result));

/* ssh.c: key parsing. */
int age_ssh_recipient_parse(const char *text, struct age_recipient **out)
	__attribute__((warn_unused_result));
/* 1 when the line is a well-formed SSH key of an unsupported type. */
bool age_ssh_is_other_key_type(const char *text);
/* An OpenSSH or PEM private key; key_path: the file it was read from (a
 * protected PEM key's public key is in KEY.pub), NULL when none. */
int age_ssh_identity_parse(const char *text, size_t len, const char *source_name, const char *key_path,
			   struct age_identity **out) __attribute__((warn_unused_result));
int age_ssh_recipient_string(const struct age_identity *id, char *out, size_t cap)
	__attribute__((warn_unused_result));
void age_ssh_locked_free(struct age_ssh_locked *l);
/* The most bcrypt rounds a protected openssh-key-v1 key may ask for: ssh-keygen
 * writes 16 (-a N: N); more is refused when the key is read, before any work
 * (each round is about 8 ms of CPU: the cap is some 9 minutes). */
enum { AGE_SSH_BCRYPT_ROUNDS_MAX = 1 << 16 };
/* An openssh-key-v1 private section in the clear (check words, then the
 * key); unequal check words are a wrong passphrase when encrypted. */
/* A legacy encrypted PEM key ("Proc-Type: 4,ENCRYPTED") decrypted with
 * pass and read. */
int age_ssh_pem_legacy_parse(const char *text, size_t len, const char *source_name, const uint8_t *pass,
			     size_t pass_len, struct age_identity **out) __attribute__((warn_unused_result));
int age_ssh_private_section_parse(const uint8_t *data, size_t len, const char *source_name, bool encrypted,
				  struct age_identity **out) __attribute__((warn_unused_result));

/* bcrypt_pbkdf.c: OpenSSH's key derivation for passphrase-protected keys.
 * key_len up to 1024 bytes; rounds 1 or more. 0 or GS_ERR_KEY. */
int age_bcrypt_pbkdf(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		     unsigned rounds, uint8_t *key, size_t key_len) __attribute__((warn_unused_result));

/* keys.c */
struct age_recipient *age_recipient_new(enum age_key_type type);
struct age_identity *age_identity_new(enum age_key_type type, size_t secret_len);

/* age.c: decryption with an explicit armor choice. */
enum age_armor_mode { AGE_ARMOR_AUTO, AGE_ARMOR_YES, AGE_ARMOR_NO };
int age_decrypt_mode(const struct age_identity_list *ids, struct gs_reader *in, struct gs_writer *out,
		     enum age_armor_mode mode) __attribute__((warn_unused_result));

#endif
