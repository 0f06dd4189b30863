/* Duplicate-key detection for the stores' loaders. A linear scan per key
 * makes a map of n keys cost n^2/2 comparisons (200,000 keys: minutes);
 * a hash set of entry indices keeps it linear. The hash is keyed SipHash
 * with a random key, so a hostile file cannot choose colliding keys. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "store_int.h"

/* below this many entries a scan is cheaper than a table */
enum { KEYSET_SCAN_MAX = 16 };

static size_t key_hash(const struct store_keyset *s, const char *key, size_t len)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, len, s->hash_key);
	return (size_t)h;
}

static bool entry_is(const struct doc_entry *e, const char *key, size_t len)
{
	/* an empty key may come as a NULL pointer */
	return e->key && e->key_len == len && (len == 0 || memcmp(e->key, key, len) == 0);
}

static void slot_put(struct store_keyset *s, const struct doc_node *map, size_t idx)
{
	const struct doc_entry *e = &map->entries[idx];
	size_t i = key_hash(s, e->key, e->key_len) & (s->nslots - 1);

	while (s->slots[i])
		i = (i + 1) & (s->nslots - 1);
	s->slots[i] = idx + 1;
	s->used++;
}

static int grow(struct store_keyset *s, const struct doc_node *map, size_t want)
{
	size_t n = s->nslots ? s->nslots : 64;

	while (n < want * 2)
		n *= 2;
	if (n == s->nslots)
		return 0;
	free(s->slots);
	s->slots = gs_calloc(n, sizeof(*s->slots));
	if (!s->slots) {
		s->nslots = 0;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	if (!s->nslots)
		randombytes_buf(s->hash_key, sizeof(s->hash_key));
	s->nslots = n;
	s->used = 0;
	for (size_t i = 0; i < s->synced; i++) {
		if (map->entries[i].key)
			slot_put(s, map, i);
	}
	return 0;
}

void store_keyset_init(struct store_keyset *s)
{
	memset(s, 0, sizeof(*s));
}

void store_keyset_release(struct store_keyset *s)
{
	free(s->slots);
	sodium_memzero(s, sizeof(*s));
}

int store_keyset_has(struct store_keyset *s, const struct doc_node *map, const char *key, size_t len)
{
	size_t i;
	int ret;

	if (map->count <= KEYSET_SCAN_MAX && !s->nslots) {
		for (i = 0; i < map->count; i++) {
			if (entry_is(&map->entries[i], key, len))
				return 1;
		}
		return 0;
	}
	/* entries are only ever appended while a map is loaded: add the new ones */
	if (s->synced > map->count) {
		store_keyset_release(s);
		store_keyset_init(s);
	}
	if ((ret = grow(s, map, map->count + 1)))
		return ret;
	for (; s->synced < map->count; s->synced++) {
		if (map->entries[s->synced].key)
			slot_put(s, map, s->synced);
	}
	for (i = key_hash(s, key, len) & (s->nslots - 1); s->slots[i]; i = (i + 1) & (s->nslots - 1)) {
		if (entry_is(&map->entries[s->slots[i] - 1], key, len))
			return 1;
	}
	return 0;
}
