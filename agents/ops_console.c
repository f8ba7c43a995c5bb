/* Guest consoles: each guest's console is copied to a log in dom0 by a
 * detached process, so it outlives the agent's session; the controller reads
 * the log's tail or waits for a line in it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "ops.h"
#include "sys.h"
#include "util.h"

#define CONSOLE_TAIL_DEFAULT (64 * 1024)
#define CONSOLE_TAIL_MAX (1024 * 1024)
#define CONSOLE_SCAN_MAX (64 * 1024 * 1024)
#define WAIT_TAIL 1500
#define WAIT_POLL_MS 250
#define WAIT_GAP_MS 100

static char *console_log(const char *name)
{
	return agent_path(AGENT_LOG_DIR "/%s.console", name);
}

static void copy_all(int from, int to)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(from, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && write(to, chunk, (size_t)n) < 0)
			break;
}

/* Xen's console client, in the directory of the dom0's xl (xlab-init picks
 * it the same way: the last /usr/lib/xen-* with an xl). NULL without one.
 * A directory scan, not glob(3): a static glibc's glob brings NSS along. */
static char *xenconsole_path(void)
{
	_cleanup_free_ char *lib = agent_path("/usr/lib");
	_cleanup_free_ char *best = NULL;
	DIR *d = opendir(lib);
	struct dirent *de;
	char *found;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		_cleanup_free_ char *xl = NULL;

		if (strncmp(de->d_name, "xen-", 4) || (best && strcmp(de->d_name, best) <= 0))
			continue;
		xl = xasprintf("%s/%s/bin/xl", lib, de->d_name);
		if (access(xl, X_OK) == 0) {
			free(best);
			best = xstrdup(de->d_name);
		}
	}
	closedir(d);
	if (!best)
		return NULL;
	found = xasprintf("%s/%s/bin/xenconsole", lib, best);
	if (access(found, X_OK) < 0) {
		free(found);
		return NULL;
	}
	return found;
}

/* The copier: the console client insists on a terminal, so it gets a pty
 * whose master side is copied to the log until the console closes (guest
 * gone). With the domain's id it runs Xen's xenconsole itself, which says
 * on fd 4 when it is reading (what xl does for `xl create -c`); else `xl
 * console`, which says nothing. */
static void __attribute__((noreturn)) copier(int log_fd, int notify_fd, const char *name,
					     int64_t domid, const char *xenconsole)
{
	int null = open("/dev/null", O_RDWR), master;
	pid_t pid;

	/* Nothing of the protocol channel may stay open here, or the
	 * controller's exec channel would never see EOF. */
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    dup2(log_fd, 3) < 0 || (notify_fd >= 0 && dup2(notify_fd, 4) < 0))
		_exit(1);
	/* dup2 onto itself keeps close-on-exec: the client must have fd 4. */
	if (notify_fd >= 0 && fcntl(4, F_SETFD, 0) < 0)
		_exit(1);
	closefrom(notify_fd >= 0 ? 5 : 4);
	signal(SIGPIPE, SIG_DFL);
	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0)
		_exit(1);
	if (pid == 0) {
		char id[24];

		close(3);
		/* pv: every guest type's kernel speaks on hvc0 (for HVM, the
		 * default would be the emulated serial port). */
		if (notify_fd >= 0) {
			snprintf(id, sizeof(id), "%lld", (long long)domid);
			execl(xenconsole, "xenconsole", "--type", "pv", "--start-notify-fd", "4", id,
			      (char *)NULL);
			_exit(127);
		}
		execlp("xl", "xl", "console", "-t", "pv", name, (char *)NULL);
		_exit(127);
	}
	if (notify_fd >= 0)
		close(4);
	copy_all(master, 3);
	waitpid(pid, NULL, 0);
	_exit(0);
}

/* Whether the client wrote its byte in time (it waits up to 5 s itself for
 * xenconsoled to give the domain a pty); EOF: it gave up or never started. */
static bool client_attached(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	int rc;

	while ((rc = poll(&p, 1, 6000)) < 0)
		if (errno != EINTR)
			return false;
	return rc > 0 && read(fd, &c, 1) == 1;
}

int console_capture_start(const char *name, int64_t domid, bool fresh, bool *attached,
			  struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path(AGENT_LOG_DIR);
	_cleanup_free_ char *log = console_log(name);
	_cleanup_free_ char *xenconsole = domid >= 0 ? xenconsole_path() : NULL;
	_cleanup_close_ int fd = -1, ready_r = -1, ready_w = -1;
	int pipefd[2];
	pid_t pid;

	if (attached)
		*attached = false;
	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	/* A new boot, a new log: an old marker must not count. */
	fd = open(log, O_WRONLY | O_CREAT | (fresh ? O_TRUNC : 0) | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", log);
	if (xenconsole) {
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return xerr_errno(e, XERR_IO, "cannot make a pipe for the console copier");
		ready_r = pipefd[0];
		ready_w = pipefd[1];
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return xerr_errno(e, XERR_IO, "cannot fork the console copier");
	if (pid == 0) {
		/* Double fork: the copier is nobody's child and outlives the agent. */
		setsid();
		if (fork() != 0)
			_exit(0);
		copier(fd, ready_w, name, domid, xenconsole);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (ready_w >= 0) {
		/* Ours closed: EOF comes when the client's copy is gone too. */
		close(ready_w);
		ready_w = -1;
		if (attached)
			*attached = client_attached(ready_r);
	}
	return 0;
}

/* The last `max` bytes of the file at fd, and its size. */
static int read_tail(int fd, size_t max, struct buf *out, off_t *size, struct xerr *e)
{
	struct stat st;
	off_t from;
	char chunk[65536];
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return xerr_errno(e, XERR_IO, "cannot stat the console log");
	*size = st.st_size;
	from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
	if (lseek(fd, from, SEEK_SET) < 0)
		return xerr_errno(e, XERR_IO, "cannot seek in the console log");
	while (out->len < max && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return xerr_errno(e, XERR_IO, "cannot read the console log");
		buf_append(out, chunk, (size_t)n > max - out->len ? max - out->len : (size_t)n);
	}
	return 0;
}

static int log_open(const char *name, int *fd, struct xerr *e)
{
	_cleanup_free_ char *log = console_log(name);

	*fd = open(log, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT)
		return xerr_set(e, XERR_NOTFOUND, "no console log for guest '%s' (%s)", name, log);
	if (*fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", log);
	return 0;
}

int op_guest_console(struct json_object *args, struct json_object **result, struct xerr *e)
{
	_cleanup_close_ int fd = -1;
	struct buf b = { 0 };
	const char *name;
	int64_t max;
	off_t size = 0;

	if (arg_name(args, AGENT_ARG_NAME, &name, e) < 0 ||
	    arg_int(args, AGENT_ARG_MAX_BYTES, false, CONSOLE_TAIL_DEFAULT, 1, CONSOLE_TAIL_MAX, &max,
		    e) < 0)
		return -1;
	if (log_open(name, &fd, e) < 0 || read_tail(fd, (size_t)max, &b, &size, e) < 0) {
		buf_free(&b);
		return -1;
	}
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_TEXT,
			       json_object_new_string_len(b.data ? b.data : "", (int)b.len));
	json_object_object_add(*result, AGENT_RES_SIZE, json_object_new_int64(size));
	buf_free(&b);
	return 0;
}

/* Whether `text` is in the log; on a miss, *tail gets the log's end. */
static int log_has(const char *name, const char *text, bool *found, struct buf *tail,
		   struct xerr *e)
{
	_cleanup_close_ int fd = -1;
	struct buf b = { 0 };
	off_t size;

	*found = false;
	if (log_open(name, &fd, e) < 0 || read_tail(fd, CONSOLE_SCAN_MAX, &b, &size, e) < 0) {
		buf_free(&b);
		return -1;
	}
	*found = b.len && memmem(b.data, b.len, text, strlen(text)) != NULL;
	tail->len = 0;
	if (!*found && b.len)
		buf_append(tail, b.data + (b.len > WAIT_TAIL ? b.len - WAIT_TAIL : 0),
			   b.len > WAIT_TAIL ? WAIT_TAIL : b.len);
	buf_free(&b);
	return 0;
}

/* Writes into the console logs' directory, as an inotify descriptor (-1:
 * none, the wait polls). */
static int log_watch(void)
{
	_cleanup_free_ char *dir = agent_path(AGENT_LOG_DIR);
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (fd >= 0 && inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Until NAME's console log changes (the marker looked for may be in it), at
 * most WAIT_POLL_MS; at least WAIT_GAP_MS, so a chatty guest's writes do not
 * have the whole log read again for each. Other guests' logs (the watch is
 * on the directory) do not count. */
static void log_change_wait(int ino, const char *name)
{
	_cleanup_free_ char *mine = xasprintf("%s.console", name);
	union {
		struct inotify_event ev;
		char bytes[4096];
	} buf;
	int64_t until = now_ms() + WAIT_POLL_MS;

	if (ino < 0) {
		usleep(WAIT_POLL_MS * 1000);
		return;
	}
	usleep(WAIT_GAP_MS * 1000);
	for (;;) {
		struct pollfd p = { .fd = ino, .events = POLLIN };
		int64_t left = until - now_ms();
		bool ours = false;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		while ((n = read(ino, buf.bytes, sizeof(buf.bytes))) > 0)
			for (char *at = buf.bytes; at < buf.bytes + n;) {
				const struct inotify_event *ev = (const struct inotify_event *)at;

				ours |= ev->len && !strcmp(ev->name, mine);
				at += sizeof(*ev) + ev->len;
			}
		if (ours)
			return;
	}
}

int op_guest_wait_console(struct json_object *args, struct json_object **result,
			  struct xerr *e)
{
	struct buf tail = { 0 };
	const char *name, *text;
	int64_t timeout_s, start = now_ms();
	bool found = false;
	_cleanup_close_ int ino = -1;

	if (arg_name(args, AGENT_ARG_NAME, &name, e) < 0 || arg_str(args, AGENT_ARG_TEXT, true, &text, e) < 0 ||
	    arg_int(args, AGENT_ARG_TIMEOUT_S, false, 60, 0, 86400, &timeout_s, e) < 0)
		return -1;
	if (!*text)
		return xerr_set(e, XERR_USAGE, "argument \"text\" is empty");
	ino = log_watch();
	for (;;) {
		struct xerr miss = { 0 };

		/* The log appears with the guest: until then it is only not found yet. */
		if (log_has(name, text, &found, &tail, &miss) < 0 && miss.kind != XERR_NOTFOUND) {
			*e = miss;
			buf_free(&tail);
			return -1;
		}
		if (found || now_ms() - start >= timeout_s * 1000)
			break;
		log_change_wait(ino, name);
	}
	if (!found) {
		xerr_set(e, XERR_TIMEOUT, "'%s' not on the console of '%s' within %lld s; "
			 "its last lines:\n%s", text, name, (long long)timeout_s,
			 tail.data ? tail.data : "(no console output)");
		buf_free(&tail);
		return -1;
	}
	buf_free(&tail);
	*result = json_object_new_object();
	json_object_object_add(*result, AGENT_RES_FOUND, json_object_new_boolean(true));
	json_object_object_add(*result, AGENT_RES_ELAPSED_MS,
			       json_object_new_int64(now_ms() - start));
	return 0;
}
