/* A guest described on the command line (`xlab guest create LAB NAME --host
 * HOST memory=256M ip=... xl.on_crash=preserve`): KEY=VALUE arguments read
 * into a spec_guest under the spec's own rules. Pure: no store, no ssh. */
#ifndef XLAB_GUESTARGS_H
#define XLAB_GUESTARGS_H

#include <stddef.h>

#include "err.h"
#include "plan.h"
#include "spec.h"

/* The KEY=VALUE keys, as --help and the errors list them. */
#define GUEST_ARGS_KEYS "type, memory, disk, vcpus, ip, rootfs, swap, vnc, hotplug, xl.KEY"

/* A guest with the spec's defaults (128M, 256M disk, 1 vcpu, busybox);
 * name must be a DNS label (error code 2 otherwise). */
int guest_args_init(struct spec_guest *g, const char *name, const char *host, struct xerr *e);
/* Applies each "KEY=VALUE" in order: memory, disk, vcpus, ip, rootfs, swap,
 * xl.KEY. The first bad one fails with code 2 and a message starting
 * "argument 'KEY=VALUE': ". */
int guest_args_apply(struct spec_guest *g, char *const *args, size_t n, struct xerr *e);
/* Frees what g owns (not g itself). */
void guest_args_free(struct spec_guest *g);

/* A deep copy of g into c. */
void guest_args_copy(struct spec_guest *c, const struct spec_guest *g);
/* Appends a copy of g to s->guests. */
void guest_args_append(struct spec *s, const struct spec_guest *g);
/* The lab as it is: the spec's nodes keep the addresses `up` gave them
 * (pinned first), then `hand` (made by hand, in order, the new one last) is
 * appended and planned around them. The last hand guest's address is
 * checked (guest_ip_check). s is changed. */
int guest_args_plan(struct spec *s, const struct plan_env *env, const struct spec_guest *hand,
		    size_t n_hand, struct plan **out, struct xerr *e);
/* The planned guest's address must be a usable one of the lab subnet that
 * no other node of the plan has. */
int guest_ip_check(const struct plan *p, const struct plan_guest *pg, struct xerr *e);

#endif
