/* The topology picture of a run's page. The store keeps a lab's spec path
 * and the sha256 of the spec each run was made from, not the spec itself:
 * the picture is of the file as it is now, planned as `up` plans it on the
 * subnet the store gave the lab, and says so when the file changed since. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "class.h"
#include "graph.h"
#include "matrix.h"
#include "names.h"
#include "paths.h"
#include "plan.h"
#include "report_html.h"
#include "spec.h"
#include "subnet.h"
#include "util.h"

/* A cell asked by image (`--image`) names the image where a version would
 * be; one asked by version boots xen-VERSION. */
static bool cell_by_image(const struct db_matrix_cell *c)
{
	_cleanup_free_ char *by_version = xasprintf("xen-%s", c->xen);

	return c->image && strcmp(c->image, by_version) != 0;
}

static bool made_by_class(const struct db_lab *l)
{
	return l->made_by && !strcmp(l->made_by, "class") && l->subnet;
}

/* A copy of a class: the class's spec under the copy's name and subnet. */
static int class_copy_of(const struct db_lab *l, const char *data, size_t len,
			 struct spec **out, struct xerr *e)
{
	struct class_copy c = { 0 };

	snprintf(c.lab, sizeof(c.lab), "%s", l->name);
	snprintf(c.subnet, sizeof(c.subnet), "%s", l->subnet ? l->subnet : "");
	return class_spec_copy(l->spec_path, data, len, &c, out, e);
}

/* The spec the lab was made from, as the command that made it made it: the
 * file itself, the copy `xlab matrix` made of it for a cell, or a class's
 * copy of it. */
static int spec_for_run(const struct db_lab *l, const struct db_matrix_cell *cell,
			struct spec **out, struct xerr *e)
{
	_cleanup_free_ char *data = NULL;
	struct spec *base = NULL;
	size_t len = 0;
	int rc;

	if (file_read_all(l->spec_path, SPEC_MAX_BYTES, &data, &len, e) < 0)
		return -1;
	if (spec_load_buffer(l->spec_path, data, len, &base, NULL, e) < 0)
		return xerr_prefix(e, "%s no longer reads as a spec", l->spec_path);
	if (!cell && !made_by_class(l)) {
		*out = base;
		return 0;
	}
	rc = cell ? matrix_spec_copy(base, data, len, cell->xen, cell->guest_type,
				     cell_by_image(cell) ? cell->xen : NULL, l->subnet, out, e) :
		    class_copy_of(l, data, len, out, e);
	spec_free(base);
	return rc;
}

static int plan_for_run(const struct spec *s, const char *subnet, struct plan **p,
			struct xerr *e)
{
	_cleanup_free_ char *home = NULL, *dir = NULL;
	char store_id[XLAB_STORE_ID_LEN + 1], pooled[20];

	if (xlab_home(&home, e) < 0 || xlab_store_id(store_id, e) < 0)
		return -1;
	/* A lab the store recorded has its subnet; else as `xlab plan` does. */
	if (!subnet && !(subnet = s->subnet)) {
		if (subnet_allocate(s->lab, NULL, 0, pooled, e) < 0)
			return -1;
		subnet = pooled;
	}
	dir = names_lab_dir(home, s->lab);
	{
		struct plan_env env = { .state_dir = dir, .accel = "qemu", .subnet = subnet,
					.store_id = store_id };

		return plan_build(s, &env, p, e);
	}
}

static char *caption_of(const struct db_run *run, const struct db_matrix_cell *cell,
			const struct db_lab *l, const struct spec *s)
{
	const char *path = l->spec_path;
	struct buf b = { 0 };

	if (cell)
		buf_printf(&b, "Lab %s as `xlab matrix` copies %s for its column xen %s%s%s", s->lab,
			   path, cell->xen, cell->guest_type ? "/" : "",
			   cell->guest_type ? cell->guest_type : "");
	else if (made_by_class(l))
		buf_printf(&b, "Lab %s as `xlab class` copies %s", s->lab, path);
	else
		buf_printf(&b, "Lab %s as `xlab plan` plans %s", s->lab, path);
	buf_puts(&b, ", on the subnet the store gave it");
	if (run->spec_sha256 && strcmp(run->spec_sha256, s->sha256) != 0)
		buf_printf(&b, ". The file changed since run %" PRId64 " (sha256 %.12s then, %.12s "
			       "now): this is the lab as the file says now",
			   run->id, run->spec_sha256, s->sha256);
	buf_puts(&b, ".");
	return buf_steal(&b);
}

int report_topology_svg(struct db *db, const struct db_run *run,
			const struct db_matrix_cell *cell, char **svg, size_t *len,
			char **caption, struct xerr *e)
{
	struct db_lab *l = NULL;
	struct spec *s = NULL;
	struct plan *p = NULL;
	struct graph_lab g = { 0 };
	_cleanup_free_ char *dot = NULL;
	int rc = -1;

	if (db_lab_get(db, run->lab, &l, e) < 0)
		return -1;
	if (!l || !l->spec_path) {
		xerr_set(e, XERR_NOTFOUND, "the store names no spec file for lab '%s'", run->lab);
		goto out;
	}
	if (spec_for_run(l, cell, &s, e) < 0 ||
	    plan_for_run(s, l->subnet, &p, e) < 0)
		goto out;
	graph_lab_from_plan(&g, p);
	dot = graph_dot(&g);
	if (graph_svg(dot, svg, len, e) < 0) {
		/* graph_svg's advice names `xlab graph`'s options. */
		if (e->kind == XERR_NOTFOUND)
			xerr_set(e, XERR_NOTFOUND, "Graphviz's dot is not installed: "
				 "apt-get install graphviz, and the page has the lab's picture");
		goto out;
	}
	*caption = caption_of(run, cell, l, s);
	rc = 0;
out:
	graph_lab_free(&g);
	plan_free(p);
	spec_free(s);
	db_lab_free(l);
	return rc;
}
