// What every fuzz target shares: the input as a file (the readers under test take paths),
// and the one outcome a bad input may have besides success, a cfgan::Error. Anything else
// (another exception, a crash, a sanitizer report, a leak) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cfgan::fuzz {

// The input written to one file per process (reused by every run), in /dev/shm where there is one.
inline const std::string& input_file(const uint8_t* data, size_t size) {
  static const std::string path =
      (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/cfgan_fuzz_") + std::to_string(getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace cfgan::fuzz
