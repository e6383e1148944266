// Binary attribute labels in CelebA's format (list_attr_celeba.txt), which every program
// that takes --data reads beside an image folder:
//
//   202599                                   <- line 1: the number of images
//   5_o_Clock_Shadow Arched_Eyebrows ...     <- line 2: the K attribute names
//   000001.jpg -1  1  1 -1 ...               <- one line per image: bare file name, K values
//
// Values are 1 or -1, separated by runs of spaces; CRLF line ends are accepted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace cfgan {

struct AttributeTable {
  std::vector<std::string> names;  // K
  std::vector<std::string> files;  // N bare file names
  std::vector<int8_t> values;      // (N, K) row-major, each +1 or -1

  int64_t count() const { return static_cast<int64_t>(files.size()); }
  int64_t num_attributes() const { return static_cast<int64_t>(names.size()); }
  int8_t at(int64_t row, int64_t k) const { return values[row * num_attributes() + k]; }
  // Errors: "<context>: unknown attribute 'X' (known: A, B, ...)".
  int64_t index_of(const std::string& name, const std::string& context) const;
};

// Errors name the file and the line.
AttributeTable read_attribute_file(const std::string& path);
// Writes CelebA's layout to a temp file and renames it into place.
void write_attribute_file(const std::string& path, const AttributeTable& table);

// Labels each image of `data` (which must have file names) with its row of `table`,
// matched by bare file name; rows for images not in the set are ignored. Every image must
// have a row: the error names the first missing file and how many are missing.
void attach_attributes(ImageDataset& data, const AttributeTable& table, const std::string& source);

}  // namespace cfgan
