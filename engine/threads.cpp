#include "engine/threads.h"

#include <omp.h>

#include "engine/error.h"

namespace cfgan {

int max_threads() { return omp_get_max_threads(); }

void set_threads(int n) {
  CFGAN_CHECK(n >= 1, "--threads: must be >= 1, got ", n);
  omp_set_num_threads(n);
}

}  // namespace cfgan
