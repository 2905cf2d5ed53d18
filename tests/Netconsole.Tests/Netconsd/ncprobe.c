/*
 * ncprobe: a netconsd output module that prints every message netconsd hands to its modules,
 * one line each, in a form a test can parse. Written for the Netconsole for .NET test suite
 * (MIT License, see LICENSE at the repository's root); it uses only netconsd's module ABI
 * (netconsd_output_init / _handler / _exit and the structs in msgbuf-struct.h and
 * ncrx-struct.h, which the test build compiles it against).
 *
 * Lines (fields separated by a TAB):
 *
 *   ncprobe  init     workers=N
 *   ncprobe  ext      src=ADDR seq=N ts=USEC facility=N level=N flags=LIST missing=N
 *                     release=TEXT text=TEXT [dict=TEXT]
 *   ncprobe  plain    src=ADDR bytes=N text=TEXT
 *   ncprobe  exit
 *
 * ext: a message ncrx parsed (extended format), with its flags (cont_start, cont, oos,
 * seq_reset, emg; "-" when none) and the bytes still missing from an incomplete fragmented
 * message. dict is absent when the text had no newline, so "dict=" (present, empty) and no dict
 * differ. plain: a datagram ncrx could not parse, handed over as received.
 *
 * TEXT is the bytes as netconsd handed them over, except every byte below 0x20, from 0x7f up,
 * and '%' itself, which are written %NN (lowercase hex): the line stays one line, a TAB never
 * appears inside a field, and the extended format's own \xNN escapes are shown as they came.
 * ADDR is inet_ntop's form of the in6_addr netconsd passes (IPv4 senders as ::ffff:a.b.c.d).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <arpa/inet.h>

#include <msgbuf-struct.h>
#include <ncrx-struct.h>

struct line {
	char *buf;
	size_t len;
	size_t cap;
};

static int reserve(struct line *l, size_t more)
{
	char *grown;
	size_t cap;

	if (l->len + more <= l->cap)
		return 0;

	cap = l->cap ? l->cap : 1024;
	while (cap < l->len + more)
		cap *= 2;

	grown = realloc(l->buf, cap);
	if (!grown)
		return -1;

	l->buf = grown;
	l->cap = cap;
	return 0;
}

static void put(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (reserve(l, n))
		return;

	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void put_escaped(struct line *l, const char *bytes, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (reserve(l, n * 3))
		return;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)bytes[i];

		if (c < 0x20 || c >= 0x7f || c == '%') {
			l->buf[l->len++] = '%';
			l->buf[l->len++] = hex[c >> 4];
			l->buf[l->len++] = hex[c & 0xf];
		} else {
			l->buf[l->len++] = (char)c;
		}
	}
}

static void put_flag(struct line *l, int set, const char *name, int *any)
{
	if (!set)
		return;

	if (*any)
		put(l, ",");

	put(l, name);
	*any = 1;
}

/* One write per message: the worker threads call the handler concurrently. */
static void emit(struct line *l)
{
	if (!reserve(l, 1))
		l->buf[l->len++] = '\n';

	flockfile(stdout);
	fwrite(l->buf, 1, l->len, stdout);
	fflush(stdout);
	funlockfile(stdout);
	free(l->buf);
}

int netconsd_output_init(int nr_workers)
{
	printf("ncprobe\tinit\tworkers=%d\n", nr_workers);
	fflush(stdout);
	return 0;
}

void netconsd_output_exit(void)
{
	puts("ncprobe\texit");
	fflush(stdout);
}

void netconsd_output_handler(int thread, struct in6_addr *src,
			     struct msg_buf *buf, struct ncrx_msg *msg)
{
	char addr[INET6_ADDRSTRLEN] = { 0 };
	char number[128];
	struct line l = { 0 };
	int any = 0;

	(void)thread;
	inet_ntop(AF_INET6, src, addr, sizeof(addr));

	if (!msg) {
		snprintf(number, sizeof(number), "\tbytes=%d", buf->rcv_bytes);
		put(&l, "ncprobe\tplain\tsrc=");
		put(&l, addr);
		put(&l, number);
		put(&l, "\ttext=");
		put_escaped(&l, buf->buf, (size_t)buf->rcv_bytes);
		emit(&l);
		return;
	}

	put(&l, "ncprobe\text\tsrc=");
	put(&l, addr);
	snprintf(number, sizeof(number),
		 "\tseq=%" PRIu64 "\tts=%" PRIu64 "\tfacility=%d\tlevel=%d",
		 msg->seq, msg->ts_usec, msg->facility, msg->level);
	put(&l, number);
	put(&l, "\tflags=");
	put_flag(&l, msg->cont_start, "cont_start", &any);
	put_flag(&l, msg->cont, "cont", &any);
	put_flag(&l, msg->oos, "oos", &any);
	put_flag(&l, msg->seq_reset, "seq_reset", &any);
	put_flag(&l, msg->emg, "emg", &any);
	if (!any)
		put(&l, "-");

	snprintf(number, sizeof(number), "\tmissing=%d", msg->ncfrag_left);
	put(&l, number);
	put(&l, "\trelease=");
	put_escaped(&l, msg->version, strnlen(msg->version, sizeof(msg->version)));
	put(&l, "\ttext=");
	put_escaped(&l, msg->text, (size_t)msg->text_len);
	if (msg->dict) {
		put(&l, "\tdict=");
		put_escaped(&l, msg->dict, (size_t)msg->dict_len);
	}

	emit(&l);
}
