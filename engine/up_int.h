/* What engine/up.c and up_host.c share: the state of one `up` and of
 * each host's bring-up. */
#ifndef XLAB_UP_INT_H
#define XLAB_UP_INT_H

#include <pthread.h>
#include <stdint.h>

#include "db.h"
#include "image.h"
#include "lab.h"
#include "labnet.h"
#include "paths.h"
#include "plan.h"
#include "run.h"
#include "spec.h"
#include "sshc.h"
#include "up.h"
#include "virt.h"

/* A server of the lab, as `up` uses it. */
struct up_site {
	const char *name;      /* "local" or row's */
	struct db_server *row; /* NULL: this machine */
	struct virt *virt;
	/* Another server: its pool's directory, where its hosts' disks are
	 * volumes (plan_env.volume_dirs), and its sshd. */
	char *pool_dir;
	struct lab_via via;
};

struct up_ctx {
	const struct up_opts *o;
	struct spec *spec;
	struct plan *plan;
	struct db *db;
	/* The servers the lab's hosts run on, the lab's own (its first host's:
	 * the gateway of its lab network, the way to its dom0s) first. */
	struct up_site *sites;
	size_t n_sites;
	size_t *host_site; /* per spec (and plan) host: its index in sites */
	/* A lab across servers: the sites as its lab network sees them, with
	 * the address each is reached on (labnet_addresses). */
	struct labnet_site *net_sites;
	struct image **imgs; /* per host, in plan->hosts order: up_image() */
	struct run run;
	struct lab_dirs dirs;
	char *accel;
	char subnet[20];
	char store_id[XLAB_STORE_ID_LEN + 1];
	struct virt_owner owner; /* this store's claim on the lab's libvirt objects */
	char *agent_path;
	struct up_result *res;
	/* The shared VG is made through the first host, then found by the
	 * others; its metadata changes (lvcreate) go one host at a time. */
	pthread_mutex_t shared_mu;
	pthread_cond_t shared_cv;
	int shared_state; /* 0 not yet, 1 made, -1 failed */
};

struct host_work {
	struct up_ctx *ctx;
	const struct plan_host *ph;
	char def_hash[65];
	char uuid[40];
	/* Its root disk was made from the image this run: no agent in it yet. */
	bool new_root;
	int rc;
	struct xerr err;
	pthread_t thread;
};

/* The server host ph runs on. */
struct up_site *up_site(const struct up_ctx *ctx, const struct plan_host *ph);
/* The image host ph boots (opened by up before any host work). */
struct image *up_image(const struct up_ctx *ctx, const struct plan_host *ph);
/* The lab's key pair and every host's dom0 SSH host key, made once. */
int keys_ensure(struct up_ctx *ctx, struct xerr *e);
/* The lab's shared disk (raw, size bytes), made once. */
int shared_disk_make(const char *path, uint64_t size, struct xerr *e);
/* A host's disks, config disk and boot ISO, before its domain is defined. */
int host_files_make(struct up_ctx *ctx, const struct plan_host *ph, struct xerr *e);
/* Waits until the host's dom0 answers SSH (pinned key, lab key), restarting
 * a host whose console went silent once; *conn is that session. */
int host_wait_ready(struct up_ctx *ctx, struct host_work *w, struct sshc **conn,
		    struct xerr *e);

#endif
