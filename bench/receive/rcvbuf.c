/*
 * rcvbuf.so: an LD_PRELOAD shim for the receive throughput benchmark (bench/lab.sh receive) that
 * gives every UDP socket a process binds the same receive buffer, RCVBUF_BYTES, so receivers that
 * size their buffers differently (netconsd leaves the system default; NetconsoleReceiver asks
 * for 4 MiB) are measured on equal terms. A later SO_RCVBUF or SO_RCVBUFFORCE asking for less is
 * raised to it. Needs CAP_NET_ADMIN (SO_RCVBUFFORCE). Written for the Netconsole for .NET
 * benchmarks (MIT License, see LICENSE at the repository's root).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

static int wanted(void)
{
	const char *text = getenv("RCVBUF_BYTES");

	return text ? atoi(text) : 0;
}

static int (*real_setsockopt(void))(int, int, int, const void *, socklen_t)
{
	static int (*real)(int, int, int, const void *, socklen_t);

	if (!real)
		real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
	return real;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t length)
{
	int size = wanted();

	if (size > 0 && level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_RCVBUFFORCE)
	    && length == sizeof(int) && *(const int *)value < size)
		return real_setsockopt()(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));

	return real_setsockopt()(fd, level, name, value, length);
}

int bind(int fd, const struct sockaddr *address, socklen_t length)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	int size = wanted();
	int type = 0;
	socklen_t type_length = sizeof(type);

	if (!real)
		real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");

	if (size > 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_DGRAM
	    && (address->sa_family == AF_INET || address->sa_family == AF_INET6))
		real_setsockopt()(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));

	return real(fd, address, length);
}
