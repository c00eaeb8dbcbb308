/*
 * A C program speaking @demi/catmem's shared-memory layout, written from the
 * layout section of packages/catmem/README.md. It is both the benchmark floor
 * (the same rings and the same wake-up protocol, with nothing of Node in the
 * way) and proof that the layout is enough to interoperate.
 *
 *   shm-ring bench <rounds> <warmup> [size]  create a pipe, fork an echoing child,
 *                                            print {"samplesNs":[...]} of ping-pong RTTs
 *   shm-ring echo <name> [--create]          open (or create) a pipe, echo until EOF
 *   shm-ring ping <name> <rounds> <size>     open a pipe, ping-pong, check the echo,
 *                                            print {"samplesNs":[...]}
 *
 * Build: cc -O2 -std=c11 -o shm-ring shm-ring.c
 * Waiting spins, then yields (two busy processes may share one core); it never
 * sleeps, but it wakes a peer that announced itself asleep, as catmem does:
 * a futex wake for a sleeping thread, a byte into the FIFO of a sleeping event loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <signal.h>
#include <limits.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x314D454D494D4544ull /* "DEMIMEM1" */
#define VERSION 3
#define WRAP_MARKER 0xFFFFFFFFu
#define HEADER_SIZE 4096
#define RECORD_HEADER 8
#define LOCK_END0 0
#define LOCK_END1 1
#define LOCK_SETUP 2
enum { SEG_INITIALIZING = 0, SEG_READY = 1, SEG_REMOVED = 2 };
enum { END_VACANT = 0, END_OPEN = 1, END_CLOSED = 2 };

struct end_info {
  alignas(128) _Atomic uint32_t state;
  int32_t pid;
};
struct wake_line {
  alignas(128) _Atomic uint32_t seq;
  _Atomic uint32_t rx_sleepers;
  _Atomic uint32_t tx_sleepers;
  uint32_t pad;
  _Atomic uint64_t tx_wake_head; /* a sleeping producer wants waking once head reaches this */
  _Atomic uint32_t loop_wants;   /* want bits (1 data, 2 room) an event loop sleeps for */
  _Atomic int32_t loop_pid;      /* with loop_nonce: names that loop's FIFO */
  _Atomic uint64_t loop_nonce;
};
struct counter {
  alignas(128) _Atomic uint64_t value;
  _Atomic uint32_t cpu; /* tail lines: 1 + the producer's CPU at its last push */
};
struct header {
  uint64_t magic;
  uint32_t version;
  uint32_t header_size;
  uint64_t ring_size;
  uint64_t segment_size;
  _Atomic uint32_t state;
  uint32_t reserved;
  struct end_info end[2];
  struct wake_line wake[2];
  struct counter tail[2];
  struct counter head[2];
};
_Static_assert(offsetof(struct header, end) == 128, "layout");
_Static_assert(offsetof(struct header, wake) == 384, "layout");
_Static_assert(offsetof(struct header, tail) == 640, "layout");
_Static_assert(offsetof(struct header, head) == 896, "layout");
_Static_assert(sizeof(struct header) == 1152, "layout");
_Static_assert(offsetof(struct wake_line, loop_wants) == 24, "layout");
_Static_assert(offsetof(struct wake_line, loop_nonce) == 32, "layout");

struct pipe_end {
  int fd;
  int side;
  char shm_name[256];
  struct header *h;
  uint8_t *tx, *rx;
  uint64_t size, mask, tx_tail, tx_head_cache, rx_head;
};

static void die(const char *what) {
  fprintf(stderr, "shm-ring: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int lock_byte(int fd, off_t byte, int type, int wait) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) != 0) {
    if (errno != EINTR) return -1;
  }
  return 0;
}

static int held_by_other(int fd, off_t byte) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return 1;
  return fl.l_type != F_UNLCK;
}

static void futex_wake(_Atomic uint32_t *word) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void wake_end(struct header *h, int side) {
  atomic_fetch_add(&h->wake[side].seq, 1);
  futex_wake(&h->wake[side].seq);
}

/* Wakes the event loop of end `side` if it sleeps for any of `bits`: whoever
 * swaps loop_wants to 0 writes one byte into its FIFO. */
static void ring_loop(struct header *h, int side, uint32_t bits) {
  struct wake_line *w = &h->wake[side];
  if ((atomic_load(&w->loop_wants) & bits) == 0 || atomic_exchange(&w->loop_wants, 0) == 0) return;
  char path[128];
  snprintf(path, sizeof path, "/dev/shm/demi-catmem-wake.%" PRId32 ".%016" PRIx64,
           atomic_load_explicit(&w->loop_pid, memory_order_relaxed),
           atomic_load_explicit(&w->loop_nonce, memory_order_relaxed));
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return; /* its process is gone */
  struct stat st;
  uint8_t one = 1;
  if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && write(fd, &one, 1) < 0) {
    /* EAGAIN: full, a wake is pending anyway */
  }
  close(fd);
}

static void attach(struct pipe_end *p, void *base, int side) {
  p->h = base;
  p->side = side;
  p->size = p->h->ring_size;
  p->mask = p->size - 1;
  p->tx = (uint8_t *)base + HEADER_SIZE + (uint64_t)side * p->size;
  p->rx = (uint8_t *)base + HEADER_SIZE + (uint64_t)(1 - side) * p->size;
  p->tx_tail = atomic_load(&p->h->tail[side].value);
  p->tx_head_cache = atomic_load(&p->h->head[side].value);
  p->rx_head = atomic_load(&p->h->head[1 - side].value);
}

static void pipe_create(struct pipe_end *p, const char *name, uint64_t ring_size) {
  snprintf(p->shm_name, sizeof p->shm_name, "/demi-catmem.%s", name);
  p->fd = shm_open(p->shm_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (p->fd < 0) die("shm_open (create)");
  if (lock_byte(p->fd, LOCK_SETUP, F_WRLCK, 1) || lock_byte(p->fd, LOCK_END0, F_WRLCK, 0)) die("lock");
  uint64_t seg = HEADER_SIZE + 2 * ring_size;
  if (posix_fallocate(p->fd, 0, (off_t)seg) != 0) die("fallocate");
  void *base = mmap(NULL, seg, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
  if (base == MAP_FAILED) die("mmap");
  struct header *h = base;
  h->version = VERSION;
  h->header_size = HEADER_SIZE;
  h->ring_size = ring_size;
  h->segment_size = seg;
  h->end[0].pid = getpid();
  atomic_store(&h->end[0].state, END_OPEN);
  h->magic = MAGIC;
  atomic_store_explicit(&h->state, SEG_READY, memory_order_release);
  lock_byte(p->fd, LOCK_SETUP, F_UNLCK, 0);
  attach(p, base, 0);
}

static void pipe_open(struct pipe_end *p, const char *name) {
  snprintf(p->shm_name, sizeof p->shm_name, "/demi-catmem.%s", name);
  p->fd = shm_open(p->shm_name, O_RDWR | O_CLOEXEC, 0);
  if (p->fd < 0) die("shm_open (open)");
  if (lock_byte(p->fd, LOCK_SETUP, F_WRLCK, 1)) die("setup lock");
  struct stat st;
  if (fstat(p->fd, &st) != 0 || st.st_size < HEADER_SIZE) die("not a catmem pipe (too small)");
  void *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
  if (base == MAP_FAILED) die("mmap");
  struct header *h = base;
  if (h->magic != MAGIC || h->version != VERSION || atomic_load(&h->state) != SEG_READY) {
    errno = EINVAL;
    die("not a ready catmem pipe of layout version 3");
  }
  if (h->segment_size != (uint64_t)st.st_size || atomic_load(&h->end[1].state) != END_VACANT) {
    errno = EBUSY;
    die("pipe already has both ends");
  }
  if (lock_byte(p->fd, LOCK_END1, F_WRLCK, 0)) die("end lock");
  h->end[1].pid = getpid();
  atomic_store(&h->end[1].state, END_OPEN);
  lock_byte(p->fd, LOCK_SETUP, F_UNLCK, 0);
  attach(p, base, 1);
}

static void pipe_close(struct pipe_end *p) {
  struct header *h = p->h;
  int peer = 1 - p->side;
  atomic_store(&h->end[p->side].state, END_CLOSED);
  wake_end(h, peer);
  ring_loop(h, peer, ~0u);
  lock_byte(p->fd, LOCK_SETUP, F_WRLCK, 1);
  lock_byte(p->fd, p->side == 0 ? LOCK_END0 : LOCK_END1, F_UNLCK, 0);
  int peer_live = atomic_load(&h->end[peer].state) == END_OPEN && held_by_other(p->fd, peer == 0 ? LOCK_END0 : LOCK_END1);
  if (!peer_live && atomic_load(&h->state) != SEG_REMOVED) {
    atomic_store(&h->state, SEG_REMOVED);
    shm_unlink(p->shm_name);
  }
  lock_byte(p->fd, LOCK_SETUP, F_UNLCK, 0);
  munmap(h, h->segment_size);
  close(p->fd);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long spins;
static uint64_t spin_start;
static int share_cpu;

/* Waits as catmem's waitSync does: when the peer last pushed from this CPU,
 * yields at once (spinning would only delay it); otherwise spins up to 50 us
 * (the peer is running elsewhere, and a yield could hand this core to another
 * busy process for a whole time slice), then yields. It never sleeps. */
static void relax(const struct pipe_end *p) {
  if (spins++ == 0) {
    spin_start = now_ns();
    uint32_t peer = atomic_load_explicit(&p->h->tail[1 - p->side].cpu, memory_order_relaxed);
    share_cpu = peer != 0 && peer == (uint32_t)sched_getcpu() + 1;
  }
  if (!share_cpu && ((spins & 15) != 0 || now_ns() - spin_start < 50000)) {
    __builtin_ia32_pause();
  } else {
    sched_yield();
  }
}

/* Waits until the consumer's head leaves `need` free bytes. */
static void wait_room(struct pipe_end *p, uint64_t need) {
  spins = 0;
  /* The consumer's head is read only when the cached copy says full. */
  while (p->size - (p->tx_tail - p->tx_head_cache) < need) {
    p->tx_head_cache = atomic_load_explicit(&p->h->head[p->side].value, memory_order_acquire);
    if (p->size - (p->tx_tail - p->tx_head_cache) >= need) break;
    relax(p);
  }
}

/* Pushes one record of n (<= ring_size/2 - 8) bytes, waiting for space. A
 * record never wraps: one that would reach past the ring's end is preceded by
 * a wrap marker, and goes at the ring's start. */
static void push(struct pipe_end *p, const uint8_t *data, uint32_t n) {
  uint64_t need = RECORD_HEADER + ((n + 7u) & ~7u);
  uint64_t pos = p->tx_tail & p->mask;
  if (pos + need > p->size) {
    uint32_t marker[2] = {WRAP_MARKER, 0};
    wait_room(p, RECORD_HEADER);
    memcpy(p->tx + pos, marker, sizeof marker);
    p->tx_tail += p->size - pos;
    pos = 0;
  }
  wait_room(p, need);
  uint32_t hdr[2] = {n, 0};
  memcpy(p->tx + pos, hdr, sizeof hdr);
  memcpy(p->tx + pos + RECORD_HEADER, data, n);
  p->tx_tail += need;
  uint32_t cpu = (uint32_t)sched_getcpu() + 1;
  if (atomic_load_explicit(&p->h->tail[p->side].cpu, memory_order_relaxed) != cpu) {
    atomic_store_explicit(&p->h->tail[p->side].cpu, cpu, memory_order_relaxed);
  }
  atomic_store_explicit(&p->h->tail[p->side].value, p->tx_tail, memory_order_release);
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&p->h->wake[1 - p->side].rx_sleepers, memory_order_relaxed) != 0) wake_end(p->h, 1 - p->side);
  ring_loop(p->h, 1 - p->side, 1);
}

/* Stores the consumer's head and wakes a producer asleep until it got this far. */
static void publish_head(struct pipe_end *p) {
  atomic_store_explicit(&p->h->head[1 - p->side].value, p->rx_head, memory_order_release);
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&p->h->wake[1 - p->side].tx_sleepers, memory_order_acquire) != 0 &&
      p->rx_head >= atomic_load_explicit(&p->h->wake[1 - p->side].tx_wake_head, memory_order_relaxed)) {
    wake_end(p->h, 1 - p->side);
  }
  if (p->rx_head >= atomic_load_explicit(&p->h->wake[1 - p->side].tx_wake_head, memory_order_relaxed))
    ring_loop(p->h, 1 - p->side, 2);
}

/* Pops one whole record into out (cap bytes); returns its length, or 0 at EOF. */
static uint32_t pop(struct pipe_end *p, uint8_t *out, uint32_t cap) {
  uint32_t hdr[2];
  for (;;) {
    spins = 0;
    while (atomic_load_explicit(&p->h->tail[1 - p->side].value, memory_order_acquire) == p->rx_head) {
      if (atomic_load(&p->h->end[1 - p->side].state) == END_CLOSED &&
          atomic_load_explicit(&p->h->tail[1 - p->side].value, memory_order_acquire) == p->rx_head) {
        return 0;
      }
      relax(p);
    }
    uint64_t pos = p->rx_head & p->mask;
    memcpy(hdr, p->rx + pos, sizeof hdr);
    if (hdr[0] != WRAP_MARKER) break;
    /* The producer went back to the ring's start; it may wait for this head. */
    p->rx_head += p->size - pos;
    publish_head(p);
  }
  if (hdr[0] == 0 || hdr[0] > cap) {
    fprintf(stderr, "shm-ring: record of %u bytes does not fit %u\n", hdr[0], cap);
    exit(1);
  }
  memcpy(out, p->rx + (p->rx_head & p->mask) + RECORD_HEADER, hdr[0]);
  p->rx_head += RECORD_HEADER + ((hdr[0] + 7u) & ~7u);
  publish_head(p);
  return hdr[0];
}

static void echo(struct pipe_end *p) {
  uint32_t cap = (uint32_t)(p->size / 2 - RECORD_HEADER);
  uint8_t *buf = malloc(cap);
  if (buf == NULL) die("malloc");
  for (;;) {
    uint32_t n = pop(p, buf, cap);
    if (n == 0) break;
    push(p, buf, n);
  }
  free(buf);
}

/* Pings size-byte messages, checks each echo, prints the RTTs after warm-up. */
static int ping(struct pipe_end *p, long rounds, long warmup, uint32_t size) {
  uint8_t *msg = malloc(size), *back = malloc(size);
  uint64_t *samples = malloc(sizeof(uint64_t) * (size_t)(rounds > 0 ? rounds : 1));
  if (msg == NULL || back == NULL || samples == NULL) die("malloc");
  for (long i = 0; i < warmup + rounds; i++) {
    for (uint32_t k = 0; k < size; k++) msg[k] = (uint8_t)(i * 31 + k);
    uint64_t t0 = now_ns();
    push(p, msg, size);
    uint32_t n = pop(p, back, size);
    uint64_t t1 = now_ns();
    if (n != size || memcmp(msg, back, size) != 0) {
      fprintf(stderr, "shm-ring: echo %ld differs (%u bytes back)\n", i, n);
      return 1;
    }
    if (i >= warmup) samples[i - warmup] = t1 - t0;
  }
  printf("{\"samplesNs\":[");
  for (long i = 0; i < rounds; i++) printf("%s%llu", i ? "," : "", (unsigned long long)samples[i]);
  printf("]}\n");
  free(msg);
  free(back);
  free(samples);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN); /* a FIFO whose reader just left */
  if (argc >= 4 && strcmp(argv[1], "bench") == 0) {
    long rounds = atol(argv[2]), warmup = atol(argv[3]);
    uint32_t size = argc > 4 ? (uint32_t)atol(argv[4]) : 64;
    char name[64];
    snprintf(name, sizeof name, "bench-c-%d", (int)getpid());
    struct pipe_end a;
    pipe_create(&a, name, 1u << 20);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      close(a.fd); /* the child is a separate end: it must not share our lock */
      munmap(a.h, a.h->segment_size);
      struct pipe_end b;
      pipe_open(&b, name);
      echo(&b);
      pipe_close(&b);
      _exit(0);
    }
    int rc = ping(&a, rounds, warmup, size);
    pipe_close(&a);
    int status;
    waitpid(child, &status, 0);
    return rc;
  }
  if (argc >= 3 && strcmp(argv[1], "echo") == 0) {
    struct pipe_end p;
    if (argc > 3 && strcmp(argv[3], "--create") == 0) {
      pipe_create(&p, argv[2], 1u << 20);
      printf("ready\n");
      fflush(stdout);
    } else {
      pipe_open(&p, argv[2]);
    }
    echo(&p);
    pipe_close(&p);
    return 0;
  }
  if (argc >= 5 && strcmp(argv[1], "ping") == 0) {
    struct pipe_end p;
    pipe_open(&p, argv[2]);
    long rounds = atol(argv[3]);
    uint32_t size = (uint32_t)atol(argv[4]);
    if (size == 0 || size > p.size / 2 - RECORD_HEADER) {
      fprintf(stderr, "shm-ring: size must be 1..%llu\n", (unsigned long long)(p.size / 2 - RECORD_HEADER));
      return 2;
    }
    int rc = ping(&p, rounds, 0, size);
    pipe_close(&p);
    return rc;
  }
  fprintf(stderr, "usage: shm-ring bench <rounds> <warmup> [size] | echo <name> [--create] | ping <name> <rounds> <size>\n");
  return 2;
}
