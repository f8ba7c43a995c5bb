/* The command table: every command, subcommand and option of xlab, described
 * once. Help, the refusal of unknown options and shell completion all read
 * it; docs/xlab.1 and README.md are checked against it (tests/integration/
 * test_cli.c). */
#include <stddef.h>

#include "cmd.h"
#include "guestargs.h"

#define OPT_END { NULL, 0, NULL, NULL }
#define OPT_CONNECT { "connect", 0, "URI", "libvirt URI (default: $XLAB_CONNECT, the spec's libvirt:, qemu:///system)" }
#define OPT_ACCEL { "accel", 0, "kvm|qemu", "accelerator of the nested hosts (default: what the machine has)" }
#define OPT_TIMEOUT { "timeout", 0, "SECONDS", "how long a host may take to boot (default 600)" }
#define OPT_JSON { "json", 0, NULL, "print JSON instead of a table" }

const struct cmd_opt xlab_global_opts[] = {
	OPT_CONNECT,
	{ "help", 'h', NULL, "show the commands, or one command's help" },
	{ "version", 0, NULL, "print xlab's version" },
	OPT_END,
};

static const struct cmd_opt image_rm_opts[] = {
	{ "server", 0, "NAME", "take it off that server's pool: its manifest, and files no other "
			       "image there lists" },
	OPT_END,
};

static const struct cmd_opt plan_opts[] = {
	OPT_ACCEL,
	{ "servers", 0, "A,B", "show where `up --servers` would place the hosts now (measures them)" },
	OPT_END,
};

static const struct cmd_opt validate_opts[] = { OPT_END };

static const struct cmd_opt runs_opts[] = {
	OPT_JSON,
	{ "limit", 0, "N", "show at most N runs, newest first (default 50)" },
	OPT_END,
};

static const struct cmd_opt up_opts[] = {
	OPT_CONNECT,
	OPT_ACCEL,
	{ "recreate", 0, NULL, "remake every host even when it already matches the spec" },
	{ "no-guests", 0, NULL, "bring up the hosts only (no agent, guests or tests)" },
	{ "no-tests", 0, NULL, "do not run the spec's tests" },
	OPT_TIMEOUT,
	{ "experiments", 0, NULL, "run the spec's migration experiments once the lab is up" },
	{ "server", 0, "NAME", "bring the lab up on that server (`xlab server list`) instead of "
			       "the spec's `server:`" },
	{ "servers", 0, "A,B", "place the hosts without a `server:` on these servers by memory "
			       "left: whole on one when it holds them" },
	OPT_END,
};

static const struct cmd_opt connect_opts[] = { OPT_CONNECT, OPT_END };
static const struct cmd_opt start_opts[] = { OPT_CONNECT, OPT_TIMEOUT, OPT_END };
static const struct cmd_opt status_opts[] = { OPT_CONNECT, OPT_JSON, OPT_END };
static const struct cmd_opt json_opts[] = { OPT_JSON, OPT_END };
static const struct cmd_opt no_opts[] = { OPT_END };

static const struct cmd_opt console_opts[] = {
	{ "log", 0, NULL, "print the captured console log instead of attaching" },
	OPT_END,
};

static const struct cmd_opt vnc_opts[] = {
	{ "port", 0, "N", "local port of the tunnel to a guest's display" },
	{ "once", 0, NULL, "serve one VNC connection, then stop" },
	OPT_END,
};

static const struct cmd_opt report_opts[] = {
	{ "last", 0, "LAB", "the lab's most recent run instead of a run id" },
	{ "junit", 0, "FILE", "also write JUnit XML to FILE (- for stdout, then nothing else)" },
	OPT_JSON,
	{ "matrix", 0, "ID", "a matrix run's table instead of a run" },
	{ "compare", 0, NULL, "compare two runs' migrations and test actions: RUN1 RUN2" },
	{ "plot", 0, "DIR", "write gnuplot data and plots of migration rounds into DIR" },
	{ "html", 0, "DIR", "write a self-contained page of the run (or --matrix) to DIR/index.html" },
	OPT_END,
};

static const struct cmd_opt matrix_opts[] = {
	{ "xen", 0, "LIST", "Xen versions, comma-separated (default: the spec's matrix.xen)" },
	{ "image", 0, "LIST", "stored images as the columns instead (e.g. a derived one)" },
	{ "types", 0, "LIST", "guest types, comma-separated (pv,pvh,hvm): each version once per type" },
	{ "jobs", 0, "N", "copies run at once (default: as many as memory and cores fit)" },
	{ "servers", 0, "A,B", "run the cells on these servers, each as many at once as its memory holds" },
	{ "keep", 0, NULL, "leave every copy up afterwards" },
	OPT_JSON,
	{ "junit", 0, "FILE", "also write JUnit XML to FILE (- for stdout, then nothing else)" },
	{ "compare", 0, NULL, "compare two matrix runs: ID1 ID2" },
	OPT_CONNECT,
	OPT_ACCEL,
	OPT_TIMEOUT,
	OPT_END,
};

static const struct cmd_opt experiment_opts[] = {
	{ "rounds", 0, "N", "rounds per experiment, 1 to 1000, instead of the spec's" },
	OPT_END,
};

static const struct cmd_opt class_up_opts[] = {
	OPT_CONNECT,
	OPT_ACCEL,
	OPT_TIMEOUT,
	{ "copies", 0, "N", "how many copies (default: the spec's class.copies, or one per student)" },
	{ "students", 0, "CSV", "the students, one name per line (default: the spec's class.students)" },
	{ "only", 0, "NN", "start only this copy, e.g. one that failed" },
	{ "overcommit", 0, NULL, "start the copies even when they do not fit in memory and disk" },
	{ "servers", 0, "A,B", "place each copy on one of these servers (local, or added ones) by memory left" },
	OPT_END,
};

static const struct cmd_opt class_sheet_opts[] = {
	OPT_CONNECT,
	{ "format", 0, "md|csv|html", "the sheet's format (default md)" },
	{ "jump", 0, "USER@HOST", "the jump host students reach the lab through" },
	OPT_END,
};

static const struct cmd_opt class_reset_opts[] = { OPT_CONNECT, OPT_ACCEL, OPT_TIMEOUT, OPT_END };
static const struct cmd_opt class_status_opts[] = { OPT_CONNECT, OPT_JSON, OPT_END };

static const struct cmd_opt guest_create_opts[] = {
	{ "host", 0, "HOST", "the dom0 that runs the guest (required)" },
	{ "from-xl", 0, "FILE", "start from an xl.cfg file; KEY=VALUE arguments go over it" },
	{ "dry-run", 'n', NULL, "print the plan (LVM steps, xl config) and make nothing" },
	{ "console", 'c', NULL, "attach to the guest's console as it boots" },
	OPT_END,
};

static const struct cmd_opt guest_console_opts[] = {
	{ "console", 'c', NULL, "attach (Ctrl-] leaves) instead of printing the log" },
	OPT_END,
};

static const struct cmd_opt image_build_opts[] = {
	{ "force", 0, NULL, "rebuild when up to date; derive an unchecked version; replace NAME" },
	{ "from", 0, "BASE", "derive NAME from the stored image BASE (with --hypervisor)" },
	{ "hypervisor", 0, "PATH", "the Xen hypervisor (xen/xen.gz of a built xen.git tree)" },
	{ "xen-source", 0, "DIR|TARBALL", "build Xen from a xen.git tree or tarball (cached)" },
	{ "kconfig", 0, "KEY=VALUE", "a Kconfig setting for --xen-source (repeatable)" },
	{ "tools", 0, NULL, "build the dom0 tools from --xen-source too (automatic for a Xen "
			    "no Debian image carries)" },
	{ "hypervisor-only", 0, NULL, "never build the dom0 tools from --xen-source" },
	OPT_END,
};

static const struct cmd_opt image_import_opts[] = {
	{ "name", 0, "NAME", "store the image under NAME" },
	{ "force", 0, NULL, "replace an image of the same name" },
	OPT_END,
};

static const struct cmd_opt image_fetch_opts[] = {
	{ "sha256", 0, "HEX", "the archive's SHA-256 (required: it is how it is trusted)" },
	{ "name", 0, "NAME", "store the image under NAME" },
	{ "force", 0, NULL, "replace an image of the same name" },
	OPT_END,
};

static const struct cmd_opt storage_opts[] = { OPT_JSON, OPT_END };

static const struct cmd_opt completion_opts[] = { OPT_END };

static const struct cmd_opt graph_opts[] = {
	{ "format", 0, "dot|mermaid|svg",
	  "the picture's format (default: svg for -o *.svg, else dot)" },
	{ "output", 'o', "FILE", "write it to FILE (atomically) instead of stdout" },
	OPT_END,
};

static const struct cmd_sub image_subs[] = {
	{ "build", "NAME",
	  "build a dom0 image from the Debian mirror (xen-4.17, xen-4.20 with xlab's lean kernel; "
	  "xen-4.17-debian, xen-4.20-debian with Debian's), or derive one",
	  image_build_opts, CMD_ARG_NONE },
	{ "list", "", "images in the store", json_opts, CMD_ARG_NONE },
	{ "inspect", "NAME", "an image's manifest, verified", json_opts, CMD_ARG_IMAGE },
	{ "rm", "NAME [--server SERVER]",
	  "remove an image, or its copy on a server (refused while a lab uses it)", image_rm_opts,
	  CMD_ARG_IMAGE },
	{ "fetch", "URL --sha256 HEX", "download an image archive, check it, add it to the store",
	  image_fetch_opts, CMD_ARG_NONE },
	{ "import", "DIR|ARCHIVE", "add a local image directory or archive to the store",
	  image_import_opts, CMD_ARG_FILE },
	{ "export", "NAME FILE", "write an image as a tar.gz that `fetch` reads", no_opts,
	  CMD_ARG_IMAGE },
	{ "push", "NAME SERVER",
	  "put an image on a server (`xlab server add`): sent through libvirt, read back, "
	  "checked; what is there already is not sent again",
	  no_opts, CMD_ARG_IMAGE },
	{ NULL, NULL, NULL, NULL, CMD_ARG_NONE },
};

static const struct cmd_sub class_subs[] = {
	{ "up", "FILE", "bring up N copies of a lab, each with its own network, subnet and key",
	  class_up_opts, CMD_ARG_FILE },
	{ "sheet", "LAB", "the students' access sheet: hosts, SSH, key, VNC per copy",
	  class_sheet_opts, CMD_ARG_LAB },
	{ "reset", "LAB COPY",
	  "bring one copy back to its start: its start snapshot, else rebuilt (same keys)",
	  class_reset_opts, CMD_ARG_LAB },
	{ "status", "[LAB]", "every copy: up, broken, resetting...", class_status_opts,
	  CMD_ARG_LAB },
	{ "down", "LAB", "take every copy down and leave nothing", connect_opts, CMD_ARG_LAB },
	{ "snapshot", "LAB NAME", "keep every copy as it runs now (`xlab snapshot` of each)",
	  start_opts, CMD_ARG_LAB },
	{ "revert", "LAB NAME", "every copy back to a snapshot (\"everyone back to exercise 2\")",
	  start_opts, CMD_ARG_LAB },
	{ NULL, NULL, NULL, NULL, CMD_ARG_NONE },
};

static const struct cmd_sub snapshot_subs[] = {
	{ "create", "LAB NAME",
	  "keep the running lab: every host paused, saved with its memory, resumed (the default)",
	  connect_opts, CMD_ARG_LAB },
	{ "list", "LAB", "the lab's snapshots: when taken, hosts, guests, how long", json_opts,
	  CMD_ARG_LAB },
	{ "rm", "LAB NAME", "remove a snapshot from every host and the store", connect_opts,
	  CMD_ARG_LAB },
	{ NULL, NULL, NULL, NULL, CMD_ARG_NONE },
};

static const struct cmd_sub guest_subs[] = {
	{ "create", "LAB NAME --host HOST [KEY=VALUE...]",
	  "make a guest in a running lab, like xl create (KEY=VALUE as in a spec's guest: "
	  GUEST_ARGS_KEYS ")",
	  guest_create_opts, CMD_ARG_LAB },
	{ "rm", "LAB NAME", "destroy a guest made by hand and its volumes", no_opts, CMD_ARG_LAB },
	{ "list", "LAB", "the lab's guests and who made each", json_opts, CMD_ARG_LAB },
	{ "console", "LAB NAME", "a guest's console log, or attach to it", guest_console_opts,
	  CMD_ARG_LAB },
	{ NULL, NULL, NULL, NULL, CMD_ARG_NONE },
};

static const struct cmd_sub server_subs[] = {
	{ "add", "NAME URI",
	  "add a libvirt server labs may run on (qemu+ssh://root@HOST/system?keyfile=KEY); "
	  "its SSH host key is pinned",
	  no_opts, CMD_ARG_NONE },
	{ "list", "", "every server, local first: CPUs, memory, free disk, versions, reachable",
	  json_opts, CMD_ARG_NONE },
	{ "rm", "NAME", "forget a server and its pinned key (refused while a lab uses it)",
	  no_opts, CMD_ARG_NONE },
	{ NULL, NULL, NULL, NULL, CMD_ARG_NONE },
};

const struct cmd xlab_commands[] = {
	{ "help", cmd_help, "[COMMAND [SUBCOMMAND]]", "show commands, or one command's help",
	  no_opts, NULL, CMD_ARG_COMMAND },
	{ "validate", cmd_validate, "FILE...|-",
	  "check lab specs (- reads stdin); every error as FILE:LINE:COL", validate_opts, NULL,
	  CMD_ARG_FILE },
	{ "plan", cmd_plan, "FILE", "print what `up` would make: XML, LVM steps, xl configs",
	  plan_opts, NULL, CMD_ARG_FILE },
	{ "runs", cmd_runs, "[LAB]", "list recorded runs", runs_opts, NULL, CMD_ARG_LAB },
	{ "image", cmd_image, "SUBCOMMAND [ARGS...]",
	  "dom0 images per Xen version: build from Debian, fetch, store", NULL, image_subs,
	  CMD_ARG_NONE },
	{ "up", cmd_up, "FILE|LAB",
	  "bring a lab up (a LAB name: from its stored spec): hosts, agent, guests, tests",
	  up_opts, NULL, CMD_ARG_LAB_FILE },
	{ "down", cmd_down, "LAB|FILE", "remove every domain, network and file of a lab",
	  connect_opts, NULL, CMD_ARG_LAB_FILE },
	{ "stop", cmd_stop, "LAB|FILE",
	  "park a lab: guests and hosts shut down cleanly, disks and guests kept", connect_opts,
	  NULL, CMD_ARG_LAB_FILE },
	{ "start", cmd_start, "LAB|FILE",
	  "bring a stopped lab back as it was, hand-made guests too (nothing rebuilt)",
	  start_opts, NULL, CMD_ARG_LAB_FILE },
	{ "status", cmd_status, "[LAB]", "labs and their hosts and guests", status_opts, NULL,
	  CMD_ARG_LAB },
	{ "list", cmd_list, "LAB", "every domain of a lab, as `xl list` shows them", json_opts,
	  NULL, CMD_ARG_LAB },
	{ "ssh", cmd_ssh, "LAB HOST|GUEST [-- CMD...]",
	  "a shell or a command in a dom0 or an SSH-serving guest", no_opts, NULL, CMD_ARG_LAB },
	{ "cp", cmd_cp, "LAB SRC HOST:DST | LAB HOST:SRC DST", "copy a file to or from a dom0 (SFTP)",
	  no_opts, NULL, CMD_ARG_LAB },
	{ "console", cmd_console, "LAB NAME", "a host's serial or a guest's console", console_opts,
	  NULL, CMD_ARG_LAB },
	{ "vnc", cmd_vnc, "LAB HOST|GUEST",
	  "a host's VNC address, or a tunnel to a vnc: true guest's display", vnc_opts, NULL,
	  CMD_ARG_LAB },
	{ "test", cmd_test, "LAB|FILE", "run the spec's tests again", no_opts, NULL,
	  CMD_ARG_LAB_FILE },
	{ "report", cmd_report, "RUN | --last LAB | --matrix ID | --compare RUN1 RUN2",
	  "a run's steps and test results; JUnit XML for CI; an HTML page; runs compared, plotted",
	  report_opts, NULL, CMD_ARG_NONE },
	{ "matrix", cmd_matrix, "FILE | --compare ID1 ID2",
	  "run a lab's tests on several Xen versions: one copy per version, one table",
	  matrix_opts, NULL, CMD_ARG_FILE },
	{ "experiment", cmd_experiment, "LAB [NAME]",
	  "live-migration experiments: rounds of xl migrate, wall time and downtime",
	  experiment_opts, NULL, CMD_ARG_LAB },
	{ "class", cmd_class, "SUBCOMMAND [ARGS...]",
	  "teaching labs: N isolated copies of a lab, an access sheet, reset, one down", NULL,
	  class_subs, CMD_ARG_NONE },
	{ "guest", cmd_guest, "SUBCOMMAND [ARGS...]", "guests made by hand in a running lab",
	  NULL, guest_subs, CMD_ARG_NONE },
	{ "storage", cmd_storage,
	  "LAB HOST | LAB HOST add-disk SIZE | LAB HOST remove-disk SERIAL | LAB HOST resize GUEST SIZE",
	  "a running host's PVs, VGs and LVs; add or remove a disk, grow a guest's volume",
	  storage_opts, NULL, CMD_ARG_LAB },
	{ "completion", cmd_completion, "bash", "print a shell completion script", completion_opts,
	  NULL, CMD_ARG_NONE },
	{ "graph", cmd_graph, "LAB|FILE",
	  "a picture of a lab: hosts, guests, network, shared disk, migration paths",
	  graph_opts, NULL, CMD_ARG_LAB_FILE },
	{ "snapshot", cmd_snapshot, "LAB NAME | list LAB | rm LAB NAME",
	  "keep a running lab (hosts with their memory, guests running) to go back to", NULL,
	  snapshot_subs, CMD_ARG_LAB, "create" },
	{ "revert", cmd_revert, "LAB NAME",
	  "bring a lab back to a snapshot: hosts, guests and store as they were then",
	  start_opts, NULL, CMD_ARG_LAB },
	{ "server", cmd_server, "SUBCOMMAND [ARGS...]",
	  "libvirt servers labs may run on: this machine (local) and others by URI", NULL,
	  server_subs, CMD_ARG_NONE },
	/* xlab-commands-end: new rows go above this line */
	{ NULL, NULL, NULL, NULL, NULL, NULL, CMD_ARG_NONE },
};
