// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_sock - make sockets whose local port the kernel picks, for the
 * demo and the shell tests.  Each socket's local port is printed; the
 * sockets stay open until the program ends (after -w SECONDS).
 *
 *   ephport_sock [-6] [-w SECONDS] listen PORT      accept forever
 *   ephport_sock [-6] [-w SECONDS] connect PORT N   N TCP connections
 *   ephport_sock [-6] [-w SECONDS] bind N           N TCP bind(0)s
 *   ephport_sock [-6] [-w SECONDS] udp PORT N       N UDP sendto()s
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ephport.h"

static int print_usage(void)
{
	fputs("usage: ephport_sock [-6] [-w SECONDS] listen PORT | connect PORT N | bind N\n"
	      "       ephport_sock [-6] [-w SECONDS] udp PORT N\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	int family = AF_INET, wait = 0, opt, i, n, port, dport = 0, fd, err = 0;
	enum ep_kind kind;

	while ((opt = getopt(argc, argv, "6w:")) != -1) {
		if (opt == '6')
			family = AF_INET6;
		else if (opt == 'w')
			wait = atoi(optarg);
		else
			return print_usage();
	}
	argv += optind;
	argc -= optind;
	if (argc < 2)
		return print_usage();

	if (!strcmp(argv[0], "listen")) {
		fd = ep_listener(family, atoi(argv[1]));
		if (fd < 0) {
			fprintf(stderr, "listen: %s\n", strerror(-fd));
			return 1;
		}
		for (;;) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}

	if (!strcmp(argv[0], "connect") && argc == 3) {
		kind = EP_TCP_CONNECT;
		dport = atoi(argv[1]);
		n = atoi(argv[2]);
	} else if (!strcmp(argv[0], "udp") && argc == 3) {
		kind = EP_UDP_SENDTO;
		dport = atoi(argv[1]);
		n = atoi(argv[2]);
	} else if (!strcmp(argv[0], "bind") && argc == 2) {
		kind = EP_TCP_BIND;
		n = atoi(argv[1]);
	} else {
		return print_usage();
	}

	for (i = 0; i < n; i++) {
		fd = ep_alloc(family, kind, dport, &port);
		if (fd < 0) {
			printf("%s #%d: %s\n", ep_kind_names[kind], i + 1, strerror(-fd));
			err = 1;
			continue;
		}
		printf("%s #%d: local port %d\n", ep_kind_names[kind], i + 1, port);
	}
	fflush(stdout);
	sleep(wait);
	return err;
}
