/* The floor of any long-running filter process: git's filter protocol
 * (gitprotocol-long-running-process(5), version 2), clean and smudge
 * each answering with the file's own bytes. bench/git_bench.sh times git
 * with it beside gitseal and plain git: what git itself spends on a
 * process filter (the pipe, one request and answer per file, no stat
 * shortcut for a filtered file) is not gitseal's to cut.
 * usage (as git's filter.<name>.process): noop_filter */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PACKET = 65520, HEADER = 4 };

static unsigned char packet[MAX_PACKET + 1];

static void die(const char *what)
{
	fprintf(stderr, "noop_filter: %s\n", what);
	exit(1);
}

/* The next packet's data length, -1 for a flush, -2 at the end of input. */
static long read_packet(void)
{
	char head[HEADER + 1];
	long len;
	char *end;

	if (fread(head, 1, HEADER, stdin) != HEADER)
		return feof(stdin) ? -2 : (die("cannot read a packet length"), 0);
	head[HEADER] = '\0';
	len = strtol(head, &end, 16);
	if (*end || len > MAX_PACKET || (len > 0 && len < HEADER))
		die("bad packet length");
	if (len == 0)
		return -1;
	len -= HEADER;
	if (fread(packet, 1, (size_t)len, stdin) != (size_t)len)
		die("input ends inside a packet");
	packet[len] = '\0';
	return len;
}

static void write_packet(const void *data, size_t len)
{
	if (printf("%04zx", len + HEADER) < 0 || fwrite(data, 1, len, stdout) != len)
		die("cannot write to git");
}

static void write_text(const char *text)
{
	write_packet(text, strlen(text));
}

static void write_flush(void)
{
	if (fputs("0000", stdout) < 0)
		die("cannot write to git");
}

static void skip_to_flush(void)
{
	long n;

	while ((n = read_packet()) >= 0)
		;
	if (n == -2)
		die("input ends inside a list");
}

int main(void)
{
	static unsigned char *content;
	static size_t cap;
	long n;

	if (read_packet() < 0 || strcmp((char *)packet, "git-filter-client\n"))
		die("expected git-filter-client");
	skip_to_flush(); /* version=2 (git offers no other) */
	write_text("git-filter-server\n");
	write_text("version=2\n");
	write_flush();
	fflush(stdout); /* git answers with its capabilities only then */
	skip_to_flush(); /* capabilities: clean and smudge are always offered */
	write_text("capability=clean\n");
	write_text("capability=smudge\n");
	write_flush();
	fflush(stdout);
	while ((n = read_packet()) != -2) {
		size_t len = 0;

		if (n < 0)
			die("expected a command");
		skip_to_flush(); /* pathname=..., the command was read */
		while ((n = read_packet()) >= 0) {
			if (len + (size_t)n > cap) {
				cap = (len + (size_t)n) * 2;
				if (!(content = realloc(content, cap)))
					die("out of memory");
			}
			memcpy(content + len, packet, (size_t)n);
			len += (size_t)n;
		}
		if (n == -2)
			die("input ends inside a file");
		write_text("status=success\n");
		write_flush();
		for (size_t at = 0; at < len; at += MAX_PACKET - HEADER)
			write_packet(content + at, len - at < MAX_PACKET - HEADER ? len - at : MAX_PACKET - HEADER);
		write_flush();
		write_flush(); /* the status stands */
		fflush(stdout);
	}
	return 0;
}
