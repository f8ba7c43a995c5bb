/* A strict reader for the xl.cfg subset of xlcfg.h.
 *
 * Why not Xen's libxlutil (xlu_cfg_readfile and friends)? Its public API
 * looks keys up by name only: it cannot list the keys a file sets, nor say
 * on which line a key is. Adopting a file (`xlab guest create --from-xl`)
 * must refuse every key it cannot honour with FILE:LINE, and pass the rest
 * through, so it needs both. libxlutil also pulls in libxenlight and the
 * whole Xen toolstack on the machine that runs xlab, which is not a dom0. */
#include "xlcfg.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct lex {
	const char *path, *p;
	int line;
	struct xerr *e;
};

static int lex_err(struct lex *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int lex_err(struct lex *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xerr_set(l->e, XERR_USAGE, "%s:%d: %s", l->path, l->line, msg);
}

/* Skips blanks and comments; newlines too when `lines` (inside a list). */
static void skip(struct lex *l, bool lines)
{
	for (;;) {
		if (*l->p == ' ' || *l->p == '\t' || *l->p == '\r') {
			l->p++;
		} else if (*l->p == '#') {
			while (*l->p && *l->p != '\n')
				l->p++;
		} else if (lines && *l->p == '\n') {
			l->p++;
			l->line++;
		} else {
			return;
		}
	}
}

static int escape(struct lex *l, struct buf *b)
{
	static const char from[] = "nrt\\\"'", to[] = "\n\r\t\\\"'";
	const char *hit = *l->p ? strchr(from, *l->p) : NULL;

	if (hit) {
		buf_append(b, &to[hit - from], 1);
		l->p++;
		return 0;
	}
	if (*l->p == 'x' && isxdigit((unsigned char)l->p[1]) && isxdigit((unsigned char)l->p[2])) {
		char hex[3] = { l->p[1], l->p[2], 0 }, ch = (char)strtol(hex, NULL, 16);

		/* Strings end at their first NUL everywhere after this: one here
		 * would silently cut the value short. */
		if (ch == 0)
			return lex_err(l, "'\\x00' (NUL) cannot be in a string");
		buf_append(b, &ch, 1);
		l->p += 3;
		return 0;
	}
	return lex_err(l, "unknown escape '\\%c' in a string", *l->p ? *l->p : ' ');
}

/* '...' holds its text as is; "..." knows \n \r \t \\ \" \' \xHH. */
static int string(struct lex *l, char **out)
{
	char quote = *l->p++;
	struct buf b = { 0 };

	buf_puts(&b, "");
	while (*l->p != quote) {
		if (!*l->p || *l->p == '\n') {
			buf_free(&b);
			return lex_err(l, "string not closed (missing %c)", quote);
		}
		if (quote == '"' && *l->p == '\\') {
			l->p++;
			if (escape(l, &b) < 0) {
				buf_free(&b);
				return -1;
			}
			continue;
		}
		buf_append(&b, l->p++, 1);
	}
	l->p++;
	*out = buf_steal(&b);
	return 0;
}

/* Decimal or 0x hex, as xl reads numbers (strtol base 0). */
static bool number_ok(const char *s)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return s[2] && strspn(s + 2, "0123456789abcdefABCDEF") == strlen(s + 2);
	return strspn(s, "0123456789") == strlen(s);
}

static int number(struct lex *l, char **out)
{
	const char *s = l->p;

	while (isalnum((unsigned char)*l->p))
		l->p++;
	*out = xstrndup(s, (size_t)(l->p - s));
	if (!number_ok(*out)) {
		int rc = lex_err(l, "'%s' is not a number", *out);

		free(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

static int scalar(struct lex *l, enum xlcfg_type *type, char **out)
{
	if (*l->p == '"' || *l->p == '\'') {
		*type = XLCFG_STRING;
		return string(l, out);
	}
	if (isdigit((unsigned char)*l->p)) {
		*type = XLCFG_NUMBER;
		return number(l, out);
	}
	if (*l->p == '[')
		return lex_err(l, "a list inside a list is not supported");
	return lex_err(l, "expected a \"string\", 'string', number or [ list ]");
}

static int list(struct lex *l, struct xlcfg_entry *en)
{
	l->p++;
	for (;;) {
		enum xlcfg_type t;
		char *item;
		int line;

		skip(l, true);
		if (*l->p == ']')
			break;
		line = l->line;
		if (scalar(l, &t, &item) < 0)
			return -1;
		en->items = xrealloc(en->items, (en->n_items + 2) * sizeof(char *));
		en->item_lines = xrealloc(en->item_lines, (en->n_items + 1) * sizeof(int));
		en->item_lines[en->n_items] = line;
		en->items[en->n_items++] = item;
		en->items[en->n_items] = NULL;
		skip(l, true);
		if (*l->p == ',') {
			l->p++;
		} else if (*l->p != ']') {
			return lex_err(l, "expected ',' or ']' in the list of '%s'", en->key);
		}
	}
	l->p++;
	if (!en->items)
		en->items = xcalloc(1, sizeof(char *));
	return 0;
}

static int key(struct lex *l, char **out)
{
	const char *s = l->p;

	if (!isalpha((unsigned char)*s) && *s != '_')
		return lex_err(l, "expected a key (a name like 'memory'), not '%c'", *s);
	while (isalnum((unsigned char)*l->p) || *l->p == '_')
		l->p++;
	*out = xstrndup(s, (size_t)(l->p - s));
	return 0;
}

static int setting(struct lex *l, struct xlcfg_entry *en)
{
	en->line = l->line;
	if (key(l, &en->key) < 0)
		return -1;
	skip(l, false);
	if (l->p[0] == '+' && l->p[1] == '=')
		return lex_err(l, "'%s +=' is not supported; give the whole value with '='",
			       en->key);
	if (*l->p != '=')
		return lex_err(l, "expected '=' after '%s'", en->key);
	l->p++;
	skip(l, false);
	if (*l->p == '[') {
		en->type = XLCFG_LIST;
		if (list(l, en) < 0)
			return -1;
	} else if (scalar(l, &en->type, &en->value) < 0) {
		return -1;
	}
	skip(l, false);
	if (*l->p && *l->p != '\n' && *l->p != ';')
		return lex_err(l, "unexpected '%c' after the value of '%s'", *l->p, en->key);
	return 0;
}

static void entry_free(struct xlcfg_entry *en)
{
	free(en->key);
	free(en->value);
	strv_free(en->items);
	free(en->item_lines);
}

static int twice(struct lex *l, const struct xlcfg *c, const struct xlcfg_entry *en)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, en->key)) {
			l->line = en->line;
			return lex_err(l, "key '%s' is set twice (first on line %d)", en->key,
				       c->v[i].line);
		}
	return 0;
}

int xlcfg_parse(const char *path, const char *text, struct xlcfg *out, struct xerr *e)
{
	struct lex l = { .path = path, .p = text, .line = 1, .e = e };
	struct xlcfg c = { 0 };

	for (;;) {
		struct xlcfg_entry en = { 0 };

		skip(&l, false);
		if (*l.p == '\n' || *l.p == ';') {
			l.line += *l.p++ == '\n';
			continue;
		}
		if (!*l.p)
			break;
		if (setting(&l, &en) < 0 || twice(&l, &c, &en) < 0) {
			entry_free(&en);
			xlcfg_free(&c);
			return -1;
		}
		c.v = xrealloc(c.v, (c.n + 1) * sizeof(*c.v));
		c.v[c.n++] = en;
	}
	*out = c;
	return 0;
}

void xlcfg_free(struct xlcfg *c)
{
	for (size_t i = 0; i < c->n; i++)
		entry_free(&c->v[i]);
	free(c->v);
	*c = (struct xlcfg){ 0 };
}
