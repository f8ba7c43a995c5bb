#include "labstate.h"

#include <string.h>

#include "util.h"

int labstate_load(const char *lab, struct labstate *ls, struct xerr *e)
{
	memset(ls, 0, sizeof(*ls));
	ls->lab = xstrdup(lab);
	if (db_open_default(&ls->db, e) < 0)
		return -1;
	if (lab_require(ls->db, lab, NULL, e) < 0)
		return -1;
	if (lab_dirs_get(lab, &ls->dirs, e) < 0)
		return -1;
	if (db_hosts_list(ls->db, lab, &ls->hosts, &ls->n_hosts, e) < 0 ||
	    db_guests_list(ls->db, lab, &ls->guests, &ls->n_guests, e) < 0)
		return -1;
	return 0;
}

void labstate_free(struct labstate *ls)
{
	db_hosts_free(ls->hosts, ls->n_hosts);
	db_guests_free(ls->guests, ls->n_guests);
	if (ls->db)
		db_close(ls->db);
	lab_dirs_free(&ls->dirs);
	free(ls->lab);
	memset(ls, 0, sizeof(*ls));
}

const struct db_host *labstate_host(const struct labstate *ls, const char *name)
{
	for (size_t i = 0; i < ls->n_hosts; i++)
		if (strcmp(ls->hosts[i].name, name) == 0)
			return &ls->hosts[i];
	return NULL;
}

const struct db_guest *labstate_guest(const struct labstate *ls, const char *name)
{
	for (size_t i = 0; i < ls->n_guests; i++)
		if (strcmp(ls->guests[i].name, name) == 0)
			return &ls->guests[i];
	return NULL;
}

int labstate_no_such(const struct labstate *ls, const char *what, const char *name,
		     struct xerr *e)
{
	/* Only what was asked for: a guest is no answer to "which host?". */
	bool hosts = strstr(what, "host") != NULL, guests = strstr(what, "guest") != NULL;
	const char **cands = xcalloc(ls->n_hosts + ls->n_guests + 1, sizeof(*cands));
	const char *near;
	struct buf b = { 0 };
	size_t n = 0;
	int rc;

	for (size_t i = 0; hosts && i < ls->n_hosts; i++) {
		buf_printf(&b, "%s%s", b.len ? ", " : "", ls->hosts[i].name);
		cands[n++] = ls->hosts[i].name;
	}
	for (size_t i = 0; guests && i < ls->n_guests; i++) {
		buf_printf(&b, "%s%s", b.len ? ", " : "", ls->guests[i].name);
		cands[n++] = ls->guests[i].name;
	}
	near = word_nearest(name, cands, n);
	rc = xerr_set(e, XERR_USAGE, "lab '%s' has no %s named '%s' (it has: %s)%s%s%s",
		      ls->lab, what, name, b.len ? b.data : "none yet",
		      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	free(cands);
	buf_free(&b);
	return rc;
}
