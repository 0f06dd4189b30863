/* A name from a file or the user as a one-line message shows it
 * (gitseal/shown.h): each control byte, DEL, C1 control (U+0080..U+009F)
 * and byte of broken UTF-8 as \xNN, as git's core.quotePath escapes them;
 * in a name also the invisible format characters that reorder or break a
 * line (bidi controls, line separators: Go's strconv.Quote escapes them);
 * everything else as it is, so a plain path reads the same. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"

enum { SHOWN_MAX = 4 * 4096 + 4, SHOWN_RING = 4 };

/* How many bytes at s form one character shown as it is; 0 when its
 * first byte is shown escaped. */
static size_t plain_length(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
					  : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;

	if (s[0] < 0x20 || s[0] == 0x7f || (s[0] == 0xc2 && s[1] < 0xa0))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms and surrogates: broken UTF-8 */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) || (s[0] == 0xf0 && s[1] < 0x90) ||
	    (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/* Whether s starts with a character that shows nothing of its own but
 * moves or hides what follows: the bidirectional controls (U+061C,
 * U+200E, U+200F, U+202A..U+202E, U+2066..U+2069: "x\u202elmay.terces"
 * reads as "xsecret.yaml" in a browser, as Argo CD shows render's errors),
 * zero-width ones (U+200B..U+200D, U+2060..U+2064, U+FEFF) and the line
 * and paragraph separators (U+2028, U+2029: a line break to JavaScript
 * and YAML). Its bytes are then shown as \xNN. */
static bool invisible(const unsigned char *s)
{
	if (s[0] == 0xd8)
		return s[1] == 0x9c;
	if (s[0] == 0xef)
		return s[1] == 0xbb && s[2] == 0xbf;
	if (s[0] != 0xe2)
		return false;
	if (s[1] == 0x80)
		return (s[2] >= 0x8b && s[2] <= 0x8f) || (s[2] >= 0xa8 && s[2] <= 0xae);
	return s[1] == 0x81 && ((s[2] >= 0xa0 && s[2] <= 0xa4) || (s[2] >= 0xa6 && s[2] <= 0xa9));
}

/* How many bytes at s[0..left) form one character shown as it is; 0
 * when its first byte is shown escaped (in a name, an invisible one
 * too). s need not end with a NUL byte. */
static size_t plain_length_within(const char *s, size_t left, bool name)
{
	/* zero past the end: a character cut there is broken UTF-8 */
	unsigned char c[4] = { 0 };

	memcpy(c, s, left < sizeof(c) ? left : sizeof(c));
	return name && invisible(c) ? 0 : plain_length(c);
}

/* The next piece of s[0..left) as shown (at most 4 bytes of s, or one
 * escape) into out; how many bytes of s it covers. */
static size_t shown_piece(const char *s, size_t left, char out[static 5])
{
	size_t n = plain_length_within(s, left, true);

	if (!n) {
		snprintf(out, 5, "\\x%02x", (unsigned char)s[0]);
		return 1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

/* Each thread's ring is allocated on its first use: 64 KiB of
 * thread-local storage was zeroed in every process and thread gitseal
 * started, 16 page faults (about 0.15 ms on the bench's VM) before main
 * in every command, most of which never show a repository path. */
static pthread_key_t ring_key;
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;
static bool ring_key_made;

static void ring_key_make(void)
{
	ring_key_made = pthread_key_create(&ring_key, free) == 0;
}

/* Whether s[0..len) is shown as it is: every character plain, within the cap. */
static bool shown_unchanged(const char *s, size_t len)
{
	size_t n;

	if (len + 4 > SHOWN_MAX)
		return false;
	for (size_t i = 0; i < len; i += n)
		if (!(n = plain_length_within(s + i, len - i, true)))
			return false;
	return true;
}

/* s[0..len) as shown, in the thread's ring. */
static const char *shown_in_ring(const char *s, size_t len)
{
	static _Thread_local char (*ring)[SHOWN_MAX];
	static _Thread_local unsigned next;
	const char *end = s + len;
	char *out, piece[5];
	size_t used = 0;

	if (!ring) {
		pthread_once(&ring_key_once, ring_key_make);
		/* freed when the thread ends; the main thread's at exit */
		if (!ring_key_made || !(ring = gs_calloc(SHOWN_RING, SHOWN_MAX)) ||
		    pthread_setspecific(ring_key, ring) != 0) {
			free(ring);
			ring = NULL;
			return "(cannot show: out of memory)";
		}
	}
	out = ring[next++ % SHOWN_RING];
	while (s < end) {
		size_t n;

		s += shown_piece(s, (size_t)(end - s), piece);
		n = strlen(piece);
		if (used + n + 4 > SHOWN_MAX) {
			memcpy(out + used, "...", 3);
			used += 3;
			break;
		}
		memcpy(out + used, piece, n);
		used += n;
	}
	out[used] = '\0';
	return out;
}

const char *gs_shown(const char *s)
{
	size_t len;

	/* as glibc's printf shows a null "%s": a message naming an optional
	 * name (a file read from stdin) printed it so */
	if (!s)
		return "(null)";
	len = strlen(s);
	/* most names need no escape: no copy, and no ring in a process that
	 * shows only those */
	return shown_unchanged(s, len) ? s : shown_in_ring(s, len);
}

const char *gs_shown_n(const char *s, size_t len)
{
	return shown_in_ring(s, len);
}

const char *gs_shown_arg(const char *path)
{
	if (path && (strcasestr(path, "SECRET-KEY-") || strstr(path, "PRIVATE KEY")))
		return "(a secret key given as a file name: not shown)";
	return gs_shown(path);
}

int gs_shown_append(struct gs_buf *out, const char *s)
{
	size_t left = strlen(s);
	char piece[5];
	int ret = 0;

	while (left && !ret) {
		size_t n = shown_piece(s, left, piece);

		s += n;
		left -= n;
		ret = gs_buf_append_str(out, piece);
	}
	return ret;
}

int gs_shown_append_text(struct gs_buf *out, const uint8_t *s, size_t len)
{
	size_t start = 0, i = 0;

	while (i < len) {
		size_t n = s[i] == '\n' || s[i] == '\t' ? 1 : plain_length_within((const char *)s + i, len - i, false);

		if (n) {
			i += n;
			continue;
		}
		/* runs shown as they are are appended whole */
		if (gs_buf_append(out, s + start, i - start) || gs_buf_printf(out, "\\x%02x", s[i]))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		start = ++i;
	}
	return gs_buf_append(out, s + start, len - start) ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
}
