/* YAML bytes -> a tree of our own nodes: aliases, depth and scalar size are
 * policed while parsing, so nothing later sees an unbounded document. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec_int.h"

/* ---- the YAML tree ---- */

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

/* ---- YAML -> tree ---- */

static struct spec_pos mark_pos(yaml_mark_t m)
{
	return (struct spec_pos){ (int)m.line + 1, (int)m.column + 1 };
}

static struct spec_pos offset_pos(const char *data, size_t len, size_t off)
{
	struct spec_pos p = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n')
			p.line++, p.col = 1;
		else if (((unsigned char)data[i] & 0xc0) != 0x80)
			p.col++;
	}
	return p;
}

/* The byte at a libyaml line/column (columns count characters). */
static int byte_at(const char *data, size_t len, yaml_mark_t m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < len && line < m.line)
		if (data[i++] == '\n')
			line++;
	for (; i < len && data[i] != '\n'; i++) {
		if (((unsigned char)data[i] & 0xc0) == 0x80)
			continue;
		if (col++ == m.column)
			return (unsigned char)data[i];
	}
	return -1;
}

static bool line_has_tab_indent(const char *data, size_t len, yaml_mark_t m)
{
	size_t i = 0, line = 0;

	while (i < len && line < m.line)
		if (data[i++] == '\n')
			line++;
	for (; i < len && (data[i] == ' ' || data[i] == '\t'); i++)
		if (data[i] == '\t')
			return true;
	return false;
}

static void syntax_diag(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	const char *hint = NULL;

	if (p->error == YAML_READER_ERROR) {
		diag(c, offset_pos(c->data, c->len, p->problem_offset),
		     "a spec is UTF-8 YAML text", "not a text file: %s", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		diag(c, (struct spec_pos){ 1, 1 }, NULL, "out of memory while parsing");
		return;
	}
	if (byte_at(c->data, c->len, p->problem_mark) == '\t' ||
	    line_has_tab_indent(c->data, c->len, p->problem_mark) ||
	    (p->context && line_has_tab_indent(c->data, c->len, p->context_mark)))
		hint = "indent with spaces: YAML does not allow tabs";
	if (p->context)
		diag(c, mark_pos(p->problem_mark), hint, "YAML syntax error: %s (%s at line %d)",
		     problem, p->context, (int)p->context_mark.line + 1);
	else
		diag(c, mark_pos(p->problem_mark), hint, "YAML syntax error: %s", problem);
}

static const char *tag_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.tag;
	default:
		return NULL;
	}
}

static struct ynode *node_new(struct ctx *c, const yaml_event_t *ev, enum ykind kind)
{
	struct ynode *n = xcalloc(1, sizeof(*n));
	const char *tag = tag_of(ev);

	n->kind = kind;
	n->pos = mark_pos(ev->start_mark);
	if (kind != Y_SCALAR) {
		if (tag && strcmp(tag, kind == Y_SEQ ? YAML_SEQ_TAG : YAML_MAP_TAG)) {
			diag(c, n->pos, NULL, "YAML tag '%s' is not used in specs", show(c, tag));
			n->bad = true;
		}
		return n;
	}
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag;
	if (ev->data.scalar.length > MAX_SCALAR) {
		diag(c, n->pos, NULL, "value is %zu bytes long; at most %d are allowed",
		     ev->data.scalar.length, MAX_SCALAR);
		n->bad = true;
	} else if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length) {
		diag(c, n->pos, NULL, "value contains a NUL character");
		n->bad = true;
	} else if (tag && strcmp(tag, YAML_STR_TAG)) {
		diag(c, n->pos, "write the value without a tag, quoted if it must be a string",
		     "YAML tag '%s' is not used in specs", show(c, tag));
		n->bad = true;
	}
	n->text = xstrdup(n->bad ? "" : (const char *)ev->data.scalar.value);
	return n;
}

static void node_attach(struct ynode **root, struct ynode **stack, size_t depth, struct ynode *n)
{
	struct ynode *parent;

	if (depth == 0) {
		*root = n;
		return;
	}
	parent = stack[depth - 1];
	xgrow((void **)&parent->kids, &parent->cap, parent->n, sizeof(*parent->kids));
	parent->kids[parent->n++] = n;
}

/* Returns 0 with *root (NULL for an empty stream) or -1 after a diag. */
int parse_tree(struct ctx *c, struct ynode **rootp)
{
	struct ynode *stack[MAX_DEPTH], *root = NULL, *n;
	size_t depth = 0;
	int docs = 0, rc = -1;
	yaml_parser_t p;
	yaml_event_t ev;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)c->data, c->len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_diag(c, &p);
			goto out;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (docs++) {
				diag(c, mark_pos(ev.start_mark), "remove the second '---'",
				     "a spec is one YAML document; found another one here");
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SCALAR_EVENT:
			node_attach(&root, stack, depth, node_new(c, &ev, Y_SCALAR));
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == MAX_DEPTH) {
				diag(c, mark_pos(ev.start_mark), NULL,
				     "nested deeper than %d levels", MAX_DEPTH);
				yaml_event_delete(&ev);
				goto out;
			}
			n = node_new(c, &ev, ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP);
			node_attach(&root, stack, depth, n);
			stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			/* Expanding aliases is how a small file becomes a huge tree. */
			diag(c, mark_pos(ev.start_mark), "write the value out in full",
			     "YAML aliases (*%s) are not allowed in a spec",
			     show(c, (const char *)ev.data.alias.anchor));
			n = xcalloc(1, sizeof(*n));
			n->kind = Y_SCALAR;
			n->text = xstrdup("");
			n->bad = true;
			n->pos = mark_pos(ev.start_mark);
			node_attach(&root, stack, depth, n);
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			rc = 0;
			goto out;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
out:
	yaml_parser_delete(&p);
	if (rc < 0) {
		ynode_free(root);
		root = NULL;
	}
	*rootp = root;
	return rc;
}

