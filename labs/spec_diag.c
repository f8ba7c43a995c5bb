/* Diagnostics (position, message, hint; user text masked) and the value
 * readers that report through them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec_int.h"

/* ---- context and diagnostics ---- */

void diag_add(struct spec_diags *d, struct spec_pos pos, const char *hint, char *msg)
{
	if (d->n == MAX_DIAGS) {
		free(msg);
		msg = xasprintf("too many errors; stopped listing after %d", MAX_DIAGS);
		hint = NULL;
	} else if (d->n > MAX_DIAGS) {
		free(msg);
		return;
	}
	xgrow((void **)&d->v, &d->cap, d->n, sizeof(*d->v));
	d->v[d->n].pos = pos;
	d->v[d->n].msg = msg;
	d->v[d->n].hint = hint ? xstrdup(hint) : NULL;
	d->n++;
}

void diag(struct ctx *c, struct spec_pos pos, const char *hint, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	diag_add(c->d, pos, hint, msg);
}

/* User text in a message: cut short, control bytes masked, so a hostile
 * spec cannot forge lines in the output. */
const char *show(struct ctx *c, const char *s)
{
	char *out = c->show[c->show_i++ % ARRAY_SIZE(c->show)];
	size_t i = 0, max = sizeof(c->show[0]) - 4;

	for (; *s && i < max; s++)
		out[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	if (*s)
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
	return out;
}

const char *fmt_size(char buf[32], uint64_t v)
{
	size_format(v, buf, 32);
	return buf;
}

/* ---- did you mean ---- */

/* Writes "did you mean 'x'?" into hint when some candidate is close. */
const char *suggest(char hint[128], const char *word, const char *const *cands, size_t n)
{
	const char *pick = word_nearest(word, cands, n);

	if (!pick)
		return NULL;
	snprintf(hint, 128, "did you mean '%s'?", pick);
	return hint;
}

/* ---- value readers ---- */

bool is_null(const struct ynode *v)
{
	return v->kind == Y_SCALAR && v->plain &&
	       (!*v->text || !strcmp(v->text, "~") || !strcmp(v->text, "null") ||
		!strcmp(v->text, "Null") || !strcmp(v->text, "NULL"));
}

const char *kind_name(const struct ynode *v)
{
	if (v->kind == Y_MAP)
		return "a mapping";
	if (v->kind == Y_SEQ)
		return "a sequence";
	return is_null(v) ? "nothing" : "a scalar";
}

/* A non-empty scalar, else a diag naming what was there instead. */
bool want_scalar(struct ctx *c, const char *key, const struct ynode *v, const char *what)
{
	if (v->bad)
		return false;
	if (v->kind != Y_SCALAR || is_null(v)) {
		diag(c, v->pos, NULL, "'%s' must be %s, not %s", key, what, kind_name(v));
		return false;
	}
	if (!*v->text) {
		diag(c, v->pos, NULL, "'%s' must not be empty", key);
		return false;
	}
	return true;
}

bool is_int_text(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool read_int(struct ctx *c, const char *key, const struct ynode *v, int min, int max,
		     int *out)
{
	long long x;
	char *end;

	if (!want_scalar(c, key, v, "an integer"))
		return false;
	if (!v->plain || !is_int_text(v->text)) {
		diag(c, v->pos, v->plain ? NULL : "remove the quotes",
		     "'%s' must be an integer, not '%s'", key, show(c, v->text));
		return false;
	}
	errno = 0;
	x = strtoll(v->text, &end, 10);
	if (errno || x < min || x > max) {
		diag(c, v->pos, NULL, "'%s' must be between %d and %d, not %s", key, min, max,
		     show(c, v->text));
		return false;
	}
	*out = (int)x;
	return true;
}

uint64_t spec_size_max(const char *key)
{
	return !strcmp(key, "memory") || !strcmp(key, "dom0_mem") ? SPEC_MEM_MAX : SPEC_DISK_MAX;
}

bool read_size(struct ctx *c, const char *key, const struct ynode *v, uint64_t *out)
{
	struct xerr e = { 0 };
	uint64_t x, max = spec_size_max(key);
	char b[32];

	if (!want_scalar(c, key, v, "a size like 512M or 8G"))
		return false;
	if (size_parse(v->text, &x, &e) < 0) {
		diag(c, v->pos, NULL, "'%s': %s", key, show(c, e.msg));
		return false;
	}
	if (x > max) {
		diag(c, v->pos, NULL, "'%s': %s is more than %s can hold (at most %s)", key,
		     show(c, v->text), max == SPEC_MEM_MAX ? "Xen" : "an LVM volume",
		     fmt_size(b, max));
		return false;
	}
	*out = x;
	return true;
}

/* Lower-case DNS label: [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])? */
bool dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SPEC_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

