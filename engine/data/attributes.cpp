#include "engine/data/attributes.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "engine/error.h"

namespace cfgan {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

int64_t AttributeTable::index_of(const std::string& name, const std::string& context) const {
  std::string known;
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k] == name) return static_cast<int64_t>(k);
    known += (k ? ", " : "") + names[k];
  }
  fail(context, ": unknown attribute '", name, "' (known: ", known, ")");
}

AttributeTable read_attribute_file(const std::string& path) {
  std::ifstream in(path);
  CFGAN_CHECK(in, path, ": cannot open the attribute file");
  AttributeTable t;
  std::string line;
  int64_t line_number = 0;
  auto next_line = [&]() -> bool {
    if (!std::getline(in, line)) return false;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  CFGAN_CHECK(next_line(), path, ": empty file (expected an image count on line 1)");
  int64_t expected = -1;
  {
    const std::vector<std::string> w = words(line);
    char* end = nullptr;
    if (w.size() == 1) expected = std::strtoll(w[0].c_str(), &end, 10);
    CFGAN_CHECK(w.size() == 1 && end && *end == '\0' && expected >= 0, path, ":1: expected the number of images, got '",
                line, "'");
  }
  CFGAN_CHECK(next_line(), path, ": line 2 (the attribute names) is missing");
  t.names = words(line);
  CFGAN_CHECK(!t.names.empty(), path, ":2: expected the attribute names, got an empty line");
  std::unordered_set<std::string> seen_names;
  for (const std::string& n : t.names)
    CFGAN_CHECK(seen_names.insert(n).second, path, ":2: attribute '", n, "' appears twice");
  const size_t k = t.names.size();
  std::unordered_set<std::string> seen_files;
  while (next_line()) {
    const std::vector<std::string> w = words(line);
    if (w.empty()) continue;  // a trailing blank line
    CFGAN_CHECK(w.size() == k + 1, path, ":", line_number, ": expected a file name and ", k, " values, got ",
                w.size() - 1, " values");
    CFGAN_CHECK(seen_files.insert(w[0]).second, path, ":", line_number, ": file '", w[0], "' is listed twice");
    t.files.push_back(w[0]);
    for (size_t j = 1; j <= k; ++j) {
      CFGAN_CHECK(w[j] == "1" || w[j] == "-1", path, ":", line_number, ": value of ", t.names[j - 1], " for ", w[0],
                  " is '", w[j], "', expected 1 or -1");
      t.values.push_back(w[j] == "1" ? 1 : -1);
    }
  }
  CFGAN_CHECK(t.count() == expected, path, ": line 1 says ", expected, " images, the file lists ", t.count());
  return t;
}

void write_attribute_file(const std::string& path, const AttributeTable& table) {
  CFGAN_CHECK(static_cast<int64_t>(table.values.size()) == table.count() * table.num_attributes(), path,
              ": the table has ", table.values.size(), " values for ", table.count(), " images x ",
              table.num_attributes(), " attributes");
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    CFGAN_CHECK(out, tmp, ": cannot create");
    out << table.count() << "\n";
    for (size_t k = 0; k < table.names.size(); ++k) out << (k ? " " : "") << table.names[k];
    out << "\n";
    std::string row;
    for (int64_t i = 0; i < table.count(); ++i) {
      row = table.files[i];
      for (int64_t k = 0; k < table.num_attributes(); ++k) row += table.at(i, k) > 0 ? "  1" : " -1";
      out << row << "\n";
    }
    out.flush();
    CFGAN_CHECK(out, tmp, ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  CFGAN_CHECK(!ec, path, ": cannot move ", tmp, " into place (", ec.message(), ")");
}

void attach_attributes(ImageDataset& data, const AttributeTable& table, const std::string& source) {
  CFGAN_CHECK(static_cast<int64_t>(data.files.size()) == data.count, source, ": the images of ", data.source,
              " have no file names to match against");
  std::unordered_set<std::string> names;
  for (const std::string& f : data.files)
    CFGAN_CHECK(names.insert(f).second, source, ": two images of ", data.source, " are named '", f,
                "'; rows are matched by bare file name, so names must be unique across class folders");
  std::unordered_map<std::string, int64_t> row_of;
  for (int64_t i = 0; i < table.count(); ++i) row_of.emplace(table.files[i], i);
  const int64_t k = table.num_attributes();
  std::vector<int8_t> values(static_cast<size_t>(data.count * k));
  int64_t missing = 0;
  std::string first_missing;
  for (int64_t i = 0; i < data.count; ++i) {
    const auto it = row_of.find(data.files[i]);
    if (it == row_of.end()) {
      if (missing++ == 0) first_missing = data.files[i];
      continue;
    }
    std::copy_n(table.values.begin() + it->second * k, k, values.begin() + i * k);
  }
  CFGAN_CHECK(missing == 0, source, ": no line for image '", first_missing, "' of ", data.source, " (", missing,
              " of its ", data.count, " images are missing from the attribute file)");
  data.attribute_names = table.names;
  data.attributes = std::move(values);
}

}  // namespace cfgan
