// cxx_names.cc - C++ allocations through libstdc++, whose symbol-table names are mangled (built by e2e_symbolize_cxx with c++).
#include <cstdio>
#include <string>
#include <vector>

namespace app {
struct Cache {
  std::vector<std::string> items;
  void fill(int n) {
    for (int i = 0; i < n; i++) items.push_back(std::string(40, 'x')); /* @fill */
  }
};
} // namespace app

int main() {
  app::Cache cache;
  cache.fill(1000);
  std::printf("%zu\n", cache.items.size());
  return 0;
}
