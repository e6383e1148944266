// What every fuzz target shares: the input as a file (the readers under test take paths),
// and the one outcome a bad input may have besides success, a cfgan::Error. Anything else
// (another exception, a crash, a sanitizer report, a leak) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace cfgan::fuzz {

inline const std::string& input_file_path() {
  static const std::string path =
      (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/cfgan_fuzz_") + std::to_string(getpid());
  return path;
}

// The input written to one file per process (reused by every run), in /dev/shm where there
// is one, and removed when the process exits.
inline const std::string& input_file(const uint8_t* data, size_t size) {
  const std::string& path = input_file_path();  // made before the handler is registered, so it outlives it
  static const bool removed_at_exit = std::atexit([] { unlink(input_file_path().c_str()); }) == 0;
  (void)removed_at_exit;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace cfgan::fuzz
