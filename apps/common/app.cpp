#include "apps/common/app.h"

#include <cstdio>
#include <exception>

namespace cfgan {

int run_app(const char* name, int (*body)(int argc, char** argv), int argc, char** argv) {
  try {
    return body(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace cfgan
