/* Guest consoles: each guest's console is copied to a log in dom0 by a
 * detached process, so it outlives the agent's session; the controller reads
 * the log's tail or waits for a line in it. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
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

/* The copier: `xl console` insists on a terminal, so it gets a pty whose
 * master side is copied to the log until the console closes (guest gone). */
static void __attribute__((noreturn)) copier(int log_fd, const char *name)
{
	int null = open("/dev/null", O_RDWR), master;
	pid_t pid;

	/* Nothing of the protocol channel may stay open here, or the
	 * controller's exec channel would never see EOF. */
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    dup2(log_fd, 3) < 0)
		_exit(1);
	closefrom(4);
	signal(SIGPIPE, SIG_DFL);
	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0)
		_exit(1);
	if (pid == 0) {
		close(3);
		/* -t pv: every guest type's kernel speaks on hvc0 (for HVM, xl's
		 * default would be the emulated serial port). */
		execlp("xl", "xl", "console", "-t", "pv", name, (char *)NULL);
		_exit(127);
	}
	copy_all(master, 3);
	waitpid(pid, NULL, 0);
	_exit(0);
}

int console_capture_start(const char *name, bool fresh, struct xerr *e)
{
	_cleanup_free_ char *dir = agent_path(AGENT_LOG_DIR);
	_cleanup_free_ char *log = console_log(name);
	_cleanup_close_ int fd = -1;
	pid_t pid;

	if (mkdir_p(dir, 0755, e) < 0)
		return -1;
	/* A new boot, a new log: an old marker must not count. */
	fd = open(log, O_WRONLY | O_CREAT | (fresh ? O_TRUNC : 0) | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return xerr_errno(e, XERR_IO, "cannot open %s", log);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return xerr_errno(e, XERR_IO, "cannot fork the console copier");
	if (pid == 0) {
		/* Double fork: the copier is nobody's child and outlives the agent. */
		setsid();
		if (fork() != 0)
			_exit(0);
		copier(fd, name);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
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
	off_t size;

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

int op_guest_wait_console(struct json_object *args, struct json_object **result,
			  struct xerr *e)
{
	struct buf tail = { 0 };
	const char *name, *text;
	int64_t timeout_s, start = now_ms();
	bool found = false;

	if (arg_name(args, AGENT_ARG_NAME, &name, e) < 0 || arg_str(args, AGENT_ARG_TEXT, true, &text, e) < 0 ||
	    arg_int(args, AGENT_ARG_TIMEOUT_S, false, 60, 0, 86400, &timeout_s, e) < 0)
		return -1;
	if (!*text)
		return xerr_set(e, XERR_USAGE, "argument \"text\" is empty");
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
		usleep(250 * 1000);
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
