/* libFuzzer: the git filter's scans of a file's text before it is sealed:
 * the block-scalar step of a flat YAML file (the metadata's indentation),
 * a dotenv file's CRLF line ends taken as LF, and a whole set of conflict
 * markers (a binary-store file's conflict); whether a text holds two sops
 * MACs (a union merge's, which the smudge asks the attributes about); and
 * the text textconv shows (no byte that steers a terminal). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/gitfilter.h"
#include "gitseal/secmem.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "../../src/git/gitfilter_int.h"

static void check_step(const uint8_t *data, size_t size)
{
	struct gs_buf text;
	int step;

	gs_buf_init(&text, false);
	if (gs_buf_append(&text, data, size))
		abort();
	step = store_yaml_flat_block_step(&text);
	/* an indentation indicator is one digit */
	if (step < 0 || step > 9 || step != store_yaml_flat_block_step(&text))
		abort();
	/* a step comes from an indented line: none in a text without one */
	if (step && !memmem(data, size, "\n ", 2))
		abort();
	gs_buf_release(&text);
}

static void check_lf(const uint8_t *data, size_t size)
{
	const uint8_t *in = data;
	struct gs_buf norm;
	size_t len = size, j = 0;

	gs_buf_init(&norm, true);
	if (gitfilter_dotenv_lf(&in, &len, &norm))
		abort();
	if (in == data && (len != size || memmem(data, size, "\r\n", 2)))
		abort();
	/* the same bytes, each CR that ends a line left out */
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
			continue;
		if (j >= len || in[j++] != data[i])
			abort();
	}
	/* ("\r\r\n" keeps one CR, as git's own conversion does) */
	if (j != len)
		abort();
	gs_buf_release(&norm);
}

enum { MARKED_MAX_LINES = 64 };

/* A line's kind as a marker ('<', '=', '>', or 0), by the rule spelled out:
 * seven of the character, alone or ('<', '>') followed by a space. */
static char marker_kind(const uint8_t *line, size_t n)
{
	static const char *const runs[] = { "<<<<<<<", "=======", ">>>>>>>" };

	if (n && line[n - 1] == '\n')
		n--;
	for (int i = 0; i < 3; i++) {
		if (n < 7 || memcmp(line, runs[i], 7))
			continue;
		if (n == 7 || (i != 1 && line[7] == ' '))
			return runs[i][0];
	}
	return 0;
}

/* The reference: any three lines, in order, of the kinds '<', '=', '>'. */
static bool marked_reference(const uint8_t *data, size_t size, bool *known)
{
	char kind[MARKED_MAX_LINES];
	size_t lines = 0;

	for (const uint8_t *p = data, *end = data + size; p < end; lines++) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

		if (lines == MARKED_MAX_LINES) {
			*known = false;
			return false;
		}
		kind[lines] = marker_kind(p, n);
		p += n;
	}
	*known = true;
	for (size_t i = 0; i < lines; i++)
		for (size_t j = i + 1; kind[i] == '<' && j < lines; j++)
			for (size_t k = j + 1; kind[j] == '=' && k < lines; k++)
				if (kind[k] == '>')
					return true;
	return false;
}

static void check_marked(const uint8_t *data, size_t size)
{
	bool known, marked = gitseal_conflict_marked(data, size);
	bool want = marked_reference(data, size, &known);
	const uint8_t *cut = memchr(data, '\n', size);

	if (known && marked != want)
		abort();
	/* lines added after a marked text's last line leave it marked */
	if (cut && gitseal_conflict_marked(data, (size_t)(cut - data)) && !marked)
		abort();
}

/* The reference: at each offset, "mac", an optional '"', blanks, ':' or
 * '=', blanks and quotes, then "ENC["; two such places. */
static bool joined_reference(const uint8_t *data, size_t size)
{
	unsigned found = 0;

	for (size_t i = 0; i + 3 <= size; i++) {
		size_t q = i + 3;

		if (memcmp(data + i, "mac", 3))
			continue;
		q += q < size && data[q] == '"';
		while (q < size && (data[q] == ' ' || data[q] == '\t'))
			q++;
		if (q == size || (data[q] != ':' && data[q] != '='))
			continue;
		for (q++; q < size && (data[q] == ' ' || data[q] == '\t' || data[q] == '"'); q++)
			;
		if (size - q >= 4 && !memcmp(data + q, "ENC[", 4) && ++found == 2)
			return true;
	}
	return false;
}

static void check_joined(const uint8_t *data, size_t size)
{
	bool joined = gitattrs_maybe_joined(data, size);

	if (joined != joined_reference(data, size))
		abort();
	/* a text that holds two holds them with anything after it */
	if (size && gitattrs_maybe_joined(data, size - 1) && !joined)
		abort();
}

/* What textconv prints: no control byte but line ends and tabs, no DEL,
 * no C1 control (U+0080..U+009F), valid UTF-8 (a character cut at the end
 * too), each line end and tab of the text kept, every byte of the text
 * kept or escaped. */
static void check_shown(const uint8_t *data, size_t size)
{
	struct gs_buf shown;
	size_t kept = 0, given = 0;

	gs_buf_init(&shown, false);
	if (gs_shown_append_text(&shown, data, size))
		abort();
	for (size_t i = 0; i < shown.len;) {
		uint8_t c = shown.data[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || !n || i + n > shown.len ||
		    (c == 0xc2 && shown.data[i + 1] < 0xa0))
			abort();
		for (size_t k = 1; k < n; k++)
			if ((shown.data[i + k] & 0xc0) != 0x80)
				abort();
		kept += c == '\n' || c == '\t';
		i += n;
	}
	for (size_t i = 0; i < size; i++)
		given += data[i] == '\n' || data[i] == '\t';
	if (kept != given || shown.len < size)
		abort();
	gs_buf_release(&shown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;

	if (!initialized) {
		if (sodium_init() < 0)
			abort();
		initialized = 1;
	}
	check_step(data, size);
	check_lf(data, size);
	check_marked(data, size);
	check_joined(data, size);
	check_shown(data, size);
	return 0;
}
