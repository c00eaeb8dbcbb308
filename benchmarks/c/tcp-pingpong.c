/*
 * The floor for TCP ping-pong rows: blocking kernel sockets from C, nothing of
 * Node in the way. Same protocol as benchmarks/lib/children.mjs describes.
 *
 *   tcp-pingpong server                  bind 127.0.0.1:0, print "ready <port>", echo one
 *                                        connection until EOF
 *   tcp-pingpong client --port N --size S --warmup W --iterations I --out FILE
 *                                        ping-pong, write float64 RTT samples (ns) to FILE
 *
 * Build: cc -O2 -o tcp-pingpong tcp-pingpong.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) die("write");
    buf += n;
    len -= (size_t)n;
  }
}

static void nodelay(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static int server(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(fd, 4) < 0) die("listen");
  socklen_t len = sizeof addr;
  getsockname(fd, (struct sockaddr *)&addr, &len);
  printf("ready %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  int conn = accept(fd, NULL, NULL);
  if (conn < 0) die("accept");
  nodelay(conn);
  char buf[65536];
  for (;;) {
    ssize_t n = read(conn, buf, sizeof buf);
    if (n <= 0) break;
    write_all(conn, buf, (size_t)n);
  }
  return 0;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int client(int argc, char **argv) {
  long port = 0, size = 64, warmup = 1000, iterations = 10000;
  const char *out = NULL;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) port = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--size")) size = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--warmup")) warmup = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--iterations")) iterations = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  if (port <= 0 || size <= 0 || size > 65536 || iterations <= 0 || warmup < 0 || out == NULL) {
    fprintf(stderr, "usage: tcp-pingpong client --port N --size S --warmup W --iterations I --out FILE\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  nodelay(fd);
  char *msg = calloc(1, (size_t)size);
  char buf[65536];
  double *samples = calloc((size_t)iterations, sizeof(double));
  long step = iterations / 20 > 0 ? iterations / 20 : 1;
  for (long i = 0; i < warmup + iterations; i++) {
    double start = now_ns();
    write_all(fd, msg, (size_t)size);
    for (long got = 0; got < size;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) die("read");
      got += n;
    }
    double rtt = now_ns() - start;
    if (i >= warmup) {
      long k = i - warmup;
      samples[k] = rtt;
      if (k % step == 0) fprintf(stderr, "progress %.3f\n", (double)k / (double)iterations);
    }
  }
  FILE *f = fopen(out, "wb");
  if (f == NULL || fwrite(samples, sizeof(double), (size_t)iterations, f) != (size_t)iterations) die("write samples");
  fclose(f);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "server")) return server();
  if (argc >= 2 && !strcmp(argv[1], "client")) return client(argc, argv);
  fprintf(stderr, "usage: tcp-pingpong server | client --port N ...\n");
  return 2;
}
