#include "labview.h"

#include <string.h>

#include "guestargs.h"
#include "hostconn.h"
#include "image.h"
#include "lifecycle.h"
#include "paths.h"
#include "util.h"

bool labview_is_hand(const struct db_guest *g)
{
	return g->made_by && strcmp(g->made_by, LABVIEW_MADE_BY_HAND) == 0;
}

/* Other hand-made guests matter for their names and addresses only. */
static int hand_guests(const struct labview *v, const struct spec_guest *extra,
		       struct spec_guest **out, size_t *n, struct xerr *e)
{
	struct spec_guest *h = xcalloc(v->ls.n_guests + 1, sizeof(*h));
	size_t k = 0;

	for (size_t i = 0; i < v->ls.n_guests; i++) {
		const struct db_guest *g = &v->ls.guests[i];

		if (!labview_is_hand(g) || (extra && !strcmp(g->name, extra->name)))
			continue;
		if (guest_args_init(&h[k], g->name, g->host, e) < 0)
			goto fail;
		h[k].ip = g->ip ? xstrdup(g->ip) : NULL;
		k++;
	}
	if (extra)
		guest_args_copy(&h[k++], extra);
	*out = h;
	*n = k;
	return 0;
fail:
	for (size_t i = 0; i < k; i++)
		guest_args_free(&h[i]);
	free(h);
	return -1;
}

int labview_load(const char *lab, struct labview *v, struct xerr *e)
{
	struct db_lab *l = NULL;
	struct spec_diags d = { 0 };
	int rc = -1;

	memset(v, 0, sizeof(*v));
	if (labstate_load(lab, &v->ls, e) < 0 || db_lab_get(v->ls.db, lab, &l, e) < 0)
		return -1;
	if (!l || !l->spec_path || !l->subnet || lab_state_parse(l->state) == LAB_DOWN) {
		xerr_set(e, XERR_FAIL, "lab '%s' is not up (`xlab status %s`)", lab, lab);
		goto out;
	}
	v->subnet = xstrdup(l->subnet);
	if (spec_load(l->spec_path, &v->spec, &d, e) < 0) {
		spec_diags_report(&d, e, stderr);
		xerr_prefix(e, "the spec of lab '%s'", lab);
		goto out;
	}
	if (strcmp(v->spec->sha256, l->spec_sha256 ? l->spec_sha256 : "") != 0)
		fprintf(stderr, "xlab: warning: %s changed since lab '%s' was brought up\n",
			l->spec_path, lab);
	rc = 0;
out:
	spec_diags_free(&d);
	db_lab_free(l);
	return rc;
}

int labview_plan(struct labview *v, const struct spec_guest *extra, struct xerr *e)
{
	struct spec_guest *hand = NULL;
	size_t n_hand = 0;
	char store_id[XLAB_STORE_ID_LEN + 1];
	int rc = -1;

	if (hand_guests(v, extra, &hand, &n_hand, e) < 0)
		return -1;
	if (xlab_store_id(store_id, e) < 0)
		goto out;
	{
		struct plan_env env = { .state_dir = v->ls.dirs.dir,
					.accel = lab_accel(&v->ls.dirs), .subnet = v->subnet,
					.store_id = store_id };

		rc = guest_args_plan(v->spec, &env, hand, n_hand, &v->plan, e);
	}
out:
	for (size_t i = 0; i < n_hand; i++)
		guest_args_free(&hand[i]);
	free(hand);
	return rc;
}

void labview_free(struct labview *v)
{
	plan_free(v->plan);
	spec_free(v->spec);
	free(v->subnet);
	labstate_free(&v->ls);
	memset(v, 0, sizeof(*v));
}

int labview_agent(const struct labview *v, const char *host, struct sshc **c, struct agent **ag,
		  struct xerr *e)
{
	const struct db_host *h = labstate_host(&v->ls, host);
	_cleanup_free_ char *local = NULL;

	*c = NULL;
	*ag = NULL;
	if (!h)
		return labstate_no_such(&v->ls, "host", host, e);
	if (agent_local_path(&local, e) < 0 || lab_host_connect(&v->ls.dirs, h->name, h->ip, c, e) < 0)
		return -1;
	if (agent_open(*c, local, ag, NULL, e) < 0) {
		sshc_free(*c);
		*c = NULL;
		return -1;
	}
	return 0;
}
