/* Bech32 (BIP-173, checksum constant 1) as age uses it (spec §9.1): no
 * length limit, one case per string, HRP up to the last '1'. */
#include <string.h>

#include <sodium.h>

#include "age_int.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint32_t top = chk >> 25;
	int i;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t hrp_checksum(const char *hrp, size_t n)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)(hrp[i] >> 5));
	chk = polymod_step(chk, 0);
	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)(hrp[i] & 31));
	return chk;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int age_bech32_encode(const char *hrp, const uint8_t *data, size_t len, bool up, char *out, size_t cap)
{
	size_t hrp_len = strlen(hrp), n5 = (len * 8 + 4) / 5, o = 0, i;
	uint32_t chk, acc = 0;
	int bits = 0;
	uint8_t v;

	if (cap < hrp_len + 1 + n5 + 6 + 1)
		return -1;
	for (i = 0; i < hrp_len; i++) {
		if (hrp[i] < 33 || hrp[i] > 126)
			return -1;
		out[o++] = up ? upper(hrp[i]) : lower(hrp[i]);
	}
	/* The checksum is always over the lower-case HRP. */
	{
		char lhrp[128];

		if (hrp_len >= sizeof(lhrp))
			return -1;
		for (i = 0; i < hrp_len; i++)
			lhrp[i] = lower(hrp[i]);
		chk = hrp_checksum(lhrp, hrp_len);
	}
	out[o++] = '1';
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			v = (uint8_t)((acc >> bits) & 31);
			chk = polymod_step(chk, v);
			out[o++] = up ? upper(charset[v]) : charset[v];
		}
		acc &= 0xff;
	}
	if (bits > 0) {
		v = (uint8_t)((acc << (5 - bits)) & 31);
		chk = polymod_step(chk, v);
		out[o++] = up ? upper(charset[v]) : charset[v];
	}
	for (i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (i = 0; i < 6; i++) {
		v = (uint8_t)((chk >> (5 * (5 - i))) & 31);
		out[o++] = up ? upper(charset[v]) : charset[v];
	}
	out[o] = '\0';
	acc = 0;
	v = 0;
	return 0;
}

int age_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data, size_t data_cap,
		      size_t *data_len)
{
	size_t len = strlen(s), sep = 0, i, o = 0;
	bool has_lower = false, has_upper = false, found = false;
	uint32_t chk, acc = 0;
	int bits = 0, ret = -1;
	const char *p;
	uint8_t v;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c < 33 || c > 126)
			return -1;
		if (c >= 'a' && c <= 'z')
			has_lower = true;
		if (c >= 'A' && c <= 'Z')
			has_upper = true;
		if (c == '1') {
			sep = i;
			found = true;
		}
	}
	if (!found || (has_lower && has_upper) || sep == 0 || len - sep - 1 < 6 || sep >= hrp_cap)
		return -1;
	for (i = 0; i < sep; i++)
		hrp[i] = lower(s[i]);
	hrp[sep] = '\0';
	chk = hrp_checksum(hrp, sep);
	for (i = sep + 1; i < len; i++) {
		p = strchr(charset, lower(s[i]));
		if (!p || *p == '\0')
			goto out;
		v = (uint8_t)(p - charset);
		chk = polymod_step(chk, v);
		if (i >= len - 6)
			continue;
		acc = ((acc << 5) | v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= data_cap)
				goto out;
			data[o++] = (uint8_t)((acc >> bits) & 0xff);
		}
	}
	if (chk != 1)
		goto out;
	/* Leftover bits must be fewer than 5 and all zero. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		goto out;
	*data_len = o;
	ret = 0;
out:
	if (ret && o)
		sodium_memzero(data, o);
	acc = 0;
	return ret;
}
