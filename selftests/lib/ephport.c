// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for the ephport selftests; see ephport.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ephport.h"

const char *ep_strategies[EP_MAX_STRATEGIES];
int ep_nr_strategies;

int ep_read_strategies(void)
{
	static char list[1024];
	char *name, *save;
	int err, n = 0;

	err = ep_read(EP_SYSFS "/available_strategies", list, sizeof(list));
	if (err)
		return err;
	for (name = strtok_r(list, "\n ", &save); name && n < EP_MAX_STRATEGIES;
	     name = strtok_r(NULL, "\n ", &save))
		ep_strategies[n++] = name;
	ep_nr_strategies = n;
	return n ? n : -ENODATA;
}

static const char *ep_ko(void)
{
	const char *ko = getenv("EPHPORT_KO");

	return ko ? ko : "/ephport/ephport.ko";
}

int ep_load(const char *params)
{
	char cmd[512];
	int status;

	ep_unload();
	snprintf(cmd, sizeof(cmd), "insmod %s %s", ep_ko(), params);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status) ? -EINVAL : 0;
}

void ep_unload(void)
{
	if (ep_loaded() && system("rmmod ephport"))
		fprintf(stderr, "# rmmod ephport failed\n");
}

bool ep_loaded(void)
{
	return access(EP_SYSFS, F_OK) == 0;
}

int ep_write(const char *path, const char *value)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		err = -errno;
	else if ((size_t)n != strlen(value))
		err = -EIO;
	close(fd);
	return err;
}

int ep_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

long long ep_read_u64(const char *path)
{
	char buf[64];
	int err = ep_read(path, buf, sizeof(buf));

	return err ? err : strtoll(buf, NULL, 10);
}

bool ep_builtins_first(const char *list)
{
	size_t len = strlen(EP_BUILTIN_STRATEGIES);

	return !strncmp(list, EP_BUILTIN_STRATEGIES, len) &&
	       (list[len] == '\0' || list[len] == ' ' || list[len] == '\n');
}

const char *const ep_hooked[] = {
	"inet_hash_connect", "inet_csk_get_port", "udp_lib_get_port",
	"inet_put_port", "udp_lib_unhash", "inet_sk_get_local_port_range",
	NULL
};

int ep_redirected(const char *name)
{
	char line[512];
	size_t len = strlen(name);
	FILE *f = fopen("/sys/kernel/tracing/enabled_functions", "r");
	int found = 0;

	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, len) && line[len] == ' ';
	fclose(f);
	return found;
}

ssize_t ep_read_all(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n = 1;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while (len < size - 1 && n > 0) {
		n = read(fd, buf + len, size - 1 - len);
		if (n > 0)
			len += n;
	}
	if (n < 0)
		n = -errno;
	close(fd);
	buf[len] = '\0';
	return n < 0 ? n : (ssize_t)len;
}

ssize_t ep_write_buf(const char *path, const void *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

const char *ep_show(const char *s, size_t len)
{
	static char out[128];
	size_t i, o = 0;

	for (i = 0; i < len && o < 96; i++) {
		unsigned char c = s[i];

		if (c == '\n')
			o += sprintf(out + o, "\\n");
		else if (c == '\t')
			o += sprintf(out + o, "\\t");
		else if (c < 32 || c > 126)
			o += sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	if (i < len)
		o += sprintf(out + o, "...(%zu bytes)", len);
	out[o] = '\0';
	return out;
}

int ep_sysctl(const char *name, const char *value)
{
	char path[256];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	return ep_write(path, value);
}

int ep_new_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			err = -errno;
	} else {
		err = -errno;
	}
	close(fd);
	return err;
}

unsigned long ep_netns_inode(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

void ep_loopback(int family, int port, struct ep_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		a->len = sizeof(*sin6);
	}
}

int ep_socket(int family, int type)
{
	int fd = socket(family, type, 0);

	return fd < 0 ? -errno : fd;
}

int ep_listener(int family, int port)
{
	int fd = ep_socket(family, SOCK_STREAM);
	struct ep_addr a;

	if (fd < 0)
		return fd;
	ep_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	ep_loopback(family, port, &a);
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) || listen(fd, 4096)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int ep_acceptor(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
	return pid;
}

int ep_servers_start(struct ep_servers *s, int port)
{
	int i;

	for (i = 0; i < 2; i++) {
		s->acceptor[i] = -1;
		s->listener[i] = ep_listener(i ? AF_INET6 : AF_INET, port);
		if (s->listener[i] < 0)
			return s->listener[i];
		s->acceptor[i] = ep_acceptor(s->listener[i]);
	}
	return 0;
}

void ep_servers_stop(struct ep_servers *s)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (s->acceptor[i] > 0) {
			kill(s->acceptor[i], SIGKILL);
			waitpid(s->acceptor[i], NULL, 0);
		}
		if (s->listener[i] >= 0)
			close(s->listener[i]);
	}
}

int ep_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int ep_bind_port(int fd, int family, int port)
{
	struct ep_addr a;

	ep_loopback(family, port, &a);
	return bind(fd, (struct sockaddr *)&a.ss, a.len) ? -errno : 0;
}

int ep_connect_port(int fd, int family, int port)
{
	struct ep_addr a;

	ep_loopback(family, port, &a);
	return connect(fd, (struct sockaddr *)&a.ss, a.len) ? -errno : 0;
}

int ep_set_int(int fd, int level, int opt, int value)
{
	return setsockopt(fd, level, opt, &value, sizeof(value)) ? -errno : 0;
}

int ep_set_port_range(int fd, int low, int high)
{
	return ep_set_int(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
			  (unsigned int)high << 16 | low);
}

void ep_close_rst(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

void ep_netns_churn(const int *stop, int dport, int n, bool both_families)
{
	int l, fd, port, i;
	pid_t pid;

	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
		pid = fork();
		if (pid == 0) {
			if (ep_new_netns())
				_exit(1);
			l = ep_listener(AF_INET, dport);
			for (i = 0; i < n; i++) {
				fd = ep_alloc(both_families && i & 1 ? AF_INET6 : AF_INET,
					      i % EP_KINDS, dport, &port);
				if (fd >= 0)
					ep_close_rst(fd);
			}
			close(l);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
}

void ep_keep(int *fds, int *n, int max, int fd)
{
	int i;

	if (*n < max) {
		fds[(*n)++] = fd;
		return;
	}
	i = rand() % max;
	ep_close_rst(fds[i]);
	fds[i] = fd;
}

long long ep_proc_stat(const char *path, const char *column)
{
	char line[1024], *tok, *save;
	int col = -1, i;
	FILE *f;

	f = fopen(EP_PROCFS "/stats", "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		goto out;
	for (i = 0, tok = strtok_r(line, "\n ", &save); tok;
	     i++, tok = strtok_r(NULL, "\n ", &save))
		if (!strcmp(tok, column))
			col = i;
	while (col >= 0 && fgets(line, sizeof(line), f)) {
		tok = strtok_r(line, "\n ", &save);
		if (!tok || strcmp(tok, path))
			continue;
		for (i = 1; i <= col && tok; i++)
			tok = strtok_r(NULL, "\n ", &save);
		fclose(f);
		return tok ? strtoll(tok, NULL, 10) : -EINVAL;
	}
out:
	fclose(f);
	return -ENOENT;
}

const char *const ep_kind_names[EP_KINDS] = {
	"tcp-connect", "tcp-bind", "tcp-listen", "udp-bind", "udp-sendto",
	"udp-connect",
};

const int ep_kind_exhausted[EP_KINDS] = {
	EADDRNOTAVAIL, EADDRINUSE, EADDRINUSE, EADDRINUSE, EAGAIN, EAGAIN,
};

int ep_alloc(int family, enum ep_kind kind, int dport, int *port)
{
	int type = kind >= EP_UDP_BIND ? SOCK_DGRAM : SOCK_STREAM;
	int fd = ep_socket(family, type);
	struct ep_addr a;
	int err = 0;

	if (fd < 0)
		return fd;
	switch (kind) {
	case EP_TCP_CONNECT:
	case EP_UDP_CONNECT:
		err = ep_connect_port(fd, family, dport);
		break;
	case EP_TCP_BIND:
	case EP_UDP_BIND:
		err = ep_bind_port(fd, family, 0);
		break;
	case EP_TCP_LISTEN:
		err = listen(fd, 1) ? -errno : 0;
		break;
	case EP_UDP_SENDTO:
		ep_loopback(family, dport, &a);
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&a.ss, a.len) < 0)
			err = -errno;
		break;
	default:
		err = -EINVAL;
	}
	if (err) {
		close(fd);
		return err;
	}
	*port = ep_local_port(fd);
	return fd;
}

int ep_parse_log(int fd, struct ep_log *l)
{
	FILE *f = fdopen(fd, "r");
	char line[1024];

	memset(l, 0, sizeof(*l));
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -ENODATA;
	}
	snprintf(l->header, sizeof(l->header), "%s", line);
	while (fgets(line, sizeof(line), f)) {
		struct ep_log_entry *e = &l->e[l->n < EP_MAX_LOG ? l->n : EP_MAX_LOG - 1];
		int off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%lf %31s %63s %63s %lld %31s %31s %31s %15s %n", &e->time,
			   e->path, e->local, e->remote, &e->probes, e->strategy, e->rule,
			   e->result, e->pid, &off) != 9 || !off) {
			fclose(f);
			return -EBADMSG;
		}
		snprintf(e->comm, sizeof(e->comm), "%s", line + off);
		l->n++;
	}
	fclose(f);
	return l->n;
}

int ep_read_log(struct ep_log *l)
{
	int fd = open(EP_PROCFS "/allocations", O_RDONLY);

	return fd < 0 ? -errno : ep_parse_log(fd, l);
}

int ep_become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(EP_NOBODY, EP_NOBODY, EP_NOBODY) ||
	    setresuid(EP_NOBODY, EP_NOBODY, EP_NOBODY))
		return -errno;
	/* Keep /proc/self ours despite the uid change. */
	prctl(PR_SET_DUMPABLE, 1);
	return 0;
}

int ep_child_status(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

pid_t ep_fork(void)
{
	fflush(stdout);
	fflush(stderr);
	return fork();
}

int ep_in_child(int (*fn)(void *arg), void *arg)
{
	pid_t pid = ep_fork();

	if (!pid)
		_exit(fn(arg) & 0x7f);
	return ep_child_status(pid);
}

int ep_wait_go(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

int ep_send_go(int fd)
{
	return write(fd, "g", 1) == 1 ? 0 : -1;
}
