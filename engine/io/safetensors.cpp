#include "engine/io/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "engine/error.h"

namespace cfgan {
namespace {

void write_all(int fd, const void* data, size_t bytes, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0) fail(path, ": write failed: ", std::strerror(errno));
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void add_prefixed(NamedTensors& out, const std::string& prefix, const NamedTensors& tensors) {
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
}

const std::string& metadata_field(const Metadata& metadata, const std::string& key, const std::string& path,
                                  const std::string& writer) {
  const auto it = metadata.find(key);
  CFGAN_CHECK(it != metadata.end(), path, ": checkpoint metadata lacks '", key, "' (not a ", writer, " checkpoint?)");
  return it->second;
}

std::string float_text(float v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata,
                      const ByteTensors& bytes) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    CFGAN_CHECK(names.insert(name).second, path, ": tensor name '", name, "' appears twice");
    const uint64_t size = sizeof(float) * static_cast<uint64_t>(t.numel());
    header[name] = {{"dtype", "F32"},
                    {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  for (const auto& [name, t] : bytes) {
    CFGAN_CHECK(names.insert(name).second, path, ": tensor name '", name, "' appears twice");
    CFGAN_CHECK(static_cast<int64_t>(t.data.size()) == t.shape.numel(), path, ": byte tensor '", name, "' holds ",
                t.data.size(), " bytes, shape ", t.shape.str(), " needs ", t.shape.numel());
    header[name] = {{"dtype", "U8"},
                    {"shape", std::vector<int64_t>(t.shape.begin(), t.shape.end())},
                    {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  const uint64_t header_len = text.size();

  const std::filesystem::path target(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(path, ": cannot create ", tmp, ": ", std::strerror(errno));
  try {
    unsigned char len_le[8];
    for (int i = 0; i < 8; ++i) len_le[i] = static_cast<unsigned char>(header_len >> (8 * i));
    write_all(fd, len_le, 8, tmp);
    write_all(fd, text.data(), text.size(), tmp);
    for (const auto& [name, t] : tensors) {
      const std::vector<float> values = t.to_host();
      write_all(fd, values.data(), sizeof(float) * values.size(), tmp);
    }
    for (const auto& [name, t] : bytes) write_all(fd, t.data.data(), t.data.size(), tmp);
    if (::fsync(fd) != 0) fail(tmp, ": fsync failed: ", std::strerror(errno));
  } catch (...) {
    ::close(fd);
    std::remove(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path, ": cannot rename ", tmp, " into place: ", std::strerror(errno));
  }
  fsync_directory(target.parent_path());
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CFGAN_CHECK(in, path, ": cannot open checkpoint file");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  CFGAN_CHECK(file_size >= 8, path, ": file is ", file_size, " bytes, too short for a safetensors header");
  unsigned char len_le[8];
  in.read(reinterpret_cast<char*>(len_le), 8);
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(len_le[i]) << (8 * i);
  CFGAN_CHECK(header_len <= file_size - 8, path, ": header length ", header_len, " exceeds the file size ", file_size,
              " (truncated or not a safetensors file)");
  std::string text(header_len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": header is not valid JSON (", e.what(), ")");
  }
  CFGAN_CHECK(header.is_object(), path, ": header is not a JSON object");
  const uint64_t data_size = file_size - 8 - header_len;
  std::vector<char> data(data_size);
  in.read(data.data(), static_cast<std::streamsize>(data_size));
  CFGAN_CHECK(in, path, ": could not read ", data_size, " data bytes");

  SafetensorsFile file;
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // each tensor's [begin, end) in the data section
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      CFGAN_CHECK(entry.is_object(), path, ": __metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        CFGAN_CHECK(value.is_string(), path, ": metadata '", key, "' is not a string");
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const bool well_formed = entry.is_object() && entry.contains("dtype") && entry["dtype"].is_string() &&
                             entry.contains("shape") && entry["shape"].is_array() && entry.contains("data_offsets") &&
                             entry["data_offsets"].is_array() && entry["data_offsets"].size() == 2;
    CFGAN_CHECK(well_formed, path, ": tensor '", name, "' lacks dtype, shape or data_offsets");
    const std::string dtype = entry["dtype"].get<std::string>();
    CFGAN_CHECK(dtype == "F32" || dtype == "U8", path, ": tensor '", name, "' has dtype ", dtype,
                ", expected F32 or U8");
    Shape shape;
    for (const auto& extent : entry["shape"]) {
      CFGAN_CHECK(extent.is_number_integer() && extent.get<int64_t>() >= 0, path, ": tensor '", name,
                  "' has an invalid shape ", entry["shape"].dump());
      shape.push_back(extent.get<int64_t>());
    }
    const auto& offsets = entry["data_offsets"];
    CFGAN_CHECK(offsets[0].is_number_unsigned() && offsets[1].is_number_unsigned(), path, ": tensor '", name,
                "' has invalid data_offsets ", offsets.dump());
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    const uint64_t expected = (dtype == "F32" ? sizeof(float) : 1) * static_cast<uint64_t>(shape.numel());
    CFGAN_CHECK(begin <= end && end - begin == expected, path, ": tensor '", name, "' data_offsets ", offsets.dump(),
                " hold ", end - begin, " bytes, shape ", shape.str(), " needs ", expected);
    CFGAN_CHECK(end <= data_size, path, ": tensor '", name, "' ends at byte ", end, " but the data section has ",
                data_size, " bytes (truncated file?)");
    spans.emplace_back(begin, end);
    if (dtype == "U8") {
      file.bytes[name] = {shape, std::vector<uint8_t>(data.begin() + begin, data.begin() + end)};
      continue;
    }
    std::vector<float> values(static_cast<size_t>(shape.numel()));
    if (expected > 0)
      std::memcpy(values.data(), data.data() + begin, expected);  // an empty vector's data() may be null
    file.tensors[name] = Tensor::from_host(shape, values);
  }
  // The tensors must tile the data section exactly, as the format requires: a header length
  // that is off by a few bytes otherwise shifts every tensor and still "loads".
  std::sort(spans.begin(), spans.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : spans) {
    CFGAN_CHECK(begin == covered, path, ": the tensors do not tile the data section (",
                begin > covered ? "a gap" : "an overlap", " at byte ", std::min(begin, covered),
                "); the header length or the data_offsets are wrong");
    covered = end;
  }
  CFGAN_CHECK(covered == data_size, path, ": the data section has ", data_size, " bytes but the tensors cover ",
              covered, "; the header length or the file size is wrong");
  return file;
}

}  // namespace cfgan
