// IDX files (the MNIST family's format): big-endian magic 0x0000 08 <ndim>, ndim
// big-endian uint32 extents, then unsigned bytes. Read through zlib, so .gz or plain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cfgan {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Errors name the file and what is wrong (missing, bad magic, truncated).
IdxArray read_idx(const std::string& path);

}  // namespace cfgan
