/*
 * sendstream: replays netconsole records over UDP as fast as one core can, for the receive
 * throughput benchmark (bench/lab.sh receive). Written for the Netconsole for .NET benchmarks
 * (MIT License, see LICENSE at the repository's root).
 *
 *   sendstream TEMPLATE DEST_ADDR PORT RECORDS FIRST_SEQ SOURCE_ADDR...
 *
 * TEMPLATE holds one record as a sender formatted it (RecordFormatter: one datagram, or its
 * ncfrag fragments), with sequence number 1000000000: "u32 datagrams, then per datagram u32
 * length, u32 offset of the 10 sequence digits, the payload". Each SOURCE_ADDR is one sender
 * (a socket bound to that address, any port); every sender sends RECORDS records numbered from
 * FIRST_SEQ (10 digits, the only bytes that change), so the stream is the template's bytes,
 * record after record. Senders take turns, one sendmmsg batch (BATCH records) each.
 *
 * Prints one line: "sent DATAGRAMS start_ns END end_ns END" (CLOCK_MONOTONIC, the clock
 * .NET's Stopwatch uses on Linux) around the sending.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_DATAGRAMS 16
#define MAX_SENDERS 64

struct datagram {
	uint32_t length;
	uint32_t seq_offset;
	unsigned char bytes[1024];
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int parse_address(const char *text, int port, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*len = sizeof(*v4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*len = sizeof(*v6);
		return AF_INET6;
	}
	fprintf(stderr, "sendstream: not an address: %s\n", text);
	exit(2);
}

static void write_seq(unsigned char *at, uint64_t seq)
{
	for (int i = 9; i >= 0; i--) {
		at[i] = (unsigned char)('0' + seq % 10);
		seq /= 10;
	}
}

int main(int argc, char **argv)
{
	static struct datagram template[MAX_DATAGRAMS];
	static unsigned char buffers[MAX_SENDERS][BATCH * MAX_DATAGRAMS][1024];
	static struct mmsghdr msgs[BATCH * MAX_DATAGRAMS];
	static struct iovec iov[BATCH * MAX_DATAGRAMS];
	struct sockaddr_storage dest;
	socklen_t dest_len;
	int fds[MAX_SENDERS];
	uint32_t count;
	FILE *f;

	if (argc < 7) {
		fprintf(stderr, "usage: sendstream TEMPLATE DEST_ADDR PORT RECORDS FIRST_SEQ SOURCE_ADDR...\n");
		return 2;
	}

	f = fopen(argv[1], "rb");
	if (!f || fread(&count, 4, 1, f) != 1 || count == 0 || count > MAX_DATAGRAMS)
		die("template");
	for (uint32_t i = 0; i < count; i++) {
		if (fread(&template[i].length, 4, 1, f) != 1 || fread(&template[i].seq_offset, 4, 1, f) != 1
		    || template[i].length > sizeof(template[i].bytes) || template[i].seq_offset + 10 > template[i].length
		    || fread(template[i].bytes, 1, template[i].length, f) != template[i].length)
			die("template datagram");
	}
	fclose(f);

	int family = parse_address(argv[2], atoi(argv[3]), &dest, &dest_len);
	uint64_t records = strtoull(argv[4], NULL, 10);
	uint64_t first = strtoull(argv[5], NULL, 10);
	int senders = argc - 6;
	if (senders > MAX_SENDERS) {
		fprintf(stderr, "sendstream: at most %d senders\n", MAX_SENDERS);
		return 2;
	}

	for (int s = 0; s < senders; s++) {
		struct sockaddr_storage src;
		socklen_t src_len;
		int sndbuf = 4 << 20;

		if (parse_address(argv[6 + s], 0, &src, &src_len) != family) {
			fprintf(stderr, "sendstream: %s is not of the destination's family\n", argv[6 + s]);
			return 2;
		}
		fds[s] = socket(family, SOCK_DGRAM, 0);
		if (fds[s] < 0)
			die("socket");
		setsockopt(fds[s], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		if (bind(fds[s], (struct sockaddr *)&src, src_len) < 0)
			die("bind");
		/* The template in every slot once; only the sequence digits change afterwards. */
		for (int r = 0; r < BATCH; r++)
			for (uint32_t d = 0; d < count; d++)
				memcpy(buffers[s][r * count + d], template[d].bytes, template[d].length);
	}

	for (uint32_t i = 0; i < BATCH * count; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &dest;
		msgs[i].msg_hdr.msg_namelen = dest_len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	uint64_t sent = 0;
	uint64_t start = now_ns();
	for (uint64_t done = 0; done < records;) {
		uint64_t batch = records - done < BATCH ? records - done : BATCH;
		for (int s = 0; s < senders; s++) {
			unsigned n = 0;
			for (uint64_t r = 0; r < batch; r++) {
				for (uint32_t d = 0; d < count; d++, n++) {
					unsigned char *b = buffers[s][r * count + d];
					write_seq(b + template[d].seq_offset, first + done + r);
					iov[n].iov_base = b;
					iov[n].iov_len = template[d].length;
				}
			}
			for (unsigned off = 0; off < n;) {
				int k = sendmmsg(fds[s], msgs + off, n - off, 0);
				if (k < 0) {
					if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
						continue;
					die("sendmmsg");
				}
				off += (unsigned)k;
			}
			sent += n;
		}
		done += batch;
	}
	uint64_t end = now_ns();

	printf("sent %llu start_ns %llu end_ns %llu\n", (unsigned long long)sent, (unsigned long long)start, (unsigned long long)end);
	return 0;
}
