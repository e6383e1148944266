// read_idx on arbitrary bytes (plain or gzip): the array it returns holds exactly its extents.
#include <functional>
#include <numeric>

#include "engine/data/idx.h"
#include "engine/error.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const cfgan::IdxArray a = cfgan::read_idx(cfgan::fuzz::input_file(data, size));
    const int64_t n = std::accumulate(a.dims.begin(), a.dims.end(), int64_t{1}, std::multiplies<>());
    if (static_cast<size_t>(n) != a.data.size()) __builtin_trap();
  } catch (const cfgan::Error&) {
  }
  return 0;
}
