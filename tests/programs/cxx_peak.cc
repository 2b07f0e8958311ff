// cxx_peak.cc - a C++ program whose heap includes libstdc++'s emergency exception pool (72,704 B, allocated before the preload starts recording): massif counts it, so must leaklab (built by e2e_massif_compare with c++).
#include <cstdio>
#include <string>
#include <vector>
int main() {
  std::vector<std::string> v;
  for (int i = 0; i < 1000; i++) v.push_back(std::string(40, 'x'));
  std::printf("%zu\n", v.size());
  return 0;
}
