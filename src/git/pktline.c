/* pkt-line framing (gitprotocol-common(5)): a 4-hex-digit length that
 * counts itself, then the data; "0000" is a flush packet. */
#include <string.h>

#include "gitseal/error.h"
#include "git_int.h"

void pkt_reader_init(struct pkt_reader *r, struct gs_reader *in)
{
	r->in = in;
	r->len = 0;
	r->data[0] = '\0';
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pkt_read(struct pkt_reader *r, enum pkt_kind *kind)
{
	uint8_t head[PKT_HEADER_SIZE];
	size_t got, len = 0;
	int ret;

	r->len = 0;
	r->data[0] = '\0';
	ret = gs_read_full(r->in, head, sizeof(head), &got);
	if (ret)
		return ret;
	if (got == 0) {
		*kind = PKT_EOF;
		return 0;
	}
	if (got < sizeof(head))
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: input ends inside a length");
	for (size_t i = 0; i < sizeof(head); i++) {
		int v = hex_value(head[i]);

		if (v < 0)
			return GS_FAIL(GS_ERR_PARSE, "pkt-line: length is not hexadecimal");
		len = len << 4 | (size_t)v;
	}
	if (len == 0) {
		*kind = PKT_FLUSH;
		return 0;
	}
	/* 0001 (delim) and 0002 (response end) belong to protocol v2 of the
	 * transport, never to the filter protocol; 0003 is never valid. */
	if (len < PKT_HEADER_SIZE)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: special packet %04zx not allowed here", len);
	if (len > PKT_MAX_LEN)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: packet of %zu bytes exceeds %d", len, PKT_MAX_LEN);
	len -= PKT_HEADER_SIZE;
	ret = gs_read_full(r->in, r->data, len, &got);
	if (ret)
		return ret;
	if (got < len)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: input ends inside a packet");
	r->data[len] = '\0';
	r->len = len;
	*kind = PKT_DATA;
	return 0;
}

int pkt_read_text(struct pkt_reader *r, bool flush_ok, bool *is_flush)
{
	enum pkt_kind kind;
	int ret = pkt_read(r, &kind);

	if (ret)
		return ret;
	if (is_flush)
		*is_flush = false;
	if (kind == PKT_FLUSH && flush_ok) {
		*is_flush = true;
		return 0;
	}
	if (kind != PKT_DATA)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: expected a text packet, got %s",
			       kind == PKT_FLUSH ? "a flush" : "the end of input");
	if (r->len && r->data[r->len - 1] == '\n')
		r->data[--r->len] = '\0';
	if (memchr(r->data, '\0', r->len))
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: text packet holds a NUL byte");
	return 0;
}

int pkt_write_data(struct pkt_writer *w, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t head[PKT_HEADER_SIZE];
	size_t len = n + PKT_HEADER_SIZE;
	int ret;

	if (n == 0 || n > PKT_MAX_DATA)
		return GS_FAIL(GS_ERR_LIMIT, "pkt-line: cannot write a packet of %zu bytes", n);
	for (int i = PKT_HEADER_SIZE - 1; i >= 0; i--) {
		head[i] = (uint8_t)digits[len & 0xf];
		len >>= 4;
	}
	ret = w->out->write(w->out->ctx, head, sizeof(head));
	if (!ret)
		ret = w->out->write(w->out->ctx, data, n);
	return ret;
}

int pkt_write_text(struct pkt_writer *w, const char *text)
{
	char line[256];
	size_t n = strlen(text);

	if (n + 1 > sizeof(line))
		return GS_FAIL(GS_ERR_LIMIT, "pkt-line: text packet too long");
	memcpy(line, text, n);
	line[n++] = '\n';
	return pkt_write_data(w, line, n);
}

int pkt_write_flush(struct pkt_writer *w)
{
	return w->out->write(w->out->ctx, (const uint8_t *)"0000", PKT_HEADER_SIZE);
}

int pkt_write_stream(struct pkt_writer *w, const uint8_t *data, size_t len)
{
	int ret = 0;

	while (len && !ret) {
		size_t n = len < PKT_MAX_DATA ? len : PKT_MAX_DATA;

		ret = pkt_write_data(w, data, n);
		data += n;
		len -= n;
	}
	return ret;
}

int pkt_writer_push(struct pkt_writer *w)
{
	return w->flush ? w->flush(w->flush_ctx) : 0;
}
