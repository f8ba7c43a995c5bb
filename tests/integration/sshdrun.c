#include "sshdrun.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static char dir[] = "/tmp/xlab-sshc-XXXXXX";
static int port;
pid_t sshd_pid = -1;
/* Strings a target points to, freed at teardown. */
static char *kept[16];
static size_t n_kept;

char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void keygen(const char *name, const char *comment)
{
	_cleanup_free_ char *priv = path_in(name);
	_cleanup_free_ char *pub = xasprintf("%s.pub", priv);
	struct xerr e = { 0 };

	cr_assert_eq(sshkey_generate_ed25519(priv, pub, comment, &e), 0, "%s", e.msg);
}

void write_text(const char *name, const char *text)
{
	_cleanup_free_ char *p = path_in(name);
	struct xerr e = { 0 };

	cr_assert_eq(file_write_atomic(p, text, strlen(text), 0644, &e), 0, "%s", e.msg);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

void sshd_setup(void)
{
	_cleanup_free_ char *pub = NULL, *authorized = NULL, *cfg = NULL;
	struct xerr e = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	port = free_port();
	keygen("hostkey", "host");
	keygen("otherhost", "other");
	keygen("client", "client");
	keygen("stranger", "stranger");
	pub = path_in("client.pub");
	cr_assert_eq(sshkey_public_line(pub, &authorized, &e), 0, "%s", e.msg);
	authorized = xrealloc(authorized, strlen(authorized) + 2);
	strcat(authorized, "\n");
	write_text("authorized_keys", authorized);
	cfg = xasprintf("HostKey %s/hostkey\n"
			"AuthorizedKeysFile %s/authorized_keys\n"
			"PermitRootLogin yes\n"
			"ListenAddress 127.0.0.1\n"
			"StrictModes no\n"
			"UsePAM no\n"
			"PidFile none\n"
			"PasswordAuthentication no\n"
			"KbdInteractiveAuthentication no\n"
			"Subsystem sftp internal-sftp\n"
			"LogLevel ERROR\n",
			dir, dir);
	write_text("sshd_config", cfg);
	mkdir("/run/sshd", 0755);
}

void sshd_start(void)
{
	_cleanup_free_ char *cfg = path_in("sshd_config");
	_cleanup_free_ char *log = path_in("sshd.log");
	_cleanup_free_ char *portstr = xasprintf("%d", port);

	sshd_pid = fork();
	cr_assert(sshd_pid >= 0);
	if (sshd_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, STDERR_FILENO);
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg, "-p", portstr, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !port_open(); i++) {
		if (waitpid(sshd_pid, NULL, WNOHANG) != 0) {
			_cleanup_free_ char *text = NULL;
			struct xerr e = { 0 };
			size_t len;

			sshd_pid = -1;
			file_read_all(log, 0, &text, &len, &e);
			cr_assert_fail("sshd exited: %s", text ? text : e.msg);
		}
		usleep(25 * 1000);
	}
	cr_assert(port_open(), "sshd did not listen on %d", port);
}

void sshd_teardown(void)
{
	struct xerr e = { 0 };

	if (sshd_pid > 0) {
		/* A test cut short may have left it stopped: SIGTERM waits for SIGCONT. */
		kill(sshd_pid, SIGCONT);
		kill(sshd_pid, SIGTERM);
		waitpid(sshd_pid, NULL, 0);
		sshd_pid = -1;
	}
	rm_rf(dir, &e);
	while (n_kept)
		free(kept[--n_kept]);
}

static char *keep(char *p)
{
	cr_assert_lt(n_kept, ARRAY_SIZE(kept));
	return kept[n_kept++] = p;
}

struct sshc_target target(const char *client, const char *hostpub)
{
	struct sshc_target t = {
		.addr = "127.0.0.1",
		.port = port,
		.user = "root",
		.key_path = keep(path_in(client)),
		.host_pub_path = keep(path_in(hostpub)),
		.connect_timeout_ms = 5000,
	};
	return t;
}

struct sshc *connect_ok(void)
{
	struct sshc_target t = target("client", "hostkey.pub");
	struct xerr e = { 0 };
	struct sshc *c = NULL;

	cr_assert_eq(sshc_connect(&t, &c, &e), 0, "%s", e.msg);
	return c;
}

void files_equal(const char *a, const char *b)
{
	_cleanup_free_ char *da = NULL, *db = NULL;
	size_t la, lb;
	struct xerr e = { 0 };

	cr_assert_eq(file_read_all(a, 0, &da, &la, &e), 0, "%s", e.msg);
	cr_assert_eq(file_read_all(b, 0, &db, &lb, &e), 0, "%s", e.msg);
	cr_assert_eq(la, lb, "%s: %zu bytes, %s: %zu bytes", a, la, b, lb);
	cr_assert(memcmp(da, db, la) == 0, "%s and %s differ", a, b);
}

static pid_t parent_of(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "r");
	char comm[256];
	int ppid = -1;

	/* sshd's comm has no spaces or parentheses. */
	if (!f || fscanf(f, "%*d (%255[^)]) %*c %d", comm, &ppid) != 2)
		return -1;
	return ppid;
}

/* Signals sshd and every process under it: each session is a process
 * tree of its own (sshd calls setsid), so a group kill misses it. */
int sshd_signal_tree(int sig)
{
	pid_t tree[64] = { sshd_pid };
	size_t n = 1, before;
	DIR *d;
	struct dirent *de;

	do {
		before = n;
		d = opendir("/proc");
		cr_assert_not_null(d);
		while ((de = readdir(d)) && n < ARRAY_SIZE(tree)) {
			pid_t pid = (pid_t)atoi(de->d_name), pp;
			bool known = false;

			if (pid <= 0 || (pp = parent_of(pid)) <= 0)
				continue;
			for (size_t i = 0; i < n; i++)
				known |= tree[i] == pid;
			for (size_t i = 0; i < n && !known; i++) {
				if (tree[i] == pp) {
					tree[n++] = pid;
					break;
				}
			}
		}
		closedir(d);
	} while (n != before);
	for (size_t i = 0; i < n; i++)
		kill(tree[i], sig);
	return (int)n;
}
