// read_image on arbitrary bytes, as the file's own channels, gray and RGB: the pixels it
// returns fill exactly width x height x channels.
#include "engine/error.h"
#include "engine/io/image.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = cfgan::fuzz::input_file(data, size);
  for (int64_t channels : {0, 1, 3}) {
    try {
      const cfgan::Image image = cfgan::read_image(path, channels);
      if (image.pixels.size() != static_cast<size_t>(image.width * image.height * image.channels)) __builtin_trap();
    } catch (const cfgan::Error&) {
      return 0;  // undecodable as one is undecodable as all
    }
  }
  return 0;
}
