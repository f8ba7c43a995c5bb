/* What labs/spec*.c share and nothing else sees: the YAML tree, the parse
 * context and its diagnostics, the key tables, and the functions the parts
 * of the spec reader call across files. */
#ifndef XLAB_SPEC_INT_H
#define XLAB_SPEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"
#include "util.h"

#define MAX_DEPTH 16      /* containers deep; the reference spec needs 5 */
#define MAX_SCALAR 4096   /* bytes in one value */
#define MAX_HOSTS 64
#define MAX_GUESTS 256
#define MAX_TESTS 256
#define MAX_EXPERIMENTS 64
#define MAX_ROUNDS 1000
#define PING_MS_MIN 5     /* faster is a flood, not a probe */
#define PING_MS_MAX 1000
#define MAX_DISKS 16      /* extra disks per host */
#define MAX_VCPUS 64
#define MAX_DIAGS 200     /* past this, a spec is junk: stop listing */
#define LVM_META (4ull << 20)   /* PV metadata area, and the extent size */
#define LVM_EXTENT (4ull << 20)


enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ykind kind;
	struct spec_pos pos;
	char *text; /* scalars: NUL-terminated, no NUL inside */
	bool plain; /* plain and untagged: null and numbers are read from it */
	bool bad;   /* already reported while parsing: validators stay quiet */
	struct ynode **kids; /* sequence items, or mapping key, value, key, value... */
	size_t n, cap;
};

struct ctx {
	struct spec *s;
	struct spec_diags *d;
	struct spec_host host_tpl; /* built-ins, then defaults.host */
	struct spec_guest guest_tpl;
	const char *data;
	size_t len;
	char show[4][96]; /* ring of quoted user text for messages */
	unsigned show_i;
};

enum ftype {
	F_STR,  /* char *, with an optional check */
	F_INT,  /* int in [min, max] */
	F_SIZE, /* uint64_t bytes */
	F_STRV, /* NULL-terminated char **, non-empty sequence of scalars */
	F_FN,   /* anything else: a block or a value with its own reader */
};

enum {
	REQUIRED = 1u << 0,
	NO_DEFAULT = 1u << 1, /* per host/guest only: refused under defaults: */
};

struct field;
typedef void (*field_fn)(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base);
typedef bool (*str_check)(struct ctx *c, const char *key, const struct ynode *v);

struct field {
	const char *key;
	enum ftype type;
	size_t off;     /* of the value in the block's struct */
	int pos_off;    /* of its struct spec_pos, or -1 */
	unsigned flags;
	int min, max;   /* F_INT */
	str_check check; /* F_STR */
	field_fn fn;    /* F_FN */
};

#define AT(T, m) offsetof(T, m)
#define POS(T, m) ((int)offsetof(T, m))
#define NOPOS -1

void ynode_free(struct ynode *n);
int parse_tree(struct ctx *c, struct ynode **rootp);
void diag_add(struct spec_diags *d, struct spec_pos pos, const char *hint, char *msg);
void diag(struct ctx *c, struct spec_pos pos, const char *hint, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *show(struct ctx *c, const char *s);
const char *fmt_size(char buf[32], uint64_t v);
const char *suggest(char hint[128], const char *word, const char *const *cands, size_t n);
bool is_null(const struct ynode *v);
const char *kind_name(const struct ynode *v);
bool want_scalar(struct ctx *c, const char *key, const struct ynode *v, const char *what);
bool is_int_text(const char *s);
bool read_int(struct ctx *c, const char *key, const struct ynode *v, int min, int max, int *out);
bool read_size(struct ctx *c, const char *key, const struct ynode *v, uint64_t *out);
bool dns_label(const char *s);
bool check_name(struct ctx *c, const char *key, const struct ynode *v);
bool check_guest_name(struct ctx *c, const char *key, const struct ynode *v);
bool check_server(struct ctx *c, const char *key, const struct ynode *v);
bool check_xen_args(struct ctx *c, const char *key, const struct ynode *v);
bool check_libvirt(struct ctx *c, const char *key, const struct ynode *v);
bool check_image(struct ctx *c, const char *key, const struct ynode *v);
bool check_ip(struct ctx *c, const char *key, const struct ynode *v);
bool check_vg(struct ctx *c, const char *key, const struct ynode *v);
bool check_rootfs(struct ctx *c, const char *key, const struct ynode *v);
void check_dups(struct ctx *c, const struct ynode *m);
bool want_map(struct ctx *c, const struct ynode *m, const char *what);
void walk_map(struct ctx *c, const struct ynode *m, const char *what, const struct field *t, size_t nt, void *base, bool defaults);
bool xl_key_ok(const char *s);
/* A guest's `xl:` block (spec_xl.c). */
void read_xl(struct ctx *c, const struct ynode *k, const struct ynode *v, void *base);
void check_host_capacity(struct ctx *c, const struct spec_host *h);
void check_shared(struct ctx *c);
void cross_check(struct ctx *c);
/* The spec's top-level keys (spec_blocks.c). */
extern const struct field top_fields[];
extern const size_t top_fields_n;

#endif
