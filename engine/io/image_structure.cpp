#include "engine/io/image_structure.h"

#include <algorithm>
#include <cstddef>

#include "engine/error.h"

namespace cfgan {
namespace {

// A JPEG's Huffman tables as stb uses them, walking the markers as stb does (fill bytes,
// tables read until a segment's length is used up, markers inside scan data). stb copies a
// table's declared symbols into arrays of 256 without checking the count (a damaged file
// declares up to 4,080), and decodes a scan with any table it names, defined or not (an
// undefined one is uninitialized memory). Returns what is wrong, or nullptr.
const char* jpeg_table_damage(const std::vector<uint8_t>& b) {
  const auto at = [&](size_t i) -> unsigned { return i < b.size() ? b[i] : 0; };  // stb reads 0 past the end
  bool progressive = false;
  unsigned defined = 0;  // bit 4 * class + id: a DHT segment has defined that table
  for (size_t i = 0; i + 1 < b.size();) {
    if (b[i] != 0xFF) {
      ++i;  // scan data, or bytes stb skips looking for a marker
      continue;
    }
    const unsigned marker = b[i + 1];
    if (marker == 0xD9) return nullptr;  // end of image: stb reads no further
    if (marker == 0xFF) {
      ++i;  // a fill byte
      continue;
    }
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      i += 2;  // stuffed zero, TEM, restart or start of image: no length field
      continue;
    }
    const size_t length = (at(i + 2) << 8) | at(i + 3);
    if (marker == 0xC2) progressive = true;
    if (marker == 0xC4) {
      size_t t = i + 4;
      for (ptrdiff_t left = static_cast<ptrdiff_t>(length) - 2; left > 0;) {
        size_t symbols = 0;
        for (size_t k = 1; k <= 16; ++k) symbols += at(t + k);
        if (symbols > 256) return "a Huffman table declares more than 256 symbols";
        if (at(t) >> 4 <= 1 && (at(t) & 15) <= 3) defined |= 1u << (4 * (at(t) >> 4) + (at(t) & 15));
        t += 17 + symbols;
        left -= static_cast<ptrdiff_t>(17 + symbols);
      }
    }
    if (marker == 0xDA) {
      // Which tables the scan decodes with: both in a sequential JPEG; in a progressive one
      // the DC table in a first DC scan, the AC table in an AC scan, none in a DC refinement.
      const size_t components = at(i + 4), spectral_start = at(i + 5 + 2 * components);
      const bool first_pass = at(i + 7 + 2 * components) >> 4 == 0;
      const bool uses_dc = !progressive || (spectral_start == 0 && first_pass);
      const bool uses_ac = !progressive || spectral_start > 0;
      for (size_t c = 0; c < components; ++c) {
        const unsigned tables = at(i + 6 + 2 * c), dc = tables >> 4, ac = tables & 15;
        if ((uses_dc && (dc > 3 || !(defined >> dc & 1))) || (uses_ac && (ac > 3 || !(defined >> (4 + ac) & 1))))
          return "a scan decodes with a Huffman table that was never defined";
      }
    }
    i += 2 + length;
  }
  return nullptr;
}

// stb reallocates a PNG's data buffer to a chunk's declared length before reading it, so a
// 100-byte file declaring a 2 GiB IDAT chunk allocates 2 GiB. Each chunk up to IEND (where
// stb stops) must fit in the file; stb then never holds more than twice the file.
bool png_chunks_fit(const std::vector<uint8_t>& b) {
  for (size_t i = 8; i + 8 <= b.size();) {
    const size_t length = size_t{b[i]} << 24 | size_t{b[i + 1]} << 16 | size_t{b[i + 2]} << 8 | b[i + 3];
    if (length > b.size() - i - 8 || b.size() - i - 8 - length < 4) return false;  // data, then a CRC
    if (std::equal(b.begin() + i + 4, b.begin() + i + 8, "IEND")) return true;
    i += 12 + length;
  }
  return true;
}

}  // namespace

void check_image_structure(const std::string& path, const std::vector<uint8_t>& bytes) {
  // stb takes a file for a JPEG when it starts with 0xFF, any fill bytes, then 0xD8.
  if (!bytes.empty() && bytes[0] == 0xFF) {
    const char* damage = jpeg_table_damage(bytes);
    CFGAN_CHECK(!damage, path, ": damaged JPEG (", damage, ")");
  }
  static constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() >= 8 && std::equal(kPngSignature, kPngSignature + 8, bytes.begin()))
    CFGAN_CHECK(png_chunks_fit(bytes), path, ": damaged PNG (a chunk declares more bytes than the file holds)");
}

}  // namespace cfgan
