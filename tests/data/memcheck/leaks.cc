// leaks.cc - the program behind all_kinds.xml: every memcheck leak kind and one invalid read (g++ -g -O0; valgrind --leak-check=full --show-leak-kinds=all --xml=yes).
#include <cstdlib>
#include <cstring>
#include <vector>

struct node { node *next; char pad[24]; };
static char *kept;       // still reachable
static char *interior;   // possibly lost: points inside its block

template <typename T> T *make_lost(std::size_t n) { return new T[n]; }

int main() {
  make_lost<std::vector<int>>(2);                   // definitely lost (40+ bytes)
  node *a = (node *)malloc(sizeof *a);               // definitely lost ...
  a->next = (node *)malloc(sizeof *a);               // ... and indirectly lost
  a = nullptr;
  kept = (char *)malloc(100);
  interior = (char *)malloc(64) + 16;
  char *b = (char *)malloc(8);
  volatile char c = b[8];                            // invalid read
  (void)c;
  free(b);
  return 0;
}
