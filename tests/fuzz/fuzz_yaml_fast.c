/* yaml_fast.c against libyaml: for any input, yfast_parse either declines
 * it or gives exactly the events libyaml gives for it (types, marks'
 * index, values, styles, implicit flags, no tag or anchor: what the loader
 * reads of an event, yfast_compare). Seeds: files gitseal and sops wrote. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <yaml.h>

#include "../../src/store/yaml_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yfast_event *ev;
	size_t n;
	char why[512];
	int ret = yfast_parse(data, size, &ev, &n);

	if (ret < 0)
		return 0; /* out of memory: declined, libyaml reads it */
	if (ret == 0) {
		if (ev || n)
			abort();
		return 0;
	}
	if (!yfast_may_take(data, size)) {
		fprintf(stderr, "yfast_parse took a text yfast_may_take declines\n");
		abort();
	}
	if ((ret = yfast_compare(data, size, ev, n, why, sizeof(why))) > 0) {
		fprintf(stderr, "yaml_fast: %s\n", why);
		abort();
	}
	yfast_free(ev, n);
	return 0;
}
