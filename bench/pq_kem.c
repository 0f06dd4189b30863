/* Operations per second of gitseal's post-quantum hybrid KEM, as the age
 * layer uses it: keygen (a fresh seed expanded, its age1pq1 recipient
 * encoded), encapsulate (a file key wrapped for a parsed recipient: HPKE
 * seal over MLKEM768-X25519) and decapsulate (unwrapped by an identity,
 * its seed expanded once when the identity was loaded; and, to compare
 * with peers that expand per call, expansion included).
 * usage: pq_kem [SECONDS per measurement, default 1]
 * Prints "name ops_per_second" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "gitseal/age.h"
#include "gitseal/error.h"
#include "gitseal/pq.h"
#include "gitseal/secmem.h"

#define INFO "age-encryption.org/mlkem768x25519"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "pq_kem: %s: %s\n", what, gs_error_message());
	exit(1);
}

struct state {
	struct mlkem768x25519_key *key;
	uint8_t seed[32], file_key[16], enc[MLKEM768X25519_ENC_SIZE], body[32];
	char *recipient;
};

static void op_keygen(struct state *s)
{
	struct age_identity *id;

	if (age_identity_generate_pq(&id) || age_identity_recipient_string(id, s->recipient, 4096))
		die("keygen");
	age_identity_free(id);
}

static void op_encap(struct state *s)
{
	if (hpke_seal(mlkem768x25519_key_public(s->key), INFO, s->file_key, 16, s->enc, s->body))
		die("encapsulate");
}

static void op_decap(struct state *s)
{
	uint8_t out[16];

	if (hpke_open(s->key, INFO, s->enc, s->body, 32, out) || memcmp(out, s->file_key, 16))
		die("decapsulate");
}

static void op_decap_expand(struct state *s)
{
	struct mlkem768x25519_key *k;
	uint8_t out[16];

	if (mlkem768x25519_key_expand(s->seed, &k) || hpke_open(k, INFO, s->enc, s->body, 32, out))
		die("decapsulate");
	mlkem768x25519_key_free(k);
}

static void measure(const char *name, void (*op)(struct state *), struct state *s, double seconds)
{
	double start = now(), t;
	long n = 0;

	do {
		for (int i = 0; i < 16; i++)
			op(s);
		n += 16;
		t = now() - start;
	} while (t < seconds);
	printf("%s %.0f\n", name, (double)n / t);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	struct state s;

	if (gs_crypto_init())
		die("init");
	s.recipient = malloc(4096);
	randombytes_buf(s.seed, sizeof(s.seed));
	randombytes_buf(s.file_key, sizeof(s.file_key));
	if (mlkem768x25519_key_expand(s.seed, &s.key))
		die("expand");
	op_encap(&s);
	measure("keygen", op_keygen, &s, seconds);
	measure("encapsulate", op_encap, &s, seconds);
	measure("decapsulate", op_decap, &s, seconds);
	measure("decapsulate+expand", op_decap_expand, &s, seconds);
	mlkem768x25519_key_free(s.key);
	free(s.recipient);
	return 0;
}
