/* xlab plan FILE: what `up` would make, printed, with nothing touched. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "server_images.h"
#include "image.h"
#include "names.h"
#include "paths.h"
#include "plan.h"
#include "spec.h"
#include "subnet.h"
#include "up.h"
#include "util.h"
#include "virt.h"

/* A guess without libvirt: `up` asks libvirt's domain capabilities. */
static const char *accel_guess(void)
{
	_cleanup_free_ char *cpuinfo = NULL;
	size_t len;
	struct xerr e = { 0 };

	if (access("/dev/kvm", R_OK | W_OK) != 0 ||
	    file_read_all("/proc/cpuinfo", 0, &cpuinfo, &len, &e) < 0)
		return "qemu";
	return virt_cpuinfo_has_hwvirt(cpuinfo) ? "kvm" : "qemu";
}

int cmd_plan_build(const struct spec *s, const char *accel, struct plan **out, struct xerr *e)
{
	_cleanup_free_ char *home = NULL, *state = NULL;
	char subnet[20], store_id[XLAB_STORE_ID_LEN + 1];

	if (xlab_home(&home, e) < 0 || xlab_store_id(store_id, e) < 0)
		return -1;
	if (s->subnet)
		snprintf(subnet, sizeof(subnet), "%s", s->subnet);
	else if (subnet_allocate(s->lab, NULL, 0, subnet, e) < 0)
		return -1;
	state = names_lab_dir(home, s->lab);
	{
		/* A host on a server: its disks as volumes of the pool xlab makes
		 * there (an existing pool of another directory moves them). */
		const char **dirs = xcalloc(s->n_hosts + 1, sizeof(*dirs));
		bool *direct = xcalloc(s->n_hosts + 1, sizeof(*direct));
		struct plan_env env = {
			.state_dir = state,
			.accel = accel,
			.subnet = subnet,
			.store_id = store_id,
			.volume_dirs = dirs,
			.direct_boot = direct,
		};
		int rc;

		/* As up would boot it: by the image in the store, or its recipe. */
		for (size_t i = 0; i < s->n_hosts; i++) {
			_cleanup_free_ char *image = spec_host_image_name(s, &s->hosts[i]);

			dirs[i] = spec_host_server(s, &s->hosts[i]) ? SERVER_POOL_DIR : NULL;
			direct[i] = image_name_boots_direct(image);
		}
		rc = plan_build(s, &env, out, e);
		free(dirs);
		free(direct);
		return rc;
	}
}

int cmd_plan(int argc, char **argv, struct xerr *e)
{
	static const struct option longopts[] = {
		{ "accel", required_argument, NULL, 'a' },
		{ "servers", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *accel = NULL, *servers = NULL;
	struct spec *s = NULL;
	struct spec_diags diags = { 0 };
	struct plan *p = NULL;
	_cleanup_free_ char *image = NULL;
	int c, rc = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'S') {
			servers = optarg;
			continue;
		}
		if (c != 'a')
			return cmd_usage_error(e, "plan", "unknown option");
		if (strcmp(optarg, "kvm") != 0 && strcmp(optarg, "qemu") != 0)
			return cmd_usage_error(e, "plan", "--accel takes kvm or qemu, not '%s'",
					       optarg);
		accel = optarg;
	}
	if (optind != argc - 1)
		return cmd_usage_error(e, "plan", "expected one spec file");
	if (spec_load(argv[optind], &s, &diags, e) < 0) {
		spec_diags_report(&diags, e, stderr);
		goto out;
	}
	if (!accel)
		accel = accel_guess();
	if (servers && lab_place_hosts(s, servers, e) < 0)
		goto out;
	if (cmd_plan_build(s, accel, &p, e) < 0)
		goto out;
	image = spec_mixed_images(s) ? xstrdup("per host (mixed versions)") :
				       spec_host_image_name(s, &s->hosts[0]);
	printf("# xlab plan %s (spec sha256 %s); image %s; accel %s%s\n", argv[optind], s->sha256,
	       image, accel,
	       s->subnet ? "" : "; subnet from the pool (the store may pick another "
				"if this one is taken)");
	if (servers)
		printf("# placed by memory left among %s, as measured now\n", servers);
	if (p->spread)
		printf("# across servers: each host on its server (there its disks are volumes of "
		       "the pool '%s'), one lab network joined between them by VXLAN, every dom0 "
		       "reached through server %s\n",
		       SERVER_POOL, plan_server_name(p->hosts[0].server));
	else if (spec_server(s))
		printf("# on server %s: disks are volumes of its pool '%s', the config disk and "
		       "boot ISO are uploaded there, the dom0s are reached through its sshd\n",
		       s->server, SERVER_POOL);
	plan_print(p, stdout);
	rc = 0;
out:
	plan_free(p);
	spec_diags_free(&diags);
	spec_free(s);
	return rc;
}
