// safetensors files (https://github.com/huggingface/safetensors format): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then raw little-endian data. PyTorch / HF tools open what cfgan writes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/nn/module.h"

namespace cfgan {

using Metadata = std::map<std::string, std::string>;

// A tensor of bytes (masks, flags) stored with dtype U8 beside the float ones.
struct ByteTensor {
  Shape shape;
  std::vector<uint8_t> data;  // shape.numel() bytes
};
using ByteTensors = std::map<std::string, ByteTensor>;

// Writes a temp file next to `path`, fsyncs it, then renames it over `path`: a crash
// leaves either the old file or the new one, never half of one.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {},
                      const ByteTensors& bytes = {});

struct SafetensorsFile {
  Metadata metadata;
  TensorMap tensors;  // F32 tensors, on the CPU
  ByteTensors bytes;  // U8 tensors
};

// `tensors` with every name prefixed, appended to `out`: several modules in one file.
void add_prefixed(NamedTensors& out, const std::string& prefix, const NamedTensors& tensors);

// metadata[key]; the error names the file and says which program writes such checkpoints.
const std::string& metadata_field(const Metadata& metadata, const std::string& key, const std::string& path,
                                  const std::string& writer);

// A float as metadata text, exact in both directions (%.9g round-trips float32), so that
// two settings compare as strings.
std::string float_text(float v);

// Validates everything it reads; errors name the file and the offending tensor.
// F32 and U8 tensors are accepted.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace cfgan
