/* libFuzzer target: full decryption (armor detection, header, unwrap,
 * MAC, STREAM) with the test kit's X25519 and post-quantum hybrid
 * identities, so X25519 and mlkem768x25519 stanzas are both unwrapped. No
 * passphrase identity: a fuzzed scrypt work factor would only measure
 * memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/age.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

#define TEST_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0\n" \
	"AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_write(void *ctx, const uint8_t *buf, size_t n)
{
	(void)buf;
	*(size_t *)ctx += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_identity_list ids;
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, data, size);
	size_t released = 0;
	struct gs_writer w = { count_write, &released, NULL };
	int ret;

	if (!ids.count) {
		if (gs_crypto_init() != 0 ||
		    age_identity_list_add_text(&ids, TEST_IDENTITY, strlen(TEST_IDENTITY), "fuzz") != 0)
			abort();
	}
	ret = age_decrypt(&ids, &r, &w);
	/* Only the payload layer may release anything before failing. */
	if (ret != 0 && ret != GS_ERR_AGE_PAYLOAD && released != 0)
		abort();
	if (ret != 0 && (ret < GS_ERR_AGE_PAYLOAD || ret > GS_ERR_AGE_ARMOR) && ret != GS_ERR_NOMEM)
		abort();
	(void)age_is_passphrase_file(data, size);
	(void)age_looks_like_age(data, size);
	return 0;
}
