/* The results store: one sqlite file (WAL, busy_timeout) holding every lab,
 * host, guest, run, step and test result. The schema is versioned with
 * PRAGMA user_version; db_open migrates forward. */
#ifndef XLAB_DB_H
#define XLAB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct db;

int db_open(const char *path, struct db **out, struct xerr *e);
/* xlab_home()/xlab.db */
int db_open_default(struct db **out, struct xerr *e);
void db_close(struct db *db);
int db_schema_version(struct db *db);
/* The version this xlab migrates to (the number of migrations). */
int db_schema_latest(void);
/* "ok" or the first problem PRAGMA integrity_check reports (malloc'd). */
char *db_integrity_check(struct db *db);

/* Runs: status "running" until db_run_end sets "ok", "failed" or "interrupted". */
int db_run_begin(struct db *db, const char *lab, const char *command, const char *spec_sha256,
		 int64_t *id, struct xerr *e);
int db_run_end(struct db *db, int64_t id, const char *status, const char *message,
	       struct xerr *e);
/* A run of lab still "running" whose process is gone was killed: mark it interrupted. */
int db_runs_mark_interrupted(struct db *db, const char *lab, struct xerr *e);

int db_step_begin(struct db *db, int64_t run_id, const char *name, const char *target,
		  int64_t *id, struct xerr *e);
/* status "ok", "failed", "skipped". */
int db_step_end(struct db *db, int64_t id, const char *status, const char *message,
		struct xerr *e);

struct db_lab {
	const char *name, *spec_path, *spec_sha256, *subnet, *state, *updated;
	const char *made_by; /* "spec", "matrix", "class"; NULL before xlab recorded it */
};
/* *out NULL (and 0 returned) when there is no such lab. */
int db_lab_upsert(struct db *db, const char *lab, const char *spec_path, const char *sha256,
		  const char *subnet, const char *state, struct xerr *e);
int db_lab_set_state(struct db *db, const char *lab, const char *state, struct xerr *e);
/* Takes lab for made_by ("spec", "matrix", "class") before anything of it is
 * made: a new or down lab, or one made_by made, is taken (recorded); one a
 * different command made and not taken down is refused, naming its maker. */
int db_lab_claim(struct db *db, const char *lab, const char *made_by, struct xerr *e);
/* Forgets every host, guest and snapshot of lab (`down`), in one
 * transaction: a later lab of that name, from any spec, finds none of them. */
int db_lab_forget_nodes(struct db *db, const char *lab, struct xerr *e);
int db_lab_get(struct db *db, const char *lab, struct db_lab **out, struct xerr *e);
void db_lab_free(struct db_lab *l);
int db_labs_list(struct db *db, struct db_lab **out, size_t *n, struct xerr *e);
void db_labs_free(struct db_lab *v, size_t n);
/* Subnets of every lab of the store, down ones too (a lab keeps its subnet
 * for its next up): NULL-terminated, strv_free. */
int db_subnets_in_use(struct db *db, char ***out, struct xerr *e);

struct db_host {
	const char *lab, *name, *mac, *ip, *libvirt_uuid, *image, *image_sha256, *state,
		*definition_sha256, *updated;
};
int db_host_upsert(struct db *db, const struct db_host *h, struct xerr *e);
/* The hosts (guests) that exist now: rows in state "removed" are not listed. */
int db_hosts_list(struct db *db, const char *lab, struct db_host **out, size_t *n,
		  struct xerr *e);
void db_hosts_free(struct db_host *v, size_t n);

struct db_guest {
	const char *lab, *host, *name, *mac, *ip, *state, *made_by, *updated;
};
int db_guest_upsert(struct db *db, const struct db_guest *g, struct xerr *e);
int db_guests_list(struct db *db, const char *lab, struct db_guest **out, size_t *n,
		   struct xerr *e);
void db_guests_free(struct db_guest *v, size_t n);

/* A lab snapshot (`xlab snapshot`): the hosts that hold it (comma-separated)
 * and, beside it, the lab's guest rows as they were when it was taken. */
struct db_snapshot {
	const char *lab, *name, *hosts, *created;
	int64_t duration_ms; /* -1 when unknown */
	int guests;          /* guest rows kept with it */
};
/* Records it and copies the lab's guest rows beside it, in one transaction. */
int db_snapshot_add(struct db *db, const struct db_snapshot *s, struct xerr *e);
/* Oldest first. */
int db_snapshots_list(struct db *db, const char *lab, struct db_snapshot **out, size_t *n,
		      struct xerr *e);
/* 1 with *out (one row), 0 when the lab has no snapshot of that name. */
int db_snapshot_get(struct db *db, const char *lab, const char *name, struct db_snapshot **out,
		    struct xerr *e);
void db_snapshots_free(struct db_snapshot *v, size_t n);
/* One snapshot's rows, or every one of the lab's when name is NULL. */
int db_snapshot_delete(struct db *db, const char *lab, const char *name, struct xerr *e);
/* The lab's guest rows replaced by those kept with the snapshot. */
int db_snapshot_restore_guests(struct db *db, const char *lab, const char *name,
			       struct xerr *e);

/* A libvirt server labs may run on (`xlab server add`): its name and the URI
 * it was added with. The local machine is never a row. */
struct db_server {
	const char *name, *uri, *added;
};
/* XERR_CONFLICT when a server of that name is there already. */
int db_server_add(struct db *db, const char *name, const char *uri, struct xerr *e);
/* By name. */
int db_servers_list(struct db *db, struct db_server **out, size_t *n, struct xerr *e);
/* 1 with *out (one row), 0 when there is no server of that name. */
int db_server_get(struct db *db, const char *name, struct db_server **out, struct xerr *e);
void db_servers_free(struct db_server *v, size_t n);
/* 1 when a row was removed, 0 when there was none. */
int db_server_delete(struct db *db, const char *name, struct xerr *e);

struct db_run {
	int64_t id;
	const char *lab, *command, *spec_sha256, *status, *message, *started, *ended;
	int64_t duration_ms; /* -1 while running */
	int pid;
	int steps, steps_failed, tests, tests_failed;
};
/* Newest first; lab NULL = every lab; limit <= 0 = all. */
int db_runs_list(struct db *db, const char *lab, int limit, struct db_run **out, size_t *n,
		 struct xerr *e);
int db_run_get(struct db *db, int64_t id, struct db_run **out, struct xerr *e);
void db_runs_free(struct db_run *v, size_t n);

struct db_step {
	int64_t id, run_id;
	const char *name, *target, *status, *message, *started;
	int64_t duration_ms;
	/* When it began, in ms after its run began: both read the controller's
	 * monotonic clock (`started` has whole seconds only). */
	int64_t offset_ms;
};
int db_steps_list(struct db *db, int64_t run_id, struct db_step **out, size_t *n,
		  struct xerr *e);
void db_steps_free(struct db_step *v, size_t n);

struct db_test_result {
	int64_t run_id;
	const char *name, *kind, *target, *output;
	bool passed;
	int64_t duration_ms;
};
int db_test_result_add(struct db *db, const struct db_test_result *t, struct xerr *e);
int db_test_results_list(struct db *db, int64_t run_id, struct db_test_result **out,
			 size_t *n, struct xerr *e);
void db_test_results_free(struct db_test_result *v, size_t n);

/* One step of one round of a test's action ("xl save", "ping", ...). */
struct db_action_step {
	int64_t run_id;
	const char *test, *step;
	int round;
	bool ok;
	int64_t duration_ms;
};
int db_action_step_add(struct db *db, const struct db_action_step *s, struct xerr *e);
int db_action_steps_list(struct db *db, int64_t run_id, struct db_action_step **out, size_t *n,
			 struct xerr *e);
void db_action_steps_free(struct db_action_step *v, size_t n);

/* A Xen-version matrix: the spec it ran, its test names (a JSON array, spec
 * order), the xlab that ran it; status "running", "passed" or "failed". */
struct db_matrix {
	int64_t id;
	const char *spec_path, *spec_sha256, *tests, *xlab_version, *status, *started, *ended;
	int pid; /* of the `xlab matrix` process that runs it */
};
/* One version's copy of the lab: its `up` run (whose test results are the
 * cells), the image and what `xl info` said inside the host. Status
 * "running", "passed", "failed" (a test) or "bringup-failed". */
struct db_matrix_cell {
	int64_t id, matrix_id, run_id, bringup_ms;
	const char *xen, *lab, *image, *image_sha256, *xen_version, *kernel_version, *status,
		*message;
	const char *guest_type; /* every guest's type in the copy (`--types`), or NULL */
};
int db_matrix_begin(struct db *db, const struct db_matrix *m, int64_t *id, struct xerr *e);
int db_matrix_end(struct db *db, int64_t id, const char *status, struct xerr *e);
int db_matrix_cell_add(struct db *db, const struct db_matrix_cell *c, int64_t *id,
		       struct xerr *e);
/* Updates every field but xen and lab, by c->id. */
int db_matrix_cell_update(struct db *db, const struct db_matrix_cell *c, struct xerr *e);
int db_matrix_get(struct db *db, int64_t id, struct db_matrix **out, struct xerr *e);
void db_matrix_free(struct db_matrix *m);
int db_matrix_cells_list(struct db *db, int64_t matrix_id, struct db_matrix_cell **out,
			 size_t *n, struct xerr *e);
void db_matrix_cells_free(struct db_matrix_cell *v, size_t n);
/* The cell whose `up` run is run_id; *out NULL (and 0 returned) when the
 * run is not a matrix's. */
int db_matrix_cell_of_run(struct db *db, int64_t run_id, struct db_matrix_cell **out,
			  struct xerr *e);

/* A teaching class: N copies of one spec, each its own lab (`xlab class`).
 * State "up", "partial" (some copy failed) or "down". */
struct db_class {
	const char *name, *spec_path, *spec_sha256, *state, *updated;
	int copies;
};
/* One copy: its lab, student (or NULL), subnet; state "allocated", "starting",
 * "up", "failed", "resetting", "down". */
struct db_class_copy {
	const char *lab, *class_name, *student, *subnet, *state, *message, *updated;
	int idx; /* 1-based */
	int64_t up_ms, reset_ms; /* last bring-up and reset durations, 0 unknown */
};
int db_class_upsert(struct db *db, const char *name, const char *spec_path,
		    const char *sha256, int copies, const char *state, struct xerr *e);
int db_class_set_state(struct db *db, const char *name, const char *state, struct xerr *e);
/* *out NULL (and 0 returned) when there is no such class. */
int db_class_get(struct db *db, const char *name, struct db_class **out, struct xerr *e);
int db_classes_list(struct db *db, struct db_class **out, size_t *n, struct xerr *e);
void db_classes_free(struct db_class *v, size_t n);
/* Inserts or replaces every field but the durations, by lab. */
int db_class_copy_upsert(struct db *db, const struct db_class_copy *c, struct xerr *e);
/* up_ms / reset_ms 0: keep the recorded one. */
int db_class_copy_set_state(struct db *db, const char *lab, const char *state,
			    const char *message, int64_t up_ms, int64_t reset_ms, struct xerr *e);
int db_class_copies_list(struct db *db, const char *class_name, struct db_class_copy **out,
			 size_t *n, struct xerr *e);
void db_class_copies_free(struct db_class_copy *v, size_t n);

/* One round of a live-migration experiment: `xl migrate` of guest from src
 * to dst, its wall time, the longest gap in the probe's replies (downtime),
 * whether the guest answered again and where it was afterwards. */
struct db_experiment_round {
	int64_t run_id;
	const char *experiment, *guest, *src, *dst, *host_after, *message, *started;
	int round;
	bool ok, came_back;
	int64_t wall_ms, downtime_ms, pings_sent, pings_answered;
};
int db_experiment_round_add(struct db *db, const struct db_experiment_round *r, struct xerr *e);
int db_experiment_rounds_list(struct db *db, int64_t run_id, struct db_experiment_round **out,
			      size_t *n, struct xerr *e);
void db_experiment_rounds_free(struct db_experiment_round *v, size_t n);

/* Every guest of LAB (on HOST, or on any host when HOST is NULL). State
 * "removed" hides it from db_guests_list until it is made again. */
int db_guests_set_state(struct db *db, const char *lab, const char *host, const char *state,
			struct xerr *e);
/* Forgets a guest (one made by hand and removed: `xlab guest rm`). */
int db_guest_delete(struct db *db, const char *lab, const char *name, struct xerr *e);

#endif
