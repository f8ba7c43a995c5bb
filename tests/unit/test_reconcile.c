/* up's decisions before it touches anything: a host's definition identity,
 * what to do with a host that exists, whether the lab already matches. */
#include <criterion/criterion.h>
#include <string.h>

#include "reconcile.h"
#include "spec.h"

static uint64_t disks[] = { 1 << 30 };
static struct spec_host sh = {
	.name = "h1", .memory = 2048ULL << 20, .dom0_mem = 1024ULL << 20,
	.data_disk = 8ULL << 30, .vcpus = 2, .disks = disks, .n_disks = 1,
};
static struct plan_host ph = { .spec = &sh, .mac = "42:83:a1:00:00:10", .ip = "10.9.0.10" };
static const struct host_inputs in = {
	.image = "xen-4.17", .image_manifest = "aa", .accel = "qemu",
};

static void hash_with(void (*change)(struct spec_host *, struct plan_host *,
				     struct host_inputs *),
		      char out[65])
{
	struct spec_host h = sh;
	struct plan_host p = ph;
	struct host_inputs i = in;

	p.spec = &h;
	if (change)
		change(&h, &p, &i);
	host_definition_hash(&p, &i, out);
}

static void more_memory(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)p, (void)i;
	h->memory += 1 << 20;
}
static void no_extra_disk(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)p, (void)i;
	h->n_disks = 0;
}
static void other_ip(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)h, (void)i;
	strcpy(p->ip, "10.9.0.11");
}
static void other_image(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)h, (void)p;
	i->image_manifest = "bb";
}
static void kvm(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)h, (void)p;
	i->accel = "kvm";
}
static void shared(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)h, (void)p;
	i->shared_size = 4ULL << 30;
}
static void xen_args(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)p, (void)i;
	h->xen_args = "loglvl=all";
}

static void dom0_vcpus(struct spec_host *h, struct plan_host *p, struct host_inputs *i)
{
	(void)p, (void)i;
	h->dom0_vcpus = 2;
}

Test(reconcile, every_input_of_a_host_changes_its_hash)
{
	void (*changes[])(struct spec_host *, struct plan_host *, struct host_inputs *) = {
		more_memory, no_extra_disk, other_ip, other_image, kvm, shared, xen_args,
		dom0_vcpus,
	};
	char base[65], again[65], other[65];

	hash_with(NULL, base);
	hash_with(NULL, again);
	cr_assert_str_eq(base, again, "same inputs, same hash");
	cr_assert_eq(strlen(base), 64);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		hash_with(changes[i], other);
		cr_assert_str_neq(base, other, "change %zu left the hash alone", i);
	}
}

Test(reconcile, what_up_does_with_a_host)
{
	cr_assert_eq(host_action_decide(false, NULL, "a", false), HOST_DEFINE);
	cr_assert_eq(host_action_decide(false, "b", "a", true), HOST_DEFINE);
	cr_assert_eq(host_action_decide(true, "a", "a", false), HOST_KEEP);
	/* Defined, then cut before the store recorded it: this lab's, kept. */
	cr_assert_eq(host_action_decide(true, NULL, "a", false), HOST_KEEP);
	cr_assert_eq(host_action_decide(true, "b", "a", false), HOST_REFUSE);
	cr_assert_eq(host_action_decide(true, "b", "a", true), HOST_REBUILD);
}

Test(reconcile, a_removed_row_is_no_record)
{
	const struct db_host rows[] = {
		{ .name = "h1", .state = "removed", .definition_sha256 = "old" },
		{ .name = "h2", .state = "up", .definition_sha256 = "two" },
		{ .name = "h3", .state = "defined", .definition_sha256 = NULL },
	};

	cr_assert_null(host_recorded_hash(rows, 3, "h1"));
	cr_assert_str_eq(host_recorded_hash(rows, 3, "h2"), "two");
	cr_assert_null(host_recorded_hash(rows, 3, "h3"));
	cr_assert_null(host_recorded_hash(rows, 3, "h4"));
}

Test(reconcile, a_lab_matches_only_when_every_host_and_guest_does)
{
	struct spec_guest sg = { .name = "g1", .host = "h1" };
	struct plan_guest pg = { .spec = &sg, .host = &ph };
	struct plan plan = { .hosts = &ph, .n_hosts = 1, .guests = &pg, .n_guests = 1 };
	char want[1][65] = { "hash" };
	bool on[1] = { true }, off[1] = { false };
	const struct db_host up[] = { { .name = "h1", .state = "up", .definition_sha256 = "hash" } };
	const struct db_host stale[] = {
		{ .name = "h1", .state = "up", .definition_sha256 = "older" },
	};
	const struct db_host defined[] = {
		{ .name = "h1", .state = "defined", .definition_sha256 = "hash" },
	};
	const struct db_guest g_up[] = { { .name = "g1", .state = "up" } };
	const struct db_guest g_gone[] = { { .name = "g1", .state = "removed" } };

	cr_assert(lab_matches_plan(&plan, (const char (*)[65])want, on, up, 1, g_up, 1, false));
	cr_assert_not(lab_matches_plan(&plan, (const char (*)[65])want, off, up, 1, g_up, 1,
				       false),
		      "a host that is off");
	cr_assert_not(lab_matches_plan(&plan, (const char (*)[65])want, on, stale, 1, g_up, 1,
				       false),
		      "a host made from another definition");
	cr_assert_not(lab_matches_plan(&plan, (const char (*)[65])want, on, defined, 1, g_up, 1,
				       false),
		      "a host whose up did not finish");
	cr_assert_not(lab_matches_plan(&plan, (const char (*)[65])want, on, up, 1, g_gone, 1,
				       false),
		      "a guest that is gone");
	cr_assert_not(lab_matches_plan(&plan, (const char (*)[65])want, on, up, 1, NULL, 0, false));
	cr_assert(lab_matches_plan(&plan, (const char (*)[65])want, on, up, 1, NULL, 0, true),
		  "--no-guests looks at the hosts only");
}
