/* libFuzzer: what the PGP key source parses itself: the armor check that
 * guards gpg's parsers, the line kept from gpg's stderr, fingerprints. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/pgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_armor(const char *text, size_t size)
{
	int ret = pgp_armor_check(text, size);

	if (ret != 0 && ret != GS_ERR_PARSE)
		abort();
	/* accepted: the header and the tail line are there */
	if (ret == 0 && (!memmem(text, size, "-----BEGIN PGP MESSAGE-----", 27) ||
			 !memmem(text, size, "-----END PGP MESSAGE-----", 25) || size > PGP_ARMOR_MAX))
		abort();
}

static void check_reason(const char *text, size_t size)
{
	char reason[PGP_REASON_MAX + 8];
	size_t n;

	memset(reason, 'x', sizeof(reason));
	pgp_stderr_reason(text, size, reason, sizeof(reason));
	n = strnlen(reason, sizeof(reason));
	if (n > PGP_REASON_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)reason[i] < 0x20 || (unsigned char)reason[i] > 0x7e)
			abort();
}

static void check_fingerprint(const char *text)
{
	char *fp = NULL;

	if (pgp_fingerprint_parse(text, &fp) != 0) {
		if (fp)
			abort();
		return;
	}
	for (const char *p = fp; *p; p++)
		if (!strchr("0123456789abcdefABCDEFxX!", *p))
			abort();
	free(fp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *text;

	if (!ready) {
		if (gs_crypto_init() != 0)
			abort();
		ready = 1;
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_armor(text, size);
	check_reason(text, size);
	check_fingerprint(text);
	free(text);
	return 0;
}
