// load_safetensors on arbitrary bytes: every tensor it returns lies inside the file.
#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const cfgan::SafetensorsFile file = cfgan::load_safetensors(cfgan::fuzz::input_file(data, size));
    size_t bytes = 0;
    for (const auto& [name, t] : file.tensors) bytes += sizeof(float) * static_cast<size_t>(t.numel());
    for (const auto& [name, t] : file.bytes) bytes += t.data.size();
    if (bytes > size) __builtin_trap();  // the tensors tile the data section, which is inside the file
  } catch (const cfgan::Error&) {
  }
  return 0;
}
