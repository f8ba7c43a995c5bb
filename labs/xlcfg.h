/* An xl.cfg file read into keys with the line each was set on: the subset of
 * xl.cfg(5) that guest configs use (KEY = "string" | 'string' | number |
 * [ list of those ], '#' comments, ';' or a newline between settings).
 * Pure: the caller reads the file. */
#ifndef XLAB_XLCFG_H
#define XLAB_XLCFG_H

#include <stddef.h>

#include "err.h"

enum xlcfg_type { XLCFG_STRING, XLCFG_NUMBER, XLCFG_LIST };

struct xlcfg_entry {
	char *key;
	int line; /* 1-based line of the key */
	enum xlcfg_type type;
	char *value;     /* STRING: the text, unquoted; NUMBER: its digits */
	char **items;    /* LIST: the items' texts (strings or numbers) */
	int *item_lines; /* LIST: the line each item starts on */
	size_t n_items;
};

struct xlcfg {
	struct xlcfg_entry *v;
	size_t n;
};

/* Parses text; errors (code 2) read "PATH:LINE: ...". A key set twice is
 * refused: xl would keep the last one silently. */
int xlcfg_parse(const char *path, const char *text, struct xlcfg *out, struct xerr *e);
void xlcfg_free(struct xlcfg *c);

#endif
