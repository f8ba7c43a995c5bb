/* One decoder, two policies: what an XML 1.0 document may hold and what a
 * terminal may be sent differ only in which code points are replaced and by
 * what. */
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The code point at s (length *len), or -1 for a byte that does not start a
 * valid UTF-8 sequence (overlong forms, surrogates and values past
 * U+10FFFF included); *len is then 1. */
static int32_t utf8_next(const unsigned char *s, size_t *len)
{
	static const struct { unsigned char mask, lead; int n; int32_t min; } forms[] = {
		{ 0x80, 0x00, 1, 0 }, { 0xe0, 0xc0, 2, 0x80 },
		{ 0xf0, 0xe0, 3, 0x800 }, { 0xf8, 0xf0, 4, 0x10000 },
	};

	*len = 1;
	for (size_t f = 0; f < 4; f++) {
		int32_t cp;

		if ((s[0] & forms[f].mask) != forms[f].lead)
			continue;
		cp = s[0] & (unsigned char)~forms[f].mask;
		for (int i = 1; i < forms[f].n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (cp < forms[f].min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		*len = (size_t)forms[f].n;
		return cp;
	}
	return -1;
}

/* ESC [ parameters intermediates final: the length of a whole CSI sequence
 * at s, 0 when s does not start one. */
static size_t csi_len(const unsigned char *s)
{
	size_t i = 2;

	if (s[0] != 0x1b || s[1] != '[')
		return 0;
	while (s[i] >= 0x30 && s[i] <= 0x3f)
		i++;
	while (s[i] >= 0x20 && s[i] <= 0x2f)
		i++;
	return s[i] >= 0x40 && s[i] <= 0x7e ? i + 1 : 0;
}

static bool xml_ok(int32_t cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static bool term_ok(int32_t cp)
{
	return cp == 0x9 || cp == 0xa || (cp >= 0x20 && cp < 0x7f) || cp >= 0xa0;
}

static char *clean(const char *in, bool (*ok)(int32_t), const char *repl)
{
	const unsigned char *s = (const unsigned char *)in;
	struct buf b = { 0 };

	if (!in)
		return NULL;
	buf_puts(&b, "");
	while (*s) {
		size_t n = csi_len(s);
		int32_t cp;

		if (n) {
			s += n;
			continue;
		}
		cp = utf8_next(s, &n);
		if (cp >= 0 && ok(cp))
			buf_append(&b, s, n);
		else
			buf_puts(&b, repl);
		s += n;
	}
	return buf_steal(&b);
}

char *text_xml(const char *s)
{
	return clean(s, xml_ok, "\xef\xbf\xbd");
}

char *text_term(const char *s)
{
	return clean(s, term_ok, "?");
}

const char *tt(const char *s)
{
	static __thread char *ring[8];
	static __thread unsigned next;
	unsigned i = next++ % 8;

	free(ring[i]);
	ring[i] = text_term(s ? s : "");
	return ring[i];
}
