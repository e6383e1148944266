// The CPU thread count of the kernels (OpenMP underneath), so programs need not include <omp.h>.
#pragma once

namespace cfgan {

int max_threads();        // what the kernels use now
void set_threads(int n);  // n >= 1; errors name --threads

}  // namespace cfgan
