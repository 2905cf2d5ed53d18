/*
 * nccount: a netconsd output module that only counts, for the receive throughput benchmark
 * (bench/lab.sh receive), so netconsd is measured doing its own work (receive, reassemble,
 * hand over) and nothing else. Written for the Netconsole for .NET benchmarks (MIT License, see
 * LICENSE at the repository's root); it uses only netconsd's module ABI.
 *
 * The counters live in the file named by NCCOUNT_FILE (created by the benchmark, 4096 bytes,
 * mapped shared), so the benchmark reads them while netconsd runs: one 64-byte slot per worker
 * thread, each three uint64_t: messages ncrx parsed (extended) whose fragments all arrived,
 * extended messages still missing bytes (ncfrag_left > 0), and datagrams handed over as plain
 * text. Each slot is written by its own worker only.
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <msgbuf-struct.h>
#include <ncrx-struct.h>

#define SLOTS 64

struct slot {
	volatile uint64_t complete;
	volatile uint64_t incomplete;
	volatile uint64_t plain;
	uint64_t pad[5];
};

static struct slot *slots;

int netconsd_output_init(int nr_workers)
{
	const char *path = getenv("NCCOUNT_FILE");
	int fd;

	if (!path || nr_workers > SLOTS) {
		fprintf(stderr, "nccount: set NCCOUNT_FILE (and use at most %d workers)\n", SLOTS);
		return -1;
	}

	fd = open(path, O_RDWR);
	if (fd < 0) {
		perror("nccount: open NCCOUNT_FILE");
		return -1;
	}

	slots = mmap(NULL, SLOTS * sizeof(struct slot), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (slots == MAP_FAILED) {
		perror("nccount: mmap");
		return -1;
	}

	return 0;
}

void netconsd_output_exit(void)
{
}

void netconsd_output_handler(int thread, struct in6_addr *src, struct msg_buf *buf, struct ncrx_msg *msg)
{
	struct slot *s = &slots[thread];

	(void)src;
	(void)buf;
	if (!msg)
		s->plain = s->plain + 1;
	else if (msg->ncfrag_left > 0)
		s->incomplete = s->incomplete + 1;
	else
		s->complete = s->complete + 1;
}
