// What Debian's stb_image (2.27) trusts in a file and a damaged one can break, checked before
// stb decodes it: fuzz_image found each of these as a write or read out of bounds, or a
// gigabyte allocation, from a file of a few dozen bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cfgan {

// Throws an Error naming `path` and the damage; returns for every other file, valid or not
// (stb's own checks catch the rest).
void check_image_structure(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace cfgan
