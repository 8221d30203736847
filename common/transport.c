/* SPDX-License-Identifier: MIT */
/*
 * Transports: the generic frame layer over an ops table, and the Unix stream
 * socket implementation.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ava/transport.h"

struct ava_transport {
	const struct ava_transport_ops *ops;
	int fd;
	pthread_mutex_t send_lock; /* one frame at a time, never interleaved */
};

static int unix_send(ava_transport *t, const struct iovec *iov_in, int n_iov)
{
	struct iovec iov[8];
	struct iovec *base = iov, *v;
	int n = n_iov, r = 0;

	if (n_iov < 0 || n_iov > 1024) /* UIO_MAXIOV */
		return -EINVAL;
	if ((size_t)n_iov > sizeof(iov) / sizeof(iov[0])) {
		base = malloc((size_t)n_iov * sizeof(*base));
		if (!base)
			return -ENOMEM;
	}
	if (n_iov > 0)
		memcpy(base, iov_in, (size_t)n_iov * sizeof(*base));
	v = base;

	/* sendmsg may write part of the data; advance through the iovecs and loop. */
	while (n > 0) {
		struct msghdr msg = { .msg_iov = v, .msg_iovlen = (size_t)n };
		ssize_t w;

		if (v->iov_len == 0) {
			v++;
			n--;
			continue;
		}
		w = sendmsg(t->fd, &msg, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = errno == ECONNRESET ? -EPIPE : -errno;
			goto out;
		}
		while (w > 0 && n > 0) {
			if ((size_t)w >= v->iov_len) {
				w -= (ssize_t)v->iov_len;
				v++;
				n--;
			} else {
				v->iov_base = (uint8_t *)v->iov_base + w;
				v->iov_len -= (size_t)w;
				w = 0;
			}
		}
	}
out:
	if (base != iov)
		free(base);
	return r;
}

static int unix_recv(ava_transport *t, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t got = recv(t->fd, p, len, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		if (got == 0)
			return -EPIPE;
		p += got;
		len -= (size_t)got;
	}
	return 0;
}

static int unix_shutdown(ava_transport *t)
{
	if (shutdown(t->fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
		return -errno;
	return 0;
}

static void unix_close(ava_transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static const struct ava_transport_ops unix_ops = {
	.name = "unix",
	.send = unix_send,
	.recv = unix_recv,
	.shutdown = unix_shutdown,
	.close = unix_close,
};

int ava_transport_unix_from_fd(int fd, ava_transport **ret_t)
{
	ava_transport *t;
	int flags;

	if (fd < 0)
		return -EBADF;
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&t->send_lock, NULL) != 0) {
		free(t);
		close(fd);
		return -ENOMEM;
	}
	/* fds we own must not leak into exec'd children (vendor tools, sandboxes). */
	flags = fcntl(fd, F_GETFD);
	if (flags >= 0 && !(flags & FD_CLOEXEC))
		(void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	t->ops = &unix_ops;
	t->fd = fd;
	*ret_t = t;
	return 0;
}

int ava_transport_unix_connect(const char *path, ava_transport **ret_t)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd;

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		return -e;
	}
	return ava_transport_unix_from_fd(fd, ret_t);
}

int ava_transport_fd(const ava_transport *t)
{
	return t ? t->fd : -1;
}

int ava_transport_send_frame(ava_transport *t, const struct ava_wire_header *hdr,
			     const void *payload, size_t payload_len)
{
	uint8_t raw[AVA_WIRE_HEADER_BYTES];
	struct iovec iov[2];
	int r;

	if (hdr->len_bytes != payload_len || (payload_len && !payload))
		return -EINVAL;
	ava_wire_header_encode(hdr, raw);
	iov[0].iov_base = raw;
	iov[0].iov_len = sizeof(raw);
	iov[1].iov_base = (void *)(uintptr_t)payload;
	iov[1].iov_len = payload_len;
	pthread_mutex_lock(&t->send_lock);
	r = t->ops->send(t, iov, payload_len ? 2 : 1);
	pthread_mutex_unlock(&t->send_lock);
	return r;
}

int ava_transport_recv_frame(ava_transport *t, uint32_t max_payload_bytes,
			     struct ava_wire_header *ret_hdr, uint8_t **ret_payload,
			     const char **ret_reason)
{
	uint8_t raw[AVA_WIRE_HEADER_BYTES];
	struct ava_wire_header hdr;
	uint8_t *payload = NULL;
	int r;

	*ret_payload = NULL;
	if (ret_reason)
		*ret_reason = NULL;
	r = t->ops->recv(t, raw, sizeof(raw));
	if (r < 0)
		return r;
	/* The length is checked here, before anything is allocated or read. */
	r = ava_wire_header_decode(raw, max_payload_bytes, &hdr, ret_reason);
	if (r < 0)
		return r;
	/*
	 * An empty payload gets a buffer too: receivers decode and offset the
	 * payload pointer without caring whether it is empty, and NULL + 0 is
	 * undefined behaviour.
	 */
	payload = malloc(hdr.len_bytes ? hdr.len_bytes : 1);
	if (!payload)
		return -ENOMEM;
	if (hdr.len_bytes > 0) {
		r = t->ops->recv(t, payload, hdr.len_bytes);
		if (r < 0) {
			free(payload);
			return r;
		}
	}
	*ret_hdr = hdr;
	*ret_payload = payload;
	return 0;
}

void ava_transport_shutdown(ava_transport *t)
{
	if (t)
		(void)t->ops->shutdown(t);
}

void ava_transport_free(ava_transport *t)
{
	if (!t)
		return;
	t->ops->close(t);
	pthread_mutex_destroy(&t->send_lock);
	free(t);
}
