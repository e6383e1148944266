#include "engine/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <memory>

#include "engine/error.h"

namespace cfgan {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly `bytes` or reports how many were there; `offset` and `whole` place a chunk
// in a larger read for the message.
void read_exact(gzFile f, void* dst, size_t bytes, const std::string& path, const char* what, size_t offset = 0,
                size_t whole = 0) {
  size_t done = 0;
  while (done < bytes) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes - done, 1u << 30));
    const int n = gzread(f, static_cast<char*>(dst) + done, chunk);
    if (n < 0) {
      int err = 0;
      fail(path, ": read error in ", what, " (", gzerror(f, &err), ")");
    }
    if (n == 0)
      fail(path, ": truncated: ", what, " needs ", whole ? whole : bytes, " bytes, the file ends after ",
           offset + done);
    done += static_cast<size_t>(n);
  }
}

constexpr uint64_t kMaxBytes = uint64_t{1} << 40, kChunk = uint64_t{1} << 20;

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  CFGAN_CHECK(file, path, ": cannot open (is the Debian package dataset-fashion-mnist installed?)");
  unsigned char magic[4];
  read_exact(file.get(), magic, 4, path, "the magic number");
  CFGAN_CHECK(magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 && magic[3] >= 1 && magic[3] <= 4, path,
              ": not an unsigned-byte IDX file (magic ", int(magic[0]), " ", int(magic[1]), " ", int(magic[2]), " ",
              int(magic[3]), ", expected 0 0 8 <ndim>)");
  IdxArray array;
  uint64_t total = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char extent[4];
    read_exact(file.get(), extent, 4, path, "the dimensions");
    const uint64_t n = big_endian(extent);
    array.dims.push_back(static_cast<int64_t>(n));
    CFGAN_CHECK(n == 0 || total <= kMaxBytes / n, path, ": the dimensions announce more than ", kMaxBytes,
                " bytes (corrupt header?)");
    total *= n;
  }
  // The header's count is not trusted with one allocation: the data comes in chunks, so a
  // file that announces more than it holds fails as truncated having allocated what it has.
  while (array.data.size() < total) {
    const size_t done = array.data.size(), chunk = static_cast<size_t>(std::min<uint64_t>(total - done, kChunk));
    array.data.resize(done + chunk);
    read_exact(file.get(), array.data.data() + done, chunk, path, "the data", done, total);
  }
  unsigned char extra;
  CFGAN_CHECK(gzread(file.get(), &extra, 1) == 0, path, ": has bytes after the ", total,
              " its header announces (wrong or corrupt file)");
  return array;
}

}  // namespace cfgan
