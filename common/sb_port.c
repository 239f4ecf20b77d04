/* sb_port: see sb_port.h. */
#include "sb_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EPHEMERAL_FILE "/proc/sys/net/ipv4/ip_local_port_range"
#define EPHEMERAL_LO_DEFAULT 32768
#define EPHEMERAL_HI_DEFAULT 60999
#define PORT_MIN 1024
#define PORT_MAX 65535

void sb_port_range(int *lo, int *hi) {
  static int range_lo = 0, range_hi = 0; /* read once per process */
  if (range_lo > 0) {
    *lo = range_lo, *hi = range_hi;
    return;
  }
  int elo = EPHEMERAL_LO_DEFAULT, ehi = EPHEMERAL_HI_DEFAULT;
  FILE *f = fopen(EPHEMERAL_FILE, "r");
  if (f) {
    int a, b;
    if (fscanf(f, "%d %d", &a, &b) == 2 && a >= 1 && b >= a && b <= PORT_MAX)
      elo = a, ehi = b;
    fclose(f);
  }
  if (elo - SB_PORT_SAFE_LOW >= SB_PORT_ROOM_MIN) {
    *lo = SB_PORT_SAFE_LOW, *hi = elo - 1;
  } else if (PORT_MAX - ehi >= SB_PORT_ROOM_MIN) {
    *lo = ehi + 1, *hi = PORT_MAX;
  } else {
    *lo = PORT_MIN, *hi = PORT_MAX;
  }
  range_lo = *lo, range_hi = *hi;
}

int sb_port_free(int port) {
  if (port < 1 || port > PORT_MAX)
    return 0;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

int sb_port_pick(void) {
  static int next = 0; /* the walk's position: 0 until the first call */
  int lo, hi;
  sb_port_range(&lo, &hi);
  int span = hi - lo + 1;
  if (next < lo || next > hi) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec;
    next = lo + (int)(seed % (unsigned)span);
  }
  for (int i = 0; i < span; i++) {
    int port = next;
    next = next >= hi ? lo : next + 1;
    if (sb_port_free(port))
      return port;
  }
  return 0;
}
